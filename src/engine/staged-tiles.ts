import { Float64Slab, grown, IntList } from './columns.js';
import { skewFactor } from './confidence.js';
import { M_CONFIDENCE, M_EVENT_US, M_HAS, M_PRICE, M_SEQ, M_SOURCE, MARK_STRIDE, sourceCode, type LegMarks } from './marks.js';
import type { SlotTable } from './slot-table.js';
import { slotScoreMaker, type SlotScore, type SlotScoreMaker, type Strategy } from './strategy.js';
import { CANON_LEG, CANON_STRIDE, ROW_HEAD, ROW_LEG, type CanonicalTiles, type UpsertRows } from './tile-columns.js';

/**
 * The staged state of every slot of one strategy, in typed columns by slot, and the change tracking
 * against the canonical (last published) tiles: a recompute reads the marks' columns and writes
 * numbers, it allocates nothing and looks nothing up by string. `StagingHeatmap` decides when
 * slots are recomputed; this class does the recomputing.
 */

/** Rounds to 1e6ths (values, scores) or 1e4ths (confidence); no -0 in the output. */
const round6 = (x: number): number => {
  const r = Math.round(x * 1e6) / 1e6;
  return r === 0 ? 0 : r;
};
const round4 = (x: number): number => {
  const r = Math.round(x * 1e4) / 1e4;
  return r === 0 ? 0 : r;
};

const WS = sourceCode('ws');

/** Numbers per slot in `StagedTiles.st`, and where |Δscore| is among them. */
const STRIDE = 8;
const DELTA = 5;

export class StagedTiles {
  /** 1 when the slot's state is valid (every leg has a mark). */
  populated = new Uint8Array(0);
  /**
   * Staged state, `STRIDE` numbers per slot side by side (one or two cache lines per tile, not one
   * per column: a recompute touches few lines): value, score (NaN = null), confidence, ts_us,
   * source, |Δscore| (while changed).
   */
  private st = new Float64Array(0);
  /** Changed since the last publish (differs from canonical). */
  private changed = new Uint8Array(0);
  /** Slots that may be changed, each once (`listed`); `take` filters and sorts them. */
  private readonly pending = new IntList();
  /** Room for `changedByKey`'s answer. */
  private order = new Int32Array(64);
  private listed = new Uint8Array(0);
  populatedCount = 0;
  changedCount = 0;
  /** Σ|Δscore| over the changed tiles, summed in the order they changed. */
  deltaSum = 0;
  /** Where the versions' upsert rows are allocated (unless `linesOnly`). */
  private readonly rowSlab = new Float64Slab();
  /** `linesOnly`: the one array every version's rows are written into, and how many takes used it. */
  private reused = new Float64Array(0);
  private reusedTakes = 0;
  /** The strategy's score by slot, if it has one (`declarePure`), for the first `scoredSlots` slots. */
  private readonly makeSlotScore: SlotScoreMaker | undefined;
  private slotScore: SlotScore | undefined;
  private scoredSlots = 0;

  constructor(
    private readonly strategy: Strategy,
    private readonly table: SlotTable,
    private readonly marks: LegMarks,
    private readonly canonical: CanonicalTiles,
    /** Rows written over by the next take (`EngineOptions.linesOnly`). */
    private readonly linesOnly = false,
  ) {
    this.makeSlotScore = slotScoreMaker(strategy);
  }

  /** Room for `n` slots. */
  grow(n: number): void {
    this.populated = grown(this.populated, n);
    this.st = grown(this.st, n * STRIDE);
    this.changed = grown(this.changed, n);
    this.listed = grown(this.listed, n);
  }

  /** Counts slot `s` as populated before it is computed (lazy staging counts from the marks). */
  markPopulated(s: number): void {
    this.populated[s] = 1;
    this.populatedCount++;
  }

  /**
   * Takes the changed tiles and resets change tracking: their staged state, sorted by key, as a
   * version's upsert rows, which become the canonical tiles (the publisher's commit).
   */
  take(): UpsertRows {
    const t = this.table;
    const order = this.changedByKey();
    let size = 0;
    for (let i = 0; i < order.length; i++) {
      const s = order[i]!;
      size += ROW_HEAD + ROW_LEG * (t.legStart[s + 1]! - t.legStart[s]!);
    }
    const data = this.linesOnly ? this.reusedRows(size) : this.rowSlab.take(size);
    const m = this.marks.cols;
    const canon = this.canonical;
    canon.reserve();
    const cst = canon.st;
    const clegs = canon.legs;
    const st = this.st;
    let off = 0;
    for (let i = 0; i < order.length; i++) {
      const s = order[i]!;
      this.changed[s] = 0;
      const o = s * STRIDE;
      st[o + DELTA] = 0;
      const value = st[o]!;
      const score = st[o + 1]!;
      const confidence = st[o + 2]!;
      const tsUs = st[o + 3]!;
      const source = st[o + 4]!;
      data[off] = s;
      data[off + 1] = value;
      data[off + 2] = score;
      data[off + 3] = confidence;
      data[off + 4] = tsUs;
      data[off + 5] = source;
      off += ROW_HEAD;
      // the row becomes canonical in the same pass
      canon.adoptRow(s);
      const co = s * CANON_STRIDE;
      cst[co + 1] = value;
      cst[co + 2] = score;
      cst[co + 3] = confidence;
      cst[co + 4] = tsUs;
      cst[co + 5] = source;
      // A populated tile's legs carry the current marks: every mark change re-derives it.
      for (let l = t.legStart[s]!, end = t.legStart[s + 1]!; l < end; l++) {
        const mo = t.legTicker[l]! * MARK_STRIDE;
        const price = m[mo + M_PRICE]!;
        const eventUs = m[mo + M_EVENT_US]!;
        const src = m[mo + M_SOURCE]!;
        data[off] = price;
        data[off + 1] = eventUs;
        data[off + 2] = src;
        off += ROW_LEG;
        clegs[l * CANON_LEG] = price;
        clegs[l * CANON_LEG + 1] = eventUs;
        clegs[l * CANON_LEG + 2] = src;
      }
    }
    this.changedCount = 0;
    this.deltaSum = 0;
    if (!this.linesOnly) return { table: t, count: order.length, data };
    const take = this.reusedTakes;
    return { table: t, count: order.length, data, current: () => this.reusedTakes === take };
  }

  /** `linesOnly`: the reused rows array, with room for `n` numbers (every one is written by `take`). */
  private reusedRows(n: number): Float64Array {
    this.reusedTakes++;
    if (this.reused.length < n) this.reused = new Float64Array(Math.max(n, 2 * this.reused.length, 1024));
    return this.reused.subarray(0, n);
  }

  /** The changed slots in key order (a view of `order`, valid until the next call); empties the pending list. */
  private changedByKey(): Int32Array {
    const t = this.table;
    const pending = this.pending;
    if (this.order.length < pending.length) this.order = new Int32Array(Math.max(pending.length, 2 * this.order.length));
    const out = this.order;
    let n = 0;
    if (pending.length * 16 >= t.size) {
      // many: one pass over the slots in key order (no sort)
      for (let i = 0; i < pending.length; i++) this.listed[pending.at(i)] = 0;
      for (let r = 0; r < t.size; r++) {
        const s = t.byRank[r]!;
        if (this.changed[s] === 1) out[n++] = s;
      }
    } else {
      // few: their ranks, sorted as numbers, then the slots of those ranks
      for (let i = 0; i < pending.length; i++) {
        const s = pending.at(i);
        this.listed[s] = 0;
        if (this.changed[s] === 1) out[n++] = t.rank[s]!;
      }
      out.subarray(0, n).sort();
      for (let i = 0; i < n; i++) out[i] = t.byRank[out[i]!]!;
    }
    pending.clear();
    return out.subarray(0, n);
  }

  /**
   * Recomputes slot `s` from its legs' marks: value = Σ ratio × price (rounded to 1e-6), ts_us and
   * source of the newest leg by (event_us, seq), confidence = min leg confidence × skew factor
   * (rounded to 1e-4), score from the strategy. Then updates the change tracking against the
   * canonical tile: changed when value, score, confidence or a leg price differs.
   */
  refresh(s: number, spot: number | undefined): void {
    const t = this.table;
    const m = this.marks.cols;
    const start = t.legStart[s]!;
    const end = t.legStart[s + 1]!;
    let value = 0;
    let tsUs = -1;
    let oldestUs = Infinity;
    let newestSeq = -1;
    let source = WS;
    let confidence = 1;
    for (let l = start; l < end; l++) {
      const id = t.legTicker[l]!;
      const mo = id * MARK_STRIDE;
      if (m[mo + M_HAS] !== 1) return; // marks are never removed, so a populated tile stays populated
      const eventUs = m[mo + M_EVENT_US]!;
      value += t.legRatio[l]! * m[mo + M_PRICE]!;
      if (eventUs > tsUs || (eventUs === tsUs && m[mo + M_SEQ]! > newestSeq)) {
        tsUs = eventUs;
        newestSeq = m[mo + M_SEQ]!;
        source = m[mo + M_SOURCE]!;
      }
      if (eventUs < oldestUs) oldestUs = eventUs;
      confidence = Math.min(confidence, m[mo + M_CONFIDENCE]!);
    }
    confidence = round4(confidence * skewFactor(tsUs - oldestUs));
    const v = round6(value);
    const st = this.st;
    const o = s * STRIDE;
    st[o] = v;
    let score: number;
    if (this.makeSlotScore === undefined) {
      const raw = this.strategy.score(t.defs[s]!, v, spot);
      score = raw === null || !Number.isFinite(raw) ? NaN : round6(raw);
    } else {
      this.scoreInto(s, o, spot); // st[o + 1] = the raw score, NaN for null
      const raw = st[o + 1]!;
      score = Number.isFinite(raw) ? round6(raw) : NaN;
    }
    if (this.populated[s] === 0) this.markPopulated(s); // (lazy staging counted it from the marks)
    st[o + 1] = score;
    st[o + 2] = confidence;
    st[o + 3] = tsUs;
    st[o + 4] = source;

    if (this.changed[s] === 1) {
      this.deltaSum -= st[o + DELTA]!;
      this.changed[s] = 0;
      this.changedCount--;
      if (this.changedCount === 0) this.deltaSum = 0; // no float residue once nothing is pending
    }
    const c = this.canonical;
    const isCanon = c.isPublished(s);
    if (!isCanon || !this.isSameAsCanonical(s, start, end)) {
      const cs = isCanon ? c.st[s * CANON_STRIDE + 2]! : 0;
      const d = Math.abs((score !== score ? 0 : score) - (cs === cs ? cs : 0));
      this.changed[s] = 1;
      st[o + DELTA] = d;
      this.changedCount++;
      this.deltaSum += d;
      if (this.listed[s] === 0) {
        this.listed[s] = 1;
        this.pending.push(s);
      }
    }
  }

  /** The slot score of the value at `st[o]`, written to `st[o + 1]` (made again once slots were added since it was made). */
  private scoreInto(s: number, o: number, spot: number | undefined): void {
    if (s >= this.scoredSlots) {
      this.slotScore = this.makeSlotScore!(this.table.defs);
      this.scoredSlots = this.table.size;
    }
    this.slotScore!(s, this.st, o, spot);
  }

  /**
   * True when the tile's staged value, score, confidence and leg prices equal the canonical tile's.
   * (It reads the staged numbers from `st`: doubles passed as arguments would be boxed.)
   */
  private isSameAsCanonical(s: number, start: number, end: number): boolean {
    const c = this.canonical.st;
    const o = s * CANON_STRIDE;
    const so = s * STRIDE;
    const value = this.st[so]!;
    const score = this.st[so + 1]!;
    const confidence = this.st[so + 2]!;
    const cs = c[o + 2]!;
    // `!==` as on the published numbers (a NaN value is never the same); a null score is NaN here
    if (value !== c[o + 1] || confidence !== c[o + 3]) return false;
    if (score !== cs && !(score !== score && cs !== cs)) return false;
    const m = this.marks.cols;
    const ids = this.table.legTicker;
    const legs = this.canonical.legs;
    for (let l = start; l < end; l++) if (m[ids[l]! * MARK_STRIDE + M_PRICE]! !== legs[l * CANON_LEG]!) return false;
    return true;
  }

}
