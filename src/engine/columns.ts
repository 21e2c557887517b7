/**
 * Growable typed-array columns: the engine keeps per-slot and per-ticker state in typed arrays
 * indexed by a dense id (no object per tile per recompute, no string-keyed lookups on the hot
 * path). Ids only grow, so a column only ever needs to get longer.
 */

type Column = Float64Array | Int32Array | Uint8Array | Uint32Array;

/** `a` if it holds `need` entries, else a copy at least twice as long (new entries are 0). */
export function grown<T extends Column>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2, 16));
  b.set(a);
  return b;
}

/**
 * Bump allocation of the versions' upsert rows from shared slabs: one large allocation per many
 * versions instead of one per version (each of those cost an ArrayBuffer, its
 * zeroing or page faults, and GC bookkeeping). A piece is a view that nothing else ever shares; a
 * slab is freed by the GC once no piece of it is referenced. Pieces larger than a quarter slab get
 * an allocation of their own.
 */
export class Float64Slab {
  private slab = new Float64Array(0);
  private pos = 0;

  constructor(private readonly size = 1 << 17) {}

  /** A zero-filled array of `n` numbers. */
  take(n: number): Float64Array {
    if (n > this.size >> 2) return new Float64Array(n);
    if (this.pos + n > this.slab.length) {
      this.slab = new Float64Array(this.size);
      this.pos = 0;
    }
    const a = this.slab.subarray(this.pos, this.pos + n);
    this.pos += n;
    return a;
  }
}

/**
 * A list of small non-negative integers (slot numbers) that is emptied and refilled over and over:
 * its room is kept. (Emptying a JS array with `length = 0` gives its backing store back, so the
 * next fills regrow it from nothing, allocating at every step.)
 */
export class IntList {
  private items = new Int32Array(64);
  length = 0;

  push(x: number): void {
    if (this.length === this.items.length) this.items = grown(this.items, this.length + 1);
    this.items[this.length++] = x;
  }

  /** Item `i` (0 ≤ i < length). */
  at(i: number): number {
    return this.items[i]!;
  }

  clear(): void {
    this.length = 0;
  }
}
