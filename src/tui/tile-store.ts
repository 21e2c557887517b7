import type { EngineOutput, PublishedTile, VersionRecord } from '../engine/types.js';
import { RateMeter } from './rate-meter.js';

/**
 * The terminal UI's own copy of the published heatmaps: every version's upserts and removes are
 * folded into a per-strategy tile map. It is fed only published versions (never staging), it is
 * mutable so that folding a version costs O(upserts), and it hands immutable snapshots to React at
 * the UI's frame rate — never per version.
 */

/** Applies one version to a tile map in place: removes first, then upserts (DESIGN §3). */
export function applyVersion(tiles: Map<string, PublishedTile>, rec: VersionRecord): void {
  for (const key of rec.removes) tiles.delete(key);
  for (const t of rec.upserts) tiles.set(t.key, t);
}

/** One strategy's published heatmap as of a snapshot. */
export interface StrategyView {
  readonly name: string;
  /** Last version applied; 0 before the first. */
  readonly version: number;
  /** Engine time of that version. */
  readonly at_us: number | undefined;
  readonly tiles: ReadonlyMap<string, PublishedTile>;
  readonly stats: VersionRecord['stats'] | undefined;
  /** The pipeline's failure message, when it stopped. */
  readonly error: string | undefined;
}

/** How the replay behind the view ended. */
export type FinishState = 'end' | 'aborted';

/** An immutable view of the store, what one frame renders. */
export interface StoreSnapshot {
  /** Changes whenever anything in the store changed. */
  readonly revision: number;
  readonly strategies: readonly StrategyView[];
  /** Engine clock (receive time of the newest input), µs. */
  readonly engine_us: number | undefined;
  /** Spot as of the newest version (the marker's position). */
  readonly spot: number | undefined;
  readonly lines: number;
  readonly versions: number;
  readonly gaps: number;
  /** Input lines per wall-clock second, over the last ~2 s. */
  readonly inputRate: number;
  /** Versions (all strategies) per wall-clock second, over the last ~2 s. */
  readonly versionRate: number;
  readonly finished: FinishState | undefined;
}

interface Entry {
  version: number;
  at_us: number | undefined;
  readonly tiles: Map<string, PublishedTile>;
  stats: VersionRecord['stats'] | undefined;
  error: string | undefined;
  /** The view handed out last, reused while the entry is unchanged. */
  view: StrategyView | undefined;
}

/** The mutable store behind the TUI. `wallNow` (ms) only feeds the rate meters. */
export class TileStore {
  private readonly entries = new Map<string, Entry>();
  private rev = 0;
  private engineUs: number | undefined;
  private spotValue: number | undefined;
  private lines = 0;
  private versions = 0;
  private gaps = 0;
  private finishState: FinishState | undefined;
  private readonly inputMeter = new RateMeter();
  private readonly versionMeter = new RateMeter();

  constructor(
    strategies: readonly string[],
    private readonly wallNow: () => number = () => performance.now(),
  ) {
    for (const s of strategies) this.entry(s);
  }

  /** Changes whenever the store changes; cheap to poll. */
  get revision(): number {
    return this.rev;
  }

  private entry(name: string): Entry {
    let e = this.entries.get(name);
    if (!e) {
      e = { version: 0, at_us: undefined, tiles: new Map(), stats: undefined, error: undefined, view: undefined };
      this.entries.set(name, e);
    }
    return e;
  }

  /**
   * Takes one engine output. `spot` and `engineUs` are the engine's spot and clock when it was
   * emitted (the spot marker follows the versions, not the ticks in between).
   */
  onOutput(out: EngineOutput, spot?: number, engineUs?: number): void {
    this.rev++;
    if (engineUs !== undefined) this.engineUs = Math.max(this.engineUs ?? engineUs, engineUs);
    if (out.type === 'gap') {
      this.gaps++;
      return;
    }
    const e = this.entry(out.strategy);
    e.view = undefined;
    if (out.type === 'error') {
      e.error = out.message;
      return;
    }
    applyVersion(e.tiles, out);
    e.version = out.version;
    e.at_us = out.at_us;
    e.stats = out.stats;
    this.versions++;
    if (spot !== undefined) this.spotValue = spot;
    this.versionMeter.sample(this.versions, this.wallNow());
  }

  /** Replay progress: input lines so far and the receive time (= engine clock) reached. */
  onProgress(p: { readonly lines: number; readonly recv_us: number }): void {
    this.rev++;
    this.lines = p.lines;
    this.engineUs = Math.max(this.engineUs ?? p.recv_us, p.recv_us);
    this.inputMeter.sample(p.lines, this.wallNow());
  }

  /** The replay ended (at the end of the recording, or because the user quit). */
  finish(state: FinishState): void {
    this.rev++;
    this.finishState ??= state;
  }

  /**
   * An immutable snapshot. Tile maps are copied only for strategies that changed since the last
   * snapshot, so polling it at the frame rate costs little even at `--speed max`.
   */
  snapshot(): StoreSnapshot {
    const now = this.wallNow();
    const strategies: StrategyView[] = [];
    for (const [name, e] of this.entries) {
      e.view ??= { name, version: e.version, at_us: e.at_us, tiles: new Map(e.tiles), stats: e.stats, error: e.error };
      strategies.push(e.view);
    }
    return {
      revision: this.rev,
      strategies,
      engine_us: this.engineUs,
      spot: this.spotValue,
      lines: this.lines,
      versions: this.versions,
      gaps: this.gaps,
      inputRate: this.finishState ? 0 : this.inputMeter.rate(now),
      versionRate: this.finishState ? 0 : this.versionMeter.rate(now),
      finished: this.finishState,
    };
  }
}
