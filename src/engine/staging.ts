import { grown } from './columns.js';
import { skewFactor } from './confidence.js';
import { sourceCode, type LegMarks } from './marks.js';
import type { SlotTable } from './slot-table.js';
import type { Strategy } from './strategy.js';
import { ROW_HEAD, ROW_LEG, type CanonicalTiles, type UpsertRows } from './tile-columns.js';
import type { TileDef } from './types.js';

/**
 * One strategy's staging heatmap: the required slots (a `SlotTable`), the current state of every
 * populated tile, and which tiles differ from the last published version.
 *
 * Tile state is a pure function of the leg marks (and spot for spot-scored strategies), never of
 * the clock, and it lives in typed columns by slot: a recompute reads the marks' columns and writes
 * numbers, it allocates nothing and looks nothing up by string.
 *
 * When tiles are recomputed (ARCHITECTURE.md, "Performance"):
 * - **lazy** (a `pure` strategy whose publish settings do not read Σ|Δscore|): a fact only marks
 *   the tiles it prices dirty; they are recomputed once, when the publisher next needs the exact
 *   pending count (`changedCount`, at an evaluation past the throttle, at commit, in the summary).
 *   Populated and complete are counted from the marks without recomputing. A tile's state after
 *   its last fact is the same whenever it is computed, and so is "differs from canonical", so every
 *   count the publisher reads is what the eager mode gives.
 * - **eager** (otherwise): every fact recomputes its tiles at once, in slot order, so an exception
 *   in a strategy's `score` surfaces at that fact and Σ|Δscore| is summed in the same order as ever.
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

export class StagingHeatmap {
  // Staged state by slot (valid where `populatedFlag` is 1); score NaN = null.
  private populatedFlag = new Uint8Array(0);
  private value = new Float64Array(0);
  private score = new Float64Array(0);
  private confidence = new Float64Array(0);
  private tsUs = new Float64Array(0);
  private source = new Uint8Array(0);
  /** Changed since the last publish (differs from canonical), with its |Δscore|. */
  private changed = new Uint8Array(0);
  private delta = new Float64Array(0);
  /** Slots that may be changed, each once (`listed`); `takeChanged` filters and sorts them. */
  private pending: number[] = [];
  private listed = new Uint8Array(0);
  private populatedCount = 0;
  private changedN = 0;
  private deltaSum = 0;
  // Lazy mode: legs without a mark per slot, and the slots to recompute before the next read.
  private missing = new Int32Array(0);
  private dirty = new Uint8Array(0);
  private dirtyList: number[] = [];
  /** Spot moved: every populated tile is to be re-scored. */
  private spotDirty = false;
  private spot: number | undefined;

  constructor(
    private readonly strategy: Strategy,
    private readonly table: SlotTable,
    private readonly marks: LegMarks,
    private readonly canonical: CanonicalTiles,
    /** Recompute at read time instead of per fact (see above); the caller decides when that is allowed. */
    readonly lazy = false,
  ) {}

  get slots(): number {
    return this.table.size;
  }
  get populated(): number {
    return this.populatedCount;
  }
  /** Tiles that differ from the last published version (exact: recomputes dirty tiles first). */
  get changedCount(): number {
    this.flush();
    return this.changedN;
  }
  get scoreDeltaSum(): number {
    this.flush();
    return this.deltaSum;
  }
  /** True when some tile may differ from the last published version (cheap: nothing is recomputed). */
  get mayHaveChanges(): boolean {
    return this.changedN > 0 || this.dirtyList.length > 0 || this.spotDirty;
  }
  /** True when `changedCount` is known without recomputing anything. */
  get isExact(): boolean {
    return this.dirtyList.length === 0 && !this.spotDirty;
  }
  get isComplete(): boolean {
    return this.table.size > 0 && this.populatedCount === this.table.size;
  }

  /** Adds required slots (topology build or a later snapshot inside the band); existing keys are kept. */
  addSlots(defs: readonly TileDef[], spot: number | undefined): void {
    // One slot at a time, as each is added: a strategy that throws in `score` stops the topology
    // there (the pipeline fails with exactly the slots it had).
    try {
      for (const def of defs) {
        const s = this.table.add(def);
        if (s < 0) continue;
        this.grow(s + 1);
        if (!this.lazy) {
          this.refresh(s, spot);
          continue;
        }
        let missing = 0;
        const t = this.table;
        for (let l = t.legStart[s]!; l < t.legStart[s + 1]!; l++) if (this.marks.has[t.legTicker[l]!] !== 1) missing++;
        this.missing[s] = missing;
        if (missing === 0) this.populate(s, spot);
      }
    } finally {
      this.table.rankKeys();
    }
  }

  /**
   * Re-derives the tiles priced by one ticker (its id in the marks) after its mark changed;
   * `first` when that was the ticker's first mark.
   */
  onLeg(tickerId: number, spot: number | undefined, first: boolean): void {
    const slots = this.table.usersOf(tickerId);
    if (!this.lazy) {
      for (let i = 0; i < slots.length; i++) this.refresh(slots[i]!, spot);
      return;
    }
    this.spot = spot;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (first && --this.missing[s]! === 0) this.populate(s, spot);
      else if (this.populatedFlag[s] === 1 && this.dirty[s] === 0) {
        this.dirty[s] = 1;
        this.dirtyList.push(s);
      }
    }
  }

  /** Re-scores every populated tile after a spot change (spot-scored strategies only). */
  onSpot(spot: number | undefined): void {
    if (!this.strategy.usesSpot) return;
    if (this.lazy) {
      this.spot = spot;
      this.spotDirty = true;
      return;
    }
    for (let s = 0; s < this.table.size; s++) if (this.populatedFlag[s] === 1) this.refresh(s, spot);
  }

  /**
   * Takes the changed tiles and resets change tracking; only the publisher calls this. Returns
   * their staged state, sorted by key, as a version's upsert rows.
   */
  takeChanged(): UpsertRows {
    this.flush();
    const t = this.table;
    const order = this.changedByKey();
    let size = 0;
    for (let i = 0; i < order.length; i++) {
      const s = order[i]!;
      size += ROW_HEAD + ROW_LEG * (t.legStart[s + 1]! - t.legStart[s]!);
    }
    const data = new Float64Array(size);
    const m = this.marks;
    let off = 0;
    for (let i = 0; i < order.length; i++) {
      const s = order[i]!;
      this.changed[s] = 0;
      this.delta[s] = 0;
      data[off] = s;
      data[off + 1] = this.value[s]!;
      data[off + 2] = this.score[s]!;
      data[off + 3] = this.confidence[s]!;
      data[off + 4] = this.tsUs[s]!;
      data[off + 5] = this.source[s]!;
      off += ROW_HEAD;
      // A populated tile's legs carry the current marks: every mark change re-derives it.
      for (let l = t.legStart[s]!, end = t.legStart[s + 1]!; l < end; l++) {
        const id = t.legTicker[l]!;
        data[off] = m.price[id]!;
        data[off + 1] = m.eventUs[id]!;
        data[off + 2] = m.source[id]!;
        off += ROW_LEG;
      }
    }
    this.changedN = 0;
    this.deltaSum = 0;
    return { table: t, count: order.length, data };
  }

  /** Lazy mode: recomputes the dirty tiles (all populated ones after a spot change). */
  private flush(): void {
    if (this.spotDirty) {
      for (let s = 0; s < this.table.size; s++) if (this.populatedFlag[s] === 1) this.refresh(s, this.spot);
      this.spotDirty = false;
    } else {
      const list = this.dirtyList;
      for (let i = 0; i < list.length; i++) this.refresh(list[i]!, this.spot);
    }
    if (this.dirtyList.length === 0) return;
    for (const s of this.dirtyList) this.dirty[s] = 0;
    this.dirtyList = [];
  }

  /** Lazy mode: slot `s` has just got a mark for every leg. */
  private populate(s: number, spot: number | undefined): void {
    this.populatedFlag[s] = 1;
    this.populatedCount++;
    this.spot = spot;
    if (this.dirty[s] === 0) {
      this.dirty[s] = 1;
      this.dirtyList.push(s);
    }
  }

  /** The changed slots in key order; empties the pending list. */
  private changedByKey(): number[] {
    const t = this.table;
    const out: number[] = [];
    if (this.pending.length * 16 >= t.size) {
      // many: one pass over the slots in key order (no sort)
      for (const s of this.pending) this.listed[s] = 0;
      for (let r = 0; r < t.size; r++) {
        const s = t.byRank[r]!;
        if (this.changed[s] === 1) out.push(s);
      }
    } else {
      const ranks: number[] = [];
      for (const s of this.pending) {
        this.listed[s] = 0;
        if (this.changed[s] === 1) ranks.push(t.rank[s]!);
      }
      ranks.sort((a, b) => a - b);
      for (const r of ranks) out.push(t.byRank[r]!);
    }
    this.pending = [];
    return out;
  }

  /**
   * Recomputes slot `s` from its legs' marks: value = Σ ratio × price (rounded to 1e-6), ts_us and
   * source of the newest leg by (event_us, seq), confidence = min leg confidence × skew factor
   * (rounded to 1e-4), score from the strategy. Then updates the change tracking against the
   * canonical tile: changed when value, score, confidence or a leg price differs.
   */
  private refresh(s: number, spot: number | undefined): void {
    const t = this.table;
    const m = this.marks;
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
      if (m.has[id] !== 1) return; // marks are never removed, so a populated tile stays populated
      const eventUs = m.eventUs[id]!;
      value += t.legRatio[l]! * m.price[id]!;
      if (eventUs > tsUs || (eventUs === tsUs && m.seq[id]! > newestSeq)) {
        tsUs = eventUs;
        newestSeq = m.seq[id]!;
        source = m.source[id]!;
      }
      if (eventUs < oldestUs) oldestUs = eventUs;
      confidence = Math.min(confidence, m.confidence[id]!);
    }
    confidence = round4(confidence * skewFactor(tsUs - oldestUs));
    const v = round6(value);
    const raw = this.strategy.score(t.defs[s]!, v, spot);
    const score = raw === null || !Number.isFinite(raw) ? NaN : round6(raw);
    if (this.populatedFlag[s] === 0) {
      this.populatedFlag[s] = 1; // eager mode counts here; lazy mode counted it from the marks
      this.populatedCount++;
    }
    this.value[s] = v;
    this.score[s] = score;
    this.confidence[s] = confidence;
    this.tsUs[s] = tsUs;
    this.source[s] = source;

    if (this.changed[s] === 1) {
      this.deltaSum -= this.delta[s]!;
      this.changed[s] = 0;
      this.changedN--;
      if (this.changedN === 0) this.deltaSum = 0; // no float residue once nothing is pending
    }
    const c = this.canonical;
    const isCanon = s < c.has.length && c.has[s] === 1;
    if (!isCanon || !this.isSameAsCanonical(s, start, end, v, score, confidence)) {
      const d = Math.abs((score !== score ? 0 : score) - (isCanon && c.score[s]! === c.score[s]! ? c.score[s]! : 0));
      this.changed[s] = 1;
      this.delta[s] = d;
      this.changedN++;
      this.deltaSum += d;
      if (this.listed[s] === 0) {
        this.listed[s] = 1;
        this.pending.push(s);
      }
    }
  }

  /** True when the tile's value, score, confidence and leg prices equal the canonical tile's. */
  private isSameAsCanonical(s: number, start: number, end: number, value: number, score: number, confidence: number): boolean {
    const c = this.canonical;
    const cs = c.score[s]!;
    // `!==` as on the published numbers (a NaN value is never the same); a null score is NaN here
    if (value !== c.value[s] || confidence !== c.confidence[s]) return false;
    if (score !== cs && !(score !== score && cs !== cs)) return false;
    const m = this.marks;
    const ids = this.table.legTicker;
    for (let l = start; l < end; l++) if (m.price[ids[l]!]! !== c.legPrice[l]!) return false;
    return true;
  }

  private grow(n: number): void {
    this.populatedFlag = grown(this.populatedFlag, n);
    this.value = grown(this.value, n);
    this.score = grown(this.score, n);
    this.confidence = grown(this.confidence, n);
    this.tsUs = grown(this.tsUs, n);
    this.source = grown(this.source, n);
    this.changed = grown(this.changed, n);
    this.delta = grown(this.delta, n);
    this.listed = grown(this.listed, n);
    this.missing = grown(this.missing, n);
    this.dirty = grown(this.dirty, n);
  }
}
