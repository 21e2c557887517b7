import type { StrategyConfig } from './config.js';
import type { LegMarks } from './marks.js';
import { Publisher } from './publisher.js';
import { SlotTable } from './slot-table.js';
import { StagingHeatmap } from './staging.js';
import type { ContractUniverse } from './universe.js';
import type { PublishedTile, VersionRecord } from './types.js';
import { hasPureScore, type Strategy } from './strategy.js';

/**
 * One strategy's pipeline: its tile builder (the strategy), its staging heatmap and its publisher.
 * Pipelines share inputs (marks, spot, universe) but not control: each is driven separately and a
 * failure in one is contained by the engine.
 */
export class Pipeline {
  readonly publisher: Publisher;
  readonly staging: StagingHeatmap;
  /** Set when the pipeline threw; it then takes no more input. */
  failure: string | undefined;

  constructor(
    readonly strategy: Strategy,
    cfg: StrategyConfig,
    private readonly widths: readonly number[],
    /** The engine's leg marks (shared by every pipeline; read-only here). */
    marks: LegMarks,
    /** The stream format the publisher writes (DESIGN §3.1). */
    format: 1 | 2 = 1,
    /** Upsert rows reused from version to version (`EngineOptions.linesOnly`). */
    linesOnly = false,
  ) {
    const table = new SlotTable(marks);
    this.publisher = new Publisher(strategy.name, cfg.publish, format, table, marks);
    // Lazy recomputation gives the same counts, but not Σ|Δscore| summed in the same order (a float
    // sum), so a strategy that publishes on min_score_delta recomputes eagerly.
    const lazy = hasPureScore(strategy) && cfg.publish.min_score_delta === null;
    this.staging = new StagingHeatmap(strategy, table, marks, this.publisher.canonical, lazy, linesOnly);
  }

  get name(): string {
    return this.strategy.name;
  }

  /** Adds the slots the (grown) universe allows. */
  extendTopology(universe: ContractUniverse, spot: number | undefined): void {
    this.staging.addSlots(this.strategy.enumerate(universe, this.widths), spot);
  }

  /** After an input or at a tick: note completeness, then let the publisher decide. */
  evaluate(nowUs: number): VersionRecord | undefined {
    this.publisher.noteCompleteness(this.staging);
    return this.publisher.evaluate(this.staging, nowUs);
  }

  nextDue(): number {
    return this.publisher.nextDue(this.staging);
  }

  /** Canonical tiles sorted by key (a full snapshot of the last published version). */
  snapshotTiles(): PublishedTile[] {
    return this.publisher.canonical.tiles();
  }
}
