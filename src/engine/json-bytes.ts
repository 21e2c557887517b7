/**
 * A reusable UTF-8 byte buffer for writing JSON text without building strings: the publishers'
 * serializers (format 1 upserts, format 2 rows and marks) write a version's JSON into one of these
 * and hash it there.
 *
 * Numbers are written exactly as `JSON.stringify` writes them (`String(n)`, `null` when not
 * finite), without `String(n)` where a faster route gives the same digits: safe integers (times in
 * µs) digit by digit, and numbers with at most 6 decimals (values, scores, confidences, most
 * prices) from the integer n × 10⁶ (see `putNumber`). A property test holds this to `JSON.stringify`.
 */
export class ByteWriter {
  private buf: Buffer;
  /** Where the current text starts: bytes before it were handed out by `keep` (never written again). */
  private start = 0;
  /** Where the next byte goes. */
  private pos = 0;

  constructor(private readonly initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Bytes written since the last `reset` or `keep`. */
  get length(): number {
    return this.pos - this.start;
  }

  /** Starts the current text over (its bytes are overwritten by the next). */
  reset(): void {
    this.pos = this.start;
  }

  /** The current text: a view that the next write after a `reset` may overwrite. */
  view(): Buffer {
    return this.buf.subarray(this.start, this.pos);
  }

  /**
   * The current text as bytes of its own, never written again: the next text goes after them, in
   * the same allocation while it has room (many version lines share one allocation, no copy).
   */
  keep(): Buffer {
    const b = this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    return b;
  }

  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.initialBytes, 2 * (used + n)));
    this.buf.copy(bigger, 0, this.start, this.pos);
    this.buf = bigger;
    this.start = 0;
    this.pos = used;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.room(1);
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** ASCII text (numbers, punctuation): one byte per character. */
  ascii(text: string): void {
    this.room(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.pos++] = text.charCodeAt(i);
  }

  /** Leaves `n` bytes to be filled in later (`asciiAt`). */
  skip(n: number): void {
    this.room(n);
    this.pos += n;
  }

  /** ASCII text over bytes of the current text already written (or skipped), `at` bytes into it. */
  asciiAt(at: number, text: string): void {
    const o = this.start + at;
    for (let i = 0; i < text.length; i++) this.buf[o + i] = text.charCodeAt(i);
  }

  /** Any text, UTF-8 encoded. */
  text(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A number as `JSON.stringify` writes it (`putNumber`). */
  number(n: number): void {
    this.room(NUMBER_MAX);
    this.pos = putNumber(this.buf, this.pos, n);
  }

  /**
   * For writers of many small pieces in a row (format 2 rows): room for `n` more bytes, then the
   * buffer to write them into directly from `cursor` on; set `cursor` after them. Nothing else may
   * be written in between.
   */
  open(n: number): Buffer {
    this.room(n);
    return this.buf;
  }

  /** Where the next byte goes in the buffer `open` returned. */
  get cursor(): number {
    return this.pos;
  }
  set cursor(pos: number) {
    this.pos = pos;
  }
}

/** The most bytes `putNumber` writes (`String(n)` of a double is at most 24 characters). */
export const NUMBER_MAX = 25;

/**
 * Writes a number at `pos` as `JSON.stringify` writes it (`null` when not finite) and returns the
 * position after it; `buf` must have `NUMBER_MAX` bytes of room.
 *
 * Numbers with at most 6 decimals (values, scores, confidences, prices, strikes) are written from
 * the integer k = n × 10⁶ without `String(n)`'s search for the shortest digits. When k / 10⁶ is n
 * and |n| < 4·10⁹, the decimal k / 10⁶ is that shortest text: n is the double nearest to it, and
 * every other decimal with as few digits is a multiple of 10⁻⁶ away, more than n's ULP (< 10⁻⁶).
 * The whole part is written two digits at a time, the fraction as all six digits, its length cut
 * after the last nonzero digit. Other safe integers (µs times) go to `putInteger`, anything else through
 * `String`.
 */
export function putNumber(buf: Buffer, pos: number, n: number): number {
  SCRATCH[0] = n;
  return putNumberAt(buf, pos, SCRATCH, 0);
}

const SCRATCH = new Float64Array(1);

/**
 * `putNumber` of `src[i]`. The hot callers (a version's rows) pass the row array and an index: a
 * double passed to a function that is not inlined is boxed into a new heap number, three per row,
 * which the young generation then has to collect; an array and a small integer are not.
 */
export function putNumberAt(buf: Buffer, pos: number, src: Float64Array, i: number): number {
  const n = src[i]!;
  const k = Math.round(n * 1e6);
  if (k / 1e6 !== n || !(Math.abs(n) < DECIMAL_MAX)) {
    if (Number.isSafeInteger(n)) return putInteger(buf, pos, n);
    return pos + buf.write(Number.isFinite(n) ? String(n) : 'null', pos, 'latin1');
  }
  let a = k;
  if (a < 0) {
    buf[pos++] = 0x2d; // -
    a = -a;
  }
  // n is k / 10⁶ exactly (checked above), so |n| is a / 10⁶: its floor needs no second division
  const whole = Math.floor(n < 0 ? -n : n);
  const frac = (a - whole * 1e6) | 0; // an integer < 10⁶: the divisions below are integer ones
  pos = whole < 0x80000000 ? writeUint31(buf, pos, whole) : putInteger(buf, pos, whole);
  if (frac !== 0) {
    buf[pos] = 0x2e; // .
    const hi = (frac / 10000) | 0;
    const rest = frac - hi * 10000;
    const mid = (rest / 100) | 0;
    const lo = rest - mid * 100;
    buf[pos + 1] = PAIRS[2 * hi]!;
    buf[pos + 2] = PAIRS[2 * hi + 1]!;
    buf[pos + 3] = PAIRS[2 * mid]!;
    buf[pos + 4] = PAIRS[2 * mid + 1]!;
    buf[pos + 5] = PAIRS[2 * lo]!;
    buf[pos + 6] = PAIRS[2 * lo + 1]!;
    // no trailing zeros: the last nonzero pair decides (frac ≠ 0, so there is one)
    pos += lo !== 0 ? 7 - TENS[lo]! : mid !== 0 ? 5 - TENS[mid]! : 3 - TENS[hi]!;
  }
  return pos;
}

/** A safe integer at `pos` (−0 is written `0`, as `String(-0)` does); returns the position after it. */
export function putInteger(buf: Buffer, pos: number, n: number): number {
  if (n < 0) {
    buf[pos++] = 0x2d; // -
    n = -n;
  }
  if (n < 0x80000000) return writeUint31(buf, pos, n);
  // µs times (16 digits): two int32 halves, so the digits come from integer division
  let hi = Math.floor(n / 1e8);
  let lo = n - hi * 1e8;
  if (lo < 0) {
    hi--; // never for a safe integer (n / 1e8 is exact enough), but cheap to be sure
    lo += 1e8;
  }
  pos = writeUint31(buf, pos, hi);
  return writePadded(buf, pos, lo, 8);
}

/** `putNumber` writes numbers with at most 6 decimals from n × 10⁶ below this (see its proof). */
const DECIMAL_MAX = 4e9;

/** The two ASCII digits of 0 … 99, at 2i and 2i + 1. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + ((i / 10) | 0);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** 1 when 0 < i < 100 ends in a 0 (a pair whose second digit is a trailing zero), else 0. */
const TENS = new Uint8Array(100);
for (let i = 10; i < 100; i += 10) TENS[i] = 1;

/** 0 ≤ n < 2³¹ in decimal at `pos`, integer arithmetic only; returns the position after it. */
function writeUint31(buf: Buffer, pos: number, n: number): number {
  let v = n | 0;
  if (v < 10) {
    buf[pos] = 0x30 + v;
    return pos + 1;
  }
  let count = 2;
  for (let p = 100; p <= v && count < 10; p *= 10) count++;
  const end = pos + count;
  let i = end;
  while (v >= 100) {
    const q = (v / 100) | 0;
    const r = v - q * 100;
    buf[--i] = PAIRS[2 * r + 1]!;
    buf[--i] = PAIRS[2 * r]!;
    v = q;
  }
  if (v >= 10) {
    buf[--i] = PAIRS[2 * v + 1]!;
    buf[--i] = PAIRS[2 * v]!;
  } else buf[--i] = 0x30 + v;
  return end;
}

/** 0 ≤ n < 10^count (count ≤ 9) in exactly `count` digits, zero-padded; returns the position after them. */
function writePadded(buf: Buffer, pos: number, n: number, count: number): number {
  let v = n | 0;
  const end = pos + count;
  for (let i = end - 1; i >= pos; i--) {
    const q = (v / 10) | 0;
    buf[i] = 0x30 + v - q * 10;
    v = q;
  }
  return end;
}
