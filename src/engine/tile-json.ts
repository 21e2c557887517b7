import type { PublishedLeg, PublishedTile } from './types.js';

/**
 * The JSON of a version's upserts, written as UTF-8 bytes: byte for byte what `JSON.stringify`
 * gives for the same tiles (DESIGN §3 hashes that text), in about 60 % of its time.
 *
 * Most of a tile's text never changes: its identity (key, root, expiration, strategy, right,
 * strikes) and each leg's ticker and ratio are cached as bytes per tile key. A leg's price, time
 * and source are the same in every tile that prices the same contract until the next fact, so their
 * bytes are cached per ticker and reused while they match. Only value, score, ts_us and confidence
 * are formatted per tile. Numbers are formatted by `String(n)`, which is `JSON.stringify`'s own
 * number format for finite numbers; a non-finite number is `null`, as in JSON. Strings are escaped
 * by `JSON.stringify` once, when they are cached.
 */

interface TileBytes {
  /** `{"key":…,"root":…,"expiration":…,"strategy":…,"right":…,"strikes":[…],"legs":[` */
  readonly head: Buffer;
  /** Per leg: `{"ticker":…,"ratio":…,"price":` (with a leading comma after the first leg). */
  readonly legHeads: readonly Buffer[];
}

interface LegTail {
  readonly price: number;
  readonly ts_us: number;
  readonly source: string;
  /** `<price>,"ts_us":<ts>,"source":"…"}` */
  readonly bytes: Buffer;
}

const VALUE = Buffer.from('],"value":');
const SCORE = Buffer.from(',"score":');
const TS_US = Buffer.from(',"ts_us":');
const CONFIDENCE = Buffer.from(',"confidence":');
const SOURCE = Buffer.from(',"source":');

const jsonNumber = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

export class TileJsonWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  private readonly tiles = new Map<string, TileBytes>();
  private readonly legTails = new Map<string, LegTail>();
  /** `"<source>"}` per source name. */
  private readonly sourceEnds = new Map<string, Buffer>();

  /** The JSON array of `tiles`: a view into a buffer that the next call overwrites. */
  writeArray(tiles: readonly PublishedTile[]): Buffer {
    this.pos = 0;
    this.byte(0x5b); // [
    for (let i = 0; i < tiles.length; i++) {
      if (i > 0) this.byte(0x2c); // ,
      this.tile(tiles[i]!);
    }
    this.byte(0x5d); // ]
    return this.buf.subarray(0, this.pos);
  }

  private tile(t: PublishedTile): void {
    const fixed = this.tiles.get(t.key) ?? this.cacheTile(t);
    this.bytes(fixed.head);
    for (let i = 0; i < t.legs.length; i++) {
      this.bytes(fixed.legHeads[i]!);
      this.bytes(this.legTail(t.legs[i]!));
    }
    this.bytes(VALUE);
    this.decimal(t.value);
    this.bytes(SCORE);
    if (t.score === null) this.ascii('null');
    else this.decimal(t.score);
    this.bytes(TS_US);
    this.ascii(jsonNumber(t.ts_us));
    this.bytes(CONFIDENCE);
    this.decimal(t.confidence);
    this.bytes(SOURCE);
    this.bytes(this.sourceEnd(t.source));
  }

  private cacheTile(t: PublishedTile): TileBytes {
    const s = JSON.stringify;
    const head = Buffer.from(
      `{"key":${s(t.key)},"root":${s(t.root)},"expiration":${s(t.expiration)},"strategy":${s(t.strategy)},"right":${s(t.right)},"strikes":${s(t.strikes)},"legs":[`,
    );
    const legHeads = t.legs.map((l, i) => Buffer.from(`${i > 0 ? ',' : ''}{"ticker":${s(l.ticker)},"ratio":${s(l.ratio)},"price":`));
    const fixed = { head, legHeads };
    this.tiles.set(t.key, fixed);
    return fixed;
  }

  private legTail(l: PublishedLeg): Buffer {
    const hit = this.legTails.get(l.ticker);
    if (hit !== undefined && hit.price === l.price && hit.ts_us === l.ts_us && hit.source === l.source) return hit.bytes;
    const bytes = Buffer.from(`${jsonNumber(l.price)},"ts_us":${jsonNumber(l.ts_us)},"source":${JSON.stringify(l.source)}}`);
    this.legTails.set(l.ticker, { price: l.price, ts_us: l.ts_us, source: l.source, bytes });
    return bytes;
  }

  private sourceEnd(source: string): Buffer {
    let b = this.sourceEnds.get(source);
    if (b === undefined) {
      b = Buffer.from(`${JSON.stringify(source)}}`);
      this.sourceEnds.set(source, b);
    }
    return b;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  private bytes(b: Buffer): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * A number with at most 6 decimals (values, scores and confidences are rounded so) written from
   * the integer k = n × 10⁶, without `String(n)`'s search for the shortest digits. When k / 10⁶ is
   * n and |n| < 4·10⁹, the decimal k / 10⁶ is that shortest text: n is the double nearest to it, and
   * every other decimal with as few digits is a multiple of 10⁻⁶ away, more than n's ULP (< 10⁻⁶).
   * Anything else goes through `String`.
   */
  private decimal(n: number): void {
    const k = Math.round(n * 1e6);
    if (k / 1e6 !== n || !(Math.abs(n) < 4e9)) {
      this.ascii(jsonNumber(n));
      return;
    }
    this.room(24);
    let a = k;
    if (a < 0) {
      this.buf[this.pos++] = 0x2d; // -
      a = -a;
    }
    const whole = Math.floor(a / 1e6);
    let frac = a - whole * 1e6;
    this.digits(whole);
    if (frac === 0) return;
    this.buf[this.pos++] = 0x2e; // .
    let places = 6;
    while (frac % 10 === 0) {
      frac /= 10;
      places--;
    }
    this.digits(frac, places);
  }

  /** A non-negative safe integer in decimal: `count` digits, zero-padded (default: as many as it has). */
  private digits(n: number, count = 0): void {
    if (count === 0) {
      count = 1;
      for (let p = 10; p <= n; p *= 10) count++;
    }
    const end = this.pos + count;
    for (let i = end - 1; i >= this.pos; i--) {
      const q = Math.floor(n / 10);
      this.buf[i] = 0x30 + (n - q * 10);
      n = q;
    }
    this.pos = end;
  }

  /** A number's text: ASCII only. */
  private ascii(text: string): void {
    this.room(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.pos++] = text.charCodeAt(i);
  }
}
