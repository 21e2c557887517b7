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
  /** Rows that the next version reuses (`EngineOptions.linesOnly`): true while these are still the data. */
  readonly current?: () => boolean;
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

/** Numbers per slot in `CanonicalTiles.st`: published (0/1), value, score, confidence, ts_us, source. */
export const CANON_STRIDE = 8;
/** Numbers per leg in `CanonicalTiles.legs`: price, ts_us, source. */
export const CANON_LEG = 4;

/**
 * The canonical (last published) state of every slot. It changes only when the publisher takes a
 * version's rows from staging (`StagedTiles.take`, which adopts them as it takes them); staging
 * reads it to tell changed tiles from unchanged ones. A slot's numbers sit side by side
 * (`st`, `CANON_STRIDE` per slot; `legs`, `CANON_LEG` per leg of the slot table), so comparing a
 * tile with its canonical state touches one or two cache lines.
 */
export class CanonicalTiles {
  st = new Float64Array(0);
  legs = new Float64Array(0);
  private published = 0;

  constructor(private readonly table: SlotTable) {}

  /** Number of slots published at least once. */
  get size(): number {
    return this.published;
  }

  /** True once slot `s` has been published. */
  isPublished(s: number): boolean {
    return s * CANON_STRIDE < this.st.length && this.st[s * CANON_STRIDE] === 1;
  }

  /**
   * Makes version rows canonical, one row at a time, as they are taken from staging
   * (`StagedTiles.take` writes each row here and into the version's rows in the same pass): first
   * `reserve` for the table's current size, then `adoptRow` per row; `st`/`legs` are then written
   * directly at the slot's offsets.
   */
  reserve(): void {
    const t = this.table;
    this.st = grown(this.st, t.size * CANON_STRIDE);
    this.legs = grown(this.legs, t.legCount * CANON_LEG);
  }

  /** Counts slot `s` as published (its numbers are written by the caller, see `reserve`). */
  adoptRow(s: number): void {
    const o = s * CANON_STRIDE;
    if (this.st[o] !== 1) {
      this.st[o] = 1;
      this.published++;
    }
  }

  /** Every published tile, sorted by key. */
  tiles(): PublishedTile[] {
    const t = this.table;
    const out: PublishedTile[] = [];
    for (let r = 0; r < t.size; r++) {
      const s = t.byRank[r]!;
      if (!this.isPublished(s)) continue;
      const start = t.legStart[s]!;
      const end = t.legStart[s + 1]!;
      const data = new Float64Array(ROW_HEAD + ROW_LEG * (end - start));
      const o = s * CANON_STRIDE;
      data[0] = s;
      for (let k = 1; k < ROW_HEAD; k++) data[k] = this.st[o + k]!;
      for (let l = start, at = ROW_HEAD; l < end; l++, at += ROW_LEG) {
        data[at] = this.legs[l * CANON_LEG]!;
        data[at + 1] = this.legs[l * CANON_LEG + 1]!;
        data[at + 2] = this.legs[l * CANON_LEG + 2]!;
      }
      out.push(tileAt(t, data, 0));
    }
    return out;
  }
}
