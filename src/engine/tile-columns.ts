import { grown } from './columns.js';
import { sourceName } from './marks.js';
import type { SlotTable } from './slot-table.js';
import type { PublishedLeg, PublishedTile } from './types.js';

/**
 * Tile states as numbers. A tile's published state is its value, score, confidence, ts_us and
 * source plus, per leg, the mark it was priced with (price, ts_us, source); identity comes from the
 * slot table. Sources are `sourceCode`s; a `null` score is NaN (a score is otherwise finite).
 *
 * Two holders: `UpsertRows`, one version's upserts as a flat Float64Array (what the publisher
 * captures from staging at commit, what the serializers read, what the record's `upserts` are
 * built from when someone asks for them), and `CanonicalTiles`, the last published state of every
 * slot (what staging compares against). `PublishedTile` objects are made only on request.
 */

/** Numbers per upsert before its legs: slot, value, score, confidence, ts_us, source. */
export const ROW_HEAD = 6;
/** Numbers per leg: price, ts_us, source. */
export const ROW_LEG = 3;

/** One version's upserted tiles, sorted by key: per tile `ROW_HEAD` numbers, then `ROW_LEG` per leg. */
export interface UpsertRows {
  readonly table: SlotTable;
  /** Number of tiles. */
  readonly count: number;
  readonly data: Float64Array;
}

/** `JSON.stringify`-equal score: NaN stands for null. */
export const scoreOf = (x: number): number | null => (x !== x ? null : x);

/** The tile at `off` in `rows` as a published tile (key order: DESIGN §3). */
export function tileAt(table: SlotTable, data: Float64Array, off: number): PublishedTile {
  const s = data[off]!;
  const def = table.defs[s]!;
  const legs: PublishedLeg[] = [];
  let o = off + ROW_HEAD;
  for (const leg of def.legs) {
    legs.push({ ticker: leg.contract.ticker, ratio: leg.ratio, price: data[o]!, ts_us: data[o + 1]!, source: sourceName(data[o + 2]!) });
    o += ROW_LEG;
  }
  return {
    key: def.key,
    root: def.root,
    expiration: def.expiration,
    strategy: def.strategy,
    right: def.right,
    strikes: def.strikes,
    legs,
    value: data[off + 1]!,
    score: scoreOf(data[off + 2]!),
    ts_us: data[off + 4]!,
    confidence: data[off + 3]!,
    source: sourceName(data[off + 5]!),
  };
}

/** The upserts of a version as published tiles (sorted by key). */
export function upsertTiles(rows: UpsertRows): PublishedTile[] {
  const out: PublishedTile[] = [];
  let off = 0;
  for (let i = 0; i < rows.count; i++) {
    out.push(tileAt(rows.table, rows.data, off));
    off += ROW_HEAD + ROW_LEG * rows.table.defs[rows.data[off]!]!.legs.length;
  }
  return out;
}

/**
 * The canonical (last published) state of every slot. Only the publisher writes it (`adopt`);
 * staging reads it to tell changed tiles from unchanged ones.
 */
export class CanonicalTiles {
  /** 1 once the slot has been published. */
  has = new Uint8Array(0);
  value = new Float64Array(0);
  score = new Float64Array(0);
  confidence = new Float64Array(0);
  tsUs = new Float64Array(0);
  source = new Uint8Array(0);
  /** Per leg (the slot table's leg index): the mark the published tile carries. */
  legPrice = new Float64Array(0);
  legTsUs = new Float64Array(0);
  legSource = new Uint8Array(0);
  private published = 0;

  constructor(private readonly table: SlotTable) {}

  /** Number of slots published at least once. */
  get size(): number {
    return this.published;
  }

  /** Makes a version's upserts canonical. */
  adopt(rows: UpsertRows): void {
    const t = this.table;
    const n = t.size;
    this.has = grown(this.has, n);
    this.value = grown(this.value, n);
    this.score = grown(this.score, n);
    this.confidence = grown(this.confidence, n);
    this.tsUs = grown(this.tsUs, n);
    this.source = grown(this.source, n);
    const legs = t.legCount;
    this.legPrice = grown(this.legPrice, legs);
    this.legTsUs = grown(this.legTsUs, legs);
    this.legSource = grown(this.legSource, legs);
    const d = rows.data;
    let off = 0;
    for (let i = 0; i < rows.count; i++) {
      const s = d[off]!;
      if (this.has[s] === 0) {
        this.has[s] = 1;
        this.published++;
      }
      this.value[s] = d[off + 1]!;
      this.score[s] = d[off + 2]!;
      this.confidence[s] = d[off + 3]!;
      this.tsUs[s] = d[off + 4]!;
      this.source[s] = d[off + 5]!;
      off += ROW_HEAD;
      for (let l = t.legStart[s]!, end = t.legStart[s + 1]!; l < end; l++) {
        this.legPrice[l] = d[off]!;
        this.legTsUs[l] = d[off + 1]!;
        this.legSource[l] = d[off + 2]!;
        off += ROW_LEG;
      }
    }
  }

  /** Every published tile, sorted by key. */
  tiles(): PublishedTile[] {
    const t = this.table;
    const out: PublishedTile[] = [];
    const one = new Float64Array(ROW_HEAD + ROW_LEG * 64);
    for (let r = 0; r < t.size; r++) {
      const s = t.byRank[r]!;
      if (this.has[s] !== 1) continue;
      const start = t.legStart[s]!;
      const data = one.length >= ROW_HEAD + ROW_LEG * (t.legStart[s + 1]! - start) ? one : new Float64Array(ROW_HEAD + ROW_LEG * (t.legStart[s + 1]! - start));
      data[0] = s;
      data[1] = this.value[s]!;
      data[2] = this.score[s]!;
      data[3] = this.confidence[s]!;
      data[4] = this.tsUs[s]!;
      data[5] = this.source[s]!;
      for (let l = start, o = ROW_HEAD; l < t.legStart[s + 1]!; l++, o += ROW_LEG) {
        data[o] = this.legPrice[l]!;
        data[o + 1] = this.legTsUs[l]!;
        data[o + 2] = this.legSource[l]!;
      }
      out.push(tileAt(t, data, 0));
    }
    return out;
  }
}
