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
  /** Bytes written since the last `reset`. */
  pos = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Starts over (the bytes of the previous text are overwritten by the next). */
  reset(): void {
    this.pos = 0;
  }

  /** The bytes written since `reset`: a view that the next write may overwrite. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** The bytes written since `start`, copied into a buffer of their own. */
  copyFrom(start: number): Buffer {
    return Buffer.from(this.buf.subarray(start, this.pos));
  }

  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
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

  /** Any text, UTF-8 encoded. */
  text(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A number as `JSON.stringify` writes it. */
  number(n: number): void {
    if (Number.isSafeInteger(n)) this.integer(n);
    else this.decimal(n);
  }

  /** A safe integer (−0 is written `0`, as `String(-0)` does). */
  integer(n: number): void {
    this.room(17);
    const buf = this.buf;
    let pos = this.pos;
    if (n < 0) {
      buf[pos++] = 0x2d; // -
      n = -n;
    }
    if (n < 0x80000000) pos = writeUint31(buf, pos, n);
    else {
      // µs times (16 digits): two int32 halves, so the digits come from integer division
      let hi = Math.floor(n / 1e8);
      let lo = n - hi * 1e8;
      if (lo < 0) {
        hi--; // never for a safe integer (n / 1e8 is exact enough), but cheap to be sure
        lo += 1e8;
      }
      pos = writeUint31(buf, pos, hi);
      pos = writePadded(buf, pos, lo, 8);
    }
    this.pos = pos;
  }

  /**
   * A number with at most 6 decimals, written from the integer k = n × 10⁶ without `String(n)`'s
   * search for the shortest digits. When k / 10⁶ is n and |n| < 4·10⁹, the decimal k / 10⁶ is that
   * shortest text: n is the double nearest to it, and every other decimal with as few digits is a
   * multiple of 10⁻⁶ away, more than n's ULP (< 10⁻⁶). Anything else goes through `String`.
   */
  decimal(n: number): void {
    const k = Math.round(n * 1e6);
    if (k / 1e6 !== n || !(Math.abs(n) < 4e9)) {
      this.ascii(Number.isFinite(n) ? String(n) : 'null');
      return;
    }
    this.room(24);
    const buf = this.buf;
    let pos = this.pos;
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
    this.pos = pos;
  }
}

/** 0 ≤ n < 2³¹ in decimal at `pos`, integer arithmetic only; returns the position after it. */
function writeUint31(buf: Buffer, pos: number, n: number): number {
  let v = n | 0;
  let count = 1;
  for (let p = 10; p <= v && count < 10; p *= 10) count++;
  return writePadded(buf, pos, v, count);
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
