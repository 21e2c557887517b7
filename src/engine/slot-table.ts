import { grown } from './columns.js';
import type { LegMarks } from './marks.js';
import type { TileDef } from './types.js';

/**
 * The required slots of one strategy, in the order they were added (slot order), with what the
 * hot paths need as numbers: each slot's legs (ticker id, ratio) in flat columns, the slots that
 * use each ticker, and each slot's rank in key order, so that a version's upserts are sorted by
 * comparing integers instead of keys. Slots are only ever added (DESIGN §2.3: a later snapshot can
 * add slots, never remove any).
 */
export class SlotTable {
  readonly defs: TileDef[] = [];
  private readonly index = new Map<string, number>();
  /** Slot s's legs are `legStart[s] … legStart[s + 1] − 1` in the leg columns. */
  legStart = new Int32Array(1);
  legTicker = new Int32Array(0);
  legRatio = new Float64Array(0);
  /** Position of each slot's key in the sorted list of keys (UTF-16 code unit order). */
  rank = new Int32Array(0);
  /** The slot of each rank. */
  byRank = new Int32Array(0);
  /** Slots using a ticker, by ticker id (in slot order). */
  private readonly slotsOfTicker: number[][] = [];
  private static readonly NONE: readonly number[] = [];
  /** Slots ranked by the last `rankKeys`. */
  private ranked = 0;

  constructor(private readonly marks: LegMarks) {}

  get size(): number {
    return this.defs.length;
  }

  /** Number of legs of all slots. */
  get legCount(): number {
    return this.legStart[this.defs.length]!;
  }

  /** The slot of a key, or undefined. */
  slotOf(key: string): number | undefined {
    return this.index.get(key);
  }

  /** Slots whose legs use this ticker id. */
  usersOf(tickerId: number): readonly number[] {
    return this.slotsOfTicker[tickerId] ?? SlotTable.NONE;
  }

  /**
   * Adds a definition whose key is new and returns its slot (−1 for a known key). Call `rankKeys`
   * after a batch of additions: ranks are stale until then.
   */
  add(def: TileDef): number {
    if (this.index.has(def.key)) return -1;
    const s = this.defs.push(def) - 1;
    this.index.set(def.key, s);
    let l = this.legStart[s]!;
    const end = l + def.legs.length;
    this.legStart = grown(this.legStart, s + 2);
    this.legTicker = grown(this.legTicker, end);
    this.legRatio = grown(this.legRatio, end);
    for (const leg of def.legs) {
      const t = this.marks.idOf(leg.contract.ticker);
      this.legTicker[l] = t;
      this.legRatio[l] = leg.ratio;
      l++;
      while (this.slotsOfTicker.length <= t) this.slotsOfTicker.push([]);
      this.slotsOfTicker[t]!.push(s);
    }
    this.legStart[s + 1] = end;
    return s;
  }

  /** Ranks every slot's key (after `add`). */
  rankKeys(): void {
    const n = this.defs.length;
    if (n === this.ranked) return;
    this.ranked = n;
    const order = Array.from({ length: n }, (_, i) => i);
    const keys = this.defs.map((d) => d.key);
    order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
    this.rank = grown(this.rank, n);
    this.byRank = grown(this.byRank, n);
    for (let r = 0; r < n; r++) {
      this.rank[order[r]!] = r;
      this.byRank[r] = order[r]!;
    }
  }
}
