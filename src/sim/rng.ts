/**
 * A small seeded PRNG for the simulator: sfc32 (Chris Doty-Humphrey's Small Fast Counting
 * generator, 128-bit state, passes PractRand to 2^50+ bytes) seeded through splitmix32.
 *
 * Why not `Math.random()`: the simulator must be reproducible byte for byte from its seed, and on
 * every platform. Everything here is 32-bit integer arithmetic (`Math.imul`, `>>>`) plus a few
 * IEEE-754 operations that are exactly specified (`Math.log`, `Math.sqrt`, `Math.cos` are not
 * bit-exact across engines in theory, but V8 uses the same fdlibm ports on every platform).
 */

/** One 32-bit splitmix step: a well-mixed word from a counter (used only for seeding). */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a of a label, so each simulator component gets its own independent stream. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** A seeded random stream: uniform, normal, exponential, Poisson draws. Not thread-safe, not shared. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Second value of the last Box–Muller pair (deterministic: part of the stream's state). */
  private spare: number | undefined;

  /** Seeds from a 32-bit seed (any safe integer is folded to 32 bits) and an optional stream label. */
  constructor(seed: number, label = '') {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let s = (lo ^ Math.imul(hi, 0x9e3779b1) ^ hashLabel(label)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      return splitmix32(s);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1; // the counter word; any value works, odd avoids an all-zero state
    // Discard the first outputs: sfc32's authors recommend 12+ rounds after seeding.
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** The next raw 32-bit output (unsigned). */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 bits of resolution. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^32 (multiply-shift: bias below 2^-32, irrelevant here). */
  int(n: number): number {
    return Math.floor((this.nextU32() / TWO_POW_32) * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  intBetween(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** Standard normal (Box–Muller; the pair's second value is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    // 1 - u lies in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Exponential with the given mean (inter-arrival times of a Poisson process of rate 1/mean). */
  exponential(mean: number): number {
    return -Math.log(1 - this.uniform()) * mean;
  }

  /**
   * Poisson-distributed count with mean `lambda` (Knuth's product method, applied in chunks of at
   * most 20 so `exp(-lambda)` never underflows; O(lambda) — fine for the small rates used here).
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    let count = 0;
    let left = lambda;
    while (left > 0) {
      const chunk = Math.min(left, 20);
      left -= chunk;
      const limit = Math.exp(-chunk);
      let p = this.uniform();
      while (p > limit) {
        count++;
        p *= this.uniform();
      }
    }
    return count;
  }

  /** 32 lowercase hex digits (request ids). */
  hex32(): string {
    let s = '';
    for (let i = 0; i < 4; i++) s += this.nextU32().toString(16).padStart(8, '0');
    return s;
  }
}

/** An independent stream for one simulator component (`'spot'`, `'trades'`, `'chain'`…) of a seed. */
export function deriveRng(seed: number, label: string): Rng {
  return new Rng(seed, label);
}
