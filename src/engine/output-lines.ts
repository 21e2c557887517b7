import type { EngineSummary } from './engine.js';
import { versionBytes } from './publisher.js';
import type { Tally } from './tally.js';
import type { EngineOutput, PublishedTile, SnapshotBody } from './types.js';
import { VersionFold } from './version-fold.js';

/**
 * The lines of the published-version stream (DESIGN §3), all in one place: version lines (the
 * publisher's own bytes), gap and error lines, `--keyframes` snapshot lines and the summary line.
 * Sinks (NDJSON, SSE, workers) only move these bytes; none of them builds a line of its own.
 */

/** The NDJSON line of any engine output, UTF-8 (for a version, the publisher's own bytes: no copy). */
export function outputBytes(out: EngineOutput): Buffer {
  return out.type === 'version' ? versionBytes(out) : Buffer.from(JSON.stringify(out));
}

/** A `{"type":"snapshot"}` keyframe line: a strategy's full canonical tile set after a version. */
export function snapshotLine(strategy: string, version: number, at_us: number, hash: string, tiles: readonly PublishedTile[]): string {
  return JSON.stringify({ type: 'snapshot', strategy, version, at_us, hash, tiles });
}

/** The `{"type":"snapshot"}` line of a snapshot body of either format (e.g. `Engine.snapshot`). */
export function snapshotBodyLine(body: SnapshotBody): string {
  return `{"type":"snapshot",${JSON.stringify(body).slice(1)}`;
}

/**
 * `--keyframes N`: a function that returns a snapshot line (the strategy's full canonical tile set)
 * after every Nth version of each strategy, and undefined otherwise, in the format of the version
 * records. It folds the versions it is shown (upserts replace by key, removes delete), so it needs
 * nothing but the output records: for format 2, the stream's mark register is the mark of each
 * ticker in the last upserted tile that used it (every upsert carries its legs' current marks).
 */
export function createKeyframer(every: number | undefined): (out: EngineOutput) => string | undefined {
  const states = new Map<string, { since: number; fold: VersionFold }>();
  return (out) => {
    if (every === undefined || out.type !== 'version') return undefined;
    let state = states.get(out.strategy);
    if (!state) states.set(out.strategy, (state = { since: 0, fold: new VersionFold(out.strategy, out.format ?? 1) }));
    state.fold.apply(out);
    state.since = (state.since + 1) % every;
    if (state.since !== 0) return undefined;
    return snapshotBodyLine(state.fold.snapshot());
  };
}

/** What the summary line is made of (a replay's or a live session's outcome). */
export interface SummaryParts {
  readonly manifest: { readonly underlying: string };
  readonly summary: EngineSummary;
  /** Lines read (good and bad). */
  readonly lines: number;
  readonly bad: Tally;
  readonly cuts: readonly unknown[];
  readonly first_recv_us: number | undefined;
  readonly last_recv_us: number | undefined;
  /**
   * Output dropped because a consumer stopped taking it (live only: `ndjson_lines` of the ordered
   * stream); absent when nothing was dropped, so normal summaries are unchanged.
   */
  readonly dropped?: Readonly<Record<string, number>>;
}

/** The deterministic `summary` line of the NDJSON stream (DESIGN §3); `run` only when asked for. */
export function summaryRecord(r: SummaryParts, run?: Record<string, unknown>, format: 1 | 2 = 1): Record<string, unknown> {
  const s = r.summary;
  return {
    type: 'summary',
    // Which stream this is; a format 1 summary stays as it always was (its bytes are part of what
    // `--format 1` reproduces).
    ...(format === 2 ? { format: 2 } : {}),
    underlying: r.manifest.underlying,
    lines: r.lines,
    inputs: s.inputs,
    facts: s.facts,
    ...splitBad(r.bad),
    truncated_files: r.cuts.length,
    span_us: r.first_recv_us === undefined ? null : [r.first_recv_us, r.last_recv_us],
    snapshots: s.snapshots,
    topology: s.topology,
    skipped: s.skipped,
    strategies: s.strategies,
    ...(r.dropped ? { dropped: r.dropped } : {}),
    ...(run ? { run } : {}),
  };
}

/** Reasons that are normal market data rather than damage (zero-bid quotes, aggregates we do not use). */
const BENIGN = /(_no_mid$|^ws_ignored_)/;

/** Splits the tally into `bad` (damaged or invalid input) and `ignored` (valid but unused). */
export function splitBad(t: Tally): { bad: { total: number; reasons: Record<string, number> }; ignored: Record<string, number> } {
  const bad: Record<string, number> = {};
  const ignored: Record<string, number> = {};
  let total = 0;
  for (const [k, n] of Object.entries(t.toJSON())) {
    if (BENIGN.test(k)) ignored[k] = n;
    else {
      bad[k] = n;
      total += n;
    }
  }
  return { bad: { total, reasons: bad }, ignored };
}
