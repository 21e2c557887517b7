import { resolveStrategies } from '../strategies/index.js';
import { Engine, type EngineSummary, type EngineView } from '../engine/engine.js';
import type { EngineConfig } from '../engine/config.js';
import type { EngineOutput } from '../engine/types.js';
import { Tally } from '../engine/tally.js';
import { LineDecoder } from './decode.js';
import { readManifest, type Manifest } from '../recording/manifest.js';
import { newReadReport, readRecordingBatches } from '../recording/reader.js';
import type { Pacer } from './pacer.js';

/**
 * Drives a recording through the engine: merge the streams by receive time, decode each line,
 * push it, hand every output to the caller. Pacing (`--speed N`) only delays inputs; it never
 * drops or reorders them, so the output is the same at any speed.
 */

export interface ReplayOptions {
  readonly dir: string;
  readonly config: EngineConfig;
  readonly from_us?: number;
  readonly to_us?: number;
  /** Absent: as fast as possible. */
  readonly pacer?: Pacer;
  readonly onOutput: (out: EngineOutput, view: EngineView) => void;
  /** Called with progress every `progressEvery` lines (default 5000) and once at the end. */
  readonly onProgress?: (p: ReplayProgress) => void;
  readonly progressEvery?: number;
  /**
   * Called after every line (the engine has then emitted everything for the inputs so far):
   * backpressure from the output, awaited whenever it returns a promise.
   */
  readonly drain?: (view: EngineView) => Promise<void> | undefined;
  /** Stops the replay early (e.g. the TUI's quit key). */
  readonly signal?: AbortSignal;
  /** Format of the version lines (DESIGN §3.1); default 1. */
  readonly format?: 1 | 2;
  /** The reader's bound on one line's UTF-8 bytes (default 64 MiB). */
  readonly maxLineBytes?: number;
  /** `onOutput` reads a version's `upserts` (if at all) as it is emitted: `EngineOptions.linesOnly`. */
  readonly linesOnly?: boolean;
}

export interface ReplayProgress {
  readonly lines: number;
  readonly recv_us: number;
  readonly versions: number;
}

/** What a replay found: enough for the summary line and the report (no live engine state). */
export interface ReplayOutcome {
  readonly manifest: Manifest;
  readonly summary: EngineSummary;
  /** Lines read (good and bad). */
  readonly lines: number;
  readonly bad: Tally;
  /** Truncated files / torn tails found (file names are run-specific: not for the NDJSON stream). */
  readonly cuts: readonly { file: string; reason: string }[];
  /** What the reader did about the layout without losing anything (e.g. split files reordered). */
  readonly notes: readonly string[];
  readonly first_recv_us: number | undefined;
  readonly last_recv_us: number | undefined;
  readonly aborted: boolean;
  /** Output dropped because a consumer stopped taking it (live), when any (summary `dropped`). */
  readonly dropped?: Readonly<Record<string, number>>;
}

export async function replayRecording(opts: ReplayOptions): Promise<ReplayOutcome> {
  const manifest = await readManifest(opts.dir);
  const report = newReadReport();
  const decodeBad = new Tally();
  const decoder = new LineDecoder(manifest.underlying, decodeBad);
  const engine = new Engine({ config: opts.config, underlying: manifest.underlying, strategies: resolveStrategies(opts.config), format: opts.format, linesOnly: opts.linesOnly });
  const every = opts.progressEvery ?? 5000;
  let lines = 0;
  let versions = 0;
  let first: number | undefined;
  let last: number | undefined;
  let aborted = false;
  const emit = (out: EngineOutput): void => {
    if (out.type === 'version') versions++;
    opts.onOutput(out, engine.view);
  };
  reading: for await (const batch of readRecordingBatches(opts.dir, { from_us: opts.from_us, to_us: opts.to_us, maxLineBytes: opts.maxLineBytes }, report)) for (const line of batch) {
    if (opts.signal?.aborted) {
      aborted = true;
      break reading;
    }
    lines++;
    first ??= line.recv_us;
    last = line.recv_us;
    if (opts.pacer) await opts.pacer.waitFor(line.recv_us);
    const input = decoder.decode(line);
    if (input) engine.push(input, emit);
    const blocked = opts.drain?.(engine.view);
    if (blocked) await blocked;
    if (opts.onProgress && lines % every === 0) opts.onProgress({ lines, recv_us: line.recv_us, versions });
  }
  if (opts.onProgress && last !== undefined) opts.onProgress({ lines, recv_us: last, versions });
  const bad = new Tally();
  bad.merge(report.bad);
  bad.merge(decodeBad);
  return {
    manifest,
    summary: engine.summary(),
    lines: lines + report.bad.total,
    bad,
    cuts: report.cuts,
    notes: report.notes,
    first_recv_us: first,
    last_recv_us: last,
    aborted,
  };
}
