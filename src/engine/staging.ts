import { grown, IntList } from './columns.js';
import type { LegMarks } from './marks.js';
import type { SlotTable } from './slot-table.js';
import { StagedTiles } from './staged-tiles.js';
import type { Strategy } from './strategy.js';
import type { CanonicalTiles, UpsertRows } from './tile-columns.js';
import type { TileDef } from './types.js';

/**
 * One strategy's staging heatmap: the required slots (a `SlotTable`), the current state of every
 * populated tile, and which tiles differ from the last published version.
 *
 * Tile state is a pure function of the leg marks (and spot for spot-scored strategies), never of
 * the clock; it lives in typed columns by slot (`StagedTiles`), which this class keeps current.
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

export class StagingHeatmap {
  private readonly tiles: StagedTiles;
  // Lazy mode: legs without a mark per slot, and the slots to recompute before the next read.
  private missing = new Int32Array(0);
  private dirty = new Uint8Array(0);
  private readonly dirtyList = new IntList();
  /** Spot moved: every populated tile is to be re-scored. */
  private spotDirty = false;
  private spot: number | undefined;

  constructor(
    private readonly strategy: Strategy,
    private readonly table: SlotTable,
    private readonly marks: LegMarks,
    canonical: CanonicalTiles,
    /** Recompute at read time instead of per fact (see above); the caller decides when that is allowed. */
    readonly lazy = false,
    /** The versions' upsert rows are reused (`EngineOptions.linesOnly`). */
    linesOnly = false,
  ) {
    this.tiles = new StagedTiles(strategy, table, marks, canonical, linesOnly);
  }

  get slots(): number {
    return this.table.size;
  }
  get populated(): number {
    return this.tiles.populatedCount;
  }
  /** Tiles that differ from the last published version (exact: recomputes dirty tiles first). */
  get changedCount(): number {
    this.flush();
    return this.tiles.changedCount;
  }
  get scoreDeltaSum(): number {
    this.flush();
    return this.tiles.deltaSum;
  }
  /** True when some tile may differ from the last published version (cheap: nothing is recomputed). */
  get mayHaveChanges(): boolean {
    return this.tiles.changedCount > 0 || this.dirtyList.length > 0 || this.spotDirty;
  }
  /** True when `changedCount` is known without recomputing anything. */
  get isExact(): boolean {
    return this.dirtyList.length === 0 && !this.spotDirty;
  }
  get isComplete(): boolean {
    return this.table.size > 0 && this.tiles.populatedCount === this.table.size;
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
          this.tiles.refresh(s, spot);
          continue;
        }
        let missing = 0;
        const t = this.table;
        for (let l = t.legStart[s]!; l < t.legStart[s + 1]!; l++) if (!this.marks.hasMark(t.legTicker[l]!)) missing++;
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
      for (let i = 0; i < slots.length; i++) this.tiles.refresh(slots[i]!, spot);
      return;
    }
    this.spot = spot;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (first && --this.missing[s]! === 0) this.populate(s, spot);
      else if (this.tiles.populated[s] === 1 && this.dirty[s] === 0) {
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
    for (let s = 0; s < this.table.size; s++) if (this.tiles.populated[s] === 1) this.tiles.refresh(s, spot);
  }

  /**
   * Takes the changed tiles and resets change tracking; only the publisher calls this, when it
   * commits. Returns their staged state, sorted by key, as a version's upsert rows, and makes
   * them the canonical tiles.
   */
  takeChanged(): UpsertRows {
    this.flush();
    return this.tiles.take();
  }

  /** Lazy mode: recomputes the dirty tiles (all populated ones after a spot change). */
  private flush(): void {
    const list = this.dirtyList;
    if (this.spotDirty) {
      for (let s = 0; s < this.table.size; s++) if (this.tiles.populated[s] === 1) this.tiles.refresh(s, this.spot);
      this.spotDirty = false;
    } else {
      for (let i = 0; i < list.length; i++) this.tiles.refresh(list.at(i), this.spot);
    }
    if (list.length === 0) return;
    for (let i = 0; i < list.length; i++) this.dirty[list.at(i)] = 0;
    list.clear();
  }

  /** Lazy mode: slot `s` has just got a mark for every leg. */
  private populate(s: number, spot: number | undefined): void {
    this.tiles.markPopulated(s);
    this.spot = spot;
    if (this.dirty[s] === 0) {
      this.dirty[s] = 1;
      this.dirtyList.push(s);
    }
  }

  private grow(n: number): void {
    this.tiles.grow(n);
    this.missing = grown(this.missing, n);
    this.dirty = grown(this.dirty, n);
  }
}
