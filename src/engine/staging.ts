import type { LegMarks, LegMark } from './marks.js';
import type { LegSource, PublishedLeg, PublishedTile, TileDef } from './types.js';
import type { Strategy } from './strategy.js';

/**
 * One strategy's staging heatmap: the required slots (tile definitions), the current state of every
 * populated tile, and the set of tiles whose content differs from the last published version.
 *
 * Tile state is a pure function of the leg marks (and spot for spot-scored strategies), never of
 * the clock. Change tracking is incremental: a fact touches only the tiles whose legs it prices.
 */

const round = (x: number, places: number): number => {
  const f = 10 ** places;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r; // no -0 in the output
};

/** Confidence of one leg: 1 for trades, 1 − (ask − bid)/(ask + bid) for quote mids. */
export function legConfidence(m: LegMark): number {
  if (m.bid === undefined || m.ask === undefined) return 1;
  const sum = m.ask + m.bid;
  if (sum <= 0) return 0;
  return Math.min(1, Math.max(0, 1 - (m.ask - m.bid) / sum));
}

/** Computes a tile from its definition and the staged marks; undefined while a leg has no mark. */
export function computeTile(def: TileDef, marks: LegMarks, strategy: Strategy, spot: number | undefined): PublishedTile | undefined {
  const legs: PublishedLeg[] = [];
  let value = 0;
  let tsUs = -1;
  let newestSeq = -1;
  let source: LegSource = 'ws';
  let confidence = 1;
  for (const leg of def.legs) {
    const m = marks.get(leg.contract.ticker);
    if (m === undefined) return undefined;
    legs.push({ ticker: leg.contract.ticker, ratio: leg.ratio, price: m.price, ts_us: m.event_us, source: m.source });
    value += leg.ratio * m.price;
    if (m.event_us > tsUs || (m.event_us === tsUs && m.seq > newestSeq)) {
      tsUs = m.event_us;
      newestSeq = m.seq;
      source = m.source;
    }
    confidence = Math.min(confidence, legConfidence(m));
  }
  const v = round(value, 6);
  const score = strategy.score(def, v, spot);
  // Key order below is the hash contract of DESIGN §3 — do not reorder.
  return {
    key: def.key,
    root: def.root,
    expiration: def.expiration,
    strategy: def.strategy,
    right: def.right,
    strikes: def.strikes,
    legs,
    value: v,
    score: score === null || !Number.isFinite(score) ? null : round(score, 6),
    ts_us: tsUs,
    confidence: round(confidence, 4),
    source,
  };
}

/** True when a tile's published content (value, score, confidence, leg prices) is the same. */
export function isSameContent(a: PublishedTile, b: PublishedTile): boolean {
  if (a.value !== b.value || a.score !== b.score || a.confidence !== b.confidence) return false;
  for (let i = 0; i < a.legs.length; i++) if (a.legs[i]!.price !== b.legs[i]!.price) return false;
  return true;
}

export class StagingHeatmap {
  /** Required slots by key. */
  private readonly defs = new Map<string, TileDef>();
  /** Tiles using a ticker, by ticker. */
  private readonly byTicker = new Map<string, TileDef[]>();
  /** Current state of every populated slot. */
  private readonly tiles = new Map<string, PublishedTile>();
  /** Changed since the last publish: key → |Δscore|. */
  private readonly changedDelta = new Map<string, number>();
  private deltaSum = 0;

  constructor(
    private readonly strategy: Strategy,
    private readonly canonical: ReadonlyMap<string, PublishedTile>,
  ) {}

  get slots(): number {
    return this.defs.size;
  }
  get populated(): number {
    return this.tiles.size;
  }
  get changedCount(): number {
    return this.changedDelta.size;
  }
  get scoreDeltaSum(): number {
    return this.deltaSum;
  }
  get isComplete(): boolean {
    return this.defs.size > 0 && this.tiles.size === this.defs.size;
  }

  /** Adds required slots (topology build or a later snapshot inside the band); existing keys are kept. */
  addSlots(defs: readonly TileDef[], marks: LegMarks, spot: number | undefined): void {
    for (const def of defs) {
      if (this.defs.has(def.key)) continue;
      this.defs.set(def.key, def);
      for (const leg of def.legs) {
        const list = this.byTicker.get(leg.contract.ticker);
        if (list) list.push(def);
        else this.byTicker.set(leg.contract.ticker, [def]);
      }
      this.refresh(def, marks, spot);
    }
  }

  /** Re-derives the tiles priced by one ticker after its mark changed. */
  onLeg(ticker: string, marks: LegMarks, spot: number | undefined): void {
    const defs = this.byTicker.get(ticker);
    if (defs) for (const def of defs) this.refresh(def, marks, spot);
  }

  /** Re-scores every populated tile after a spot change (spot-scored strategies only). */
  onSpot(marks: LegMarks, spot: number | undefined): void {
    if (!this.strategy.usesSpot) return;
    for (const def of this.defs.values()) if (this.tiles.has(def.key)) this.refresh(def, marks, spot);
  }

  /** Takes the changed tiles (sorted by key) and resets change tracking; only the publisher calls this. */
  takeChanged(): PublishedTile[] {
    const keys = [...this.changedDelta.keys()].sort();
    this.changedDelta.clear();
    this.deltaSum = 0;
    return keys.map((k) => this.tiles.get(k)!);
  }

  private refresh(def: TileDef, marks: LegMarks, spot: number | undefined): void {
    const tile = computeTile(def, marks, this.strategy, spot);
    if (tile === undefined) return; // marks are never removed, so a populated tile stays populated
    this.tiles.set(def.key, tile);
    const canon = this.canonical.get(def.key);
    const old = this.changedDelta.get(def.key);
    if (old !== undefined) {
      this.deltaSum -= old;
      this.changedDelta.delete(def.key);
      if (this.changedDelta.size === 0) this.deltaSum = 0; // no float residue once nothing is pending
    }
    if (canon === undefined || !isSameContent(tile, canon)) {
      const delta = Math.abs((tile.score ?? 0) - (canon?.score ?? 0));
      this.changedDelta.set(def.key, delta);
      this.deltaSum += delta;
    }
  }
}
