/**
 * A reusable UTF-8 byte buffer for writing JSON text without building strings: the publishers'
 * serializers (format 1 upserts, format 2 rows and marks) write a version's JSON into one of these,
 * hash it and copy it out once.
 *
 * Numbers are written exactly as `JSON.stringify` writes them (`String(n)`, `null` when not
 * finite), without `String(n)` where a faster route gives the same digits: safe integers (times in
 * µs) digit by digit, and numbers with at most 6 decimals (values, scores, confidences, most
 * prices) from the integer n × 10⁶ (see `decimal`). A property test holds this to `JSON.stringify`.
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
 * position after it; `buf` must have `NUMBER_MAX` bytes of room. The common case first: |n| < 2³¹
 * with at most 6 decimals (values, scores, confidences, prices, strikes), as in `putDecimal` from
 * k = n × 10⁶, but two digits at a time and the fraction's trailing zeros dropped after writing
 * all six. The rest as `putInteger` (µs times) or `putDecimal`.
 */
export function putNumber(buf: Buffer, pos: number, n: number): number {
  const k = Math.round(n * 1e6);
  if (k / 1e6 !== n || !(Math.abs(n) < SMALL)) return Number.isSafeInteger(n) ? putInteger(buf, pos, n) : putDecimal(buf, pos, n);
  let a = k;
  if (a < 0) {
    buf[pos++] = 0x2d; // -
    a = -a;
  }
  const whole = (a / 1e6) | 0;
  const frac = a - whole * 1e6; // an integer < 10⁶
  pos = writeUint31(buf, pos, whole);
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
    pos += 7;
    while (buf[pos - 1] === 0x30) pos--; // no trailing zeros (frac ≠ 0: a digit before them is not 0)
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

/**
 * A number with at most 6 decimals, written from the integer k = n × 10⁶ without `String(n)`'s
 * search for the shortest digits. When k / 10⁶ is n and |n| < 4·10⁹, the decimal k / 10⁶ is that
 * shortest text: n is the double nearest to it, and every other decimal with as few digits is a
 * multiple of 10⁻⁶ away, more than n's ULP (< 10⁻⁶). Anything else goes through `String`.
 */
function putDecimal(buf: Buffer, pos: number, n: number): number {
  const k = Math.round(n * 1e6);
  if (k / 1e6 !== n || !(Math.abs(n) < 4e9)) return pos + buf.write(Number.isFinite(n) ? String(n) : 'null', pos, 'latin1');
  let a = k;
  if (a < 0) {
    buf[pos++] = 0x2d; // -
    a = -a;
  }
  const whole = Math.floor(a / 1e6);
  let frac = a - whole * 1e6; // an integer < 10⁶
  if (whole < 0x80000000) pos = writeUint31(buf, pos, whole);
  else {
    const hi = Math.floor(whole / 1e8);
    pos = writeUint31(buf, pos, hi);
    pos = writePadded(buf, pos, whole - hi * 1e8, 8);
  }
  if (frac !== 0) {
    buf[pos++] = 0x2e; // .
    let places = 6;
    for (let q = (frac / 10) | 0; frac === q * 10; q = (frac / 10) | 0) {
      frac = q; // no trailing zeros
      places--;
    }
    pos = writePadded(buf, pos, frac, places);
  }
  return pos;
}

/** `number`'s fast path takes |n| below this: the whole part fits `writeUint31` (and `decimal`'s proof holds below 4·10⁹). */
const SMALL = 0x80000000;

/** The two ASCII digits of 0 … 99, at 2i and 2i + 1. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + ((i / 10) | 0);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

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
