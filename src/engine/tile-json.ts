import { ByteWriter } from './json-bytes.js';
import type { PublishedLeg, PublishedTile } from './types.js';

/**
 * The JSON of a version's upserts, written as UTF-8 bytes: byte for byte what `JSON.stringify`
 * gives for the same tiles (DESIGN §3 hashes that text), in about 60 % of its time.
 *
 * Most of a tile's text never changes: its identity (key, root, expiration, strategy, right,
 * strikes) and each leg's ticker and ratio are cached as bytes per tile key. A leg's price, time
 * and source are the same in every tile that prices the same contract until the next fact, so their
 * bytes are cached per ticker and reused while they match. Only value, score, ts_us and confidence
 * are formatted per tile, by `ByteWriter` (`JSON.stringify`'s own number format; a non-finite
 * number is `null`, as in JSON). Strings are escaped by `JSON.stringify` once, when they are cached.
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
const NULL = Buffer.from('null');

export class TileJsonWriter {
  private readonly out = new ByteWriter(1 << 20);
  private readonly tiles = new Map<string, TileBytes>();
  private readonly legTails = new Map<string, LegTail>();
  /** `"<source>"}` per source name. */
  private readonly sourceEnds = new Map<string, Buffer>();

  /** The JSON array of `tiles`: a view into a buffer that the next call overwrites. */
  writeArray(tiles: readonly PublishedTile[]): Buffer {
    const o = this.out;
    o.reset();
    o.byte(0x5b); // [
    for (let i = 0; i < tiles.length; i++) {
      if (i > 0) o.byte(0x2c); // ,
      this.tile(tiles[i]!);
    }
    o.byte(0x5d); // ]
    return o.view();
  }

  private tile(t: PublishedTile): void {
    const o = this.out;
    const fixed = this.tiles.get(t.key) ?? this.cacheTile(t);
    o.bytes(fixed.head);
    for (let i = 0; i < t.legs.length; i++) {
      o.bytes(fixed.legHeads[i]!);
      o.bytes(this.legTail(t.legs[i]!));
    }
    o.bytes(VALUE);
    o.number(t.value);
    o.bytes(SCORE);
    if (t.score === null) o.bytes(NULL);
    else o.number(t.score);
    o.bytes(TS_US);
    o.number(t.ts_us);
    o.bytes(CONFIDENCE);
    o.number(t.confidence);
    o.bytes(SOURCE);
    o.bytes(this.sourceEnd(t.source));
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
}
