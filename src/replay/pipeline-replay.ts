import type { EngineConfig } from '../engine/config.js';
import type { EngineView } from '../engine/engine.js';
import { Tally } from '../engine/tally.js';
import type { EngineOutput } from '../engine/types.js';
import type { Manifest } from '../recording/manifest.js';
import { newReadReport, readRecordingBatches } from '../recording/reader.js';
import type { Pacer } from './pacer.js';
import { isVersionLine } from './pipeline-failure.js';
import { PipelinePool } from './pipeline-pool.js';
import type { ReplayOutcome, ReplayProgress } from './replay.js';

/**
 * A replay whose strategies run in worker pipelines (pipeline-pool.ts): what `replay --sse` and
 * `replay --tui` use, so that a strategy that stalls, throws or runs out of memory never holds
 * back the others' versions on the per-strategy views. The NDJSON stream is the same bytes as the
 * in-process replay's as long as no pipeline is lost.
 */

export interface PipelineReplayOptions {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly config: EngineConfig;
  readonly format: 1 | 2;
  readonly keyframes?: number;
  readonly from_us?: number;
  readonly to_us?: number;
  readonly maxLineBytes?: number;
  readonly pacer?: Pacer;
  readonly stallTimeoutMs: number;
  readonly heapMb: number;
  /** Per-strategy consumers: each strategy's records as soon as its pipeline sends them. */
  readonly onRecord?: (out: EngineOutput, view: EngineView) => void;
  /** Ordered consumers (the tile history): every record in stream order. */
  readonly onOrdered?: (out: EngineOutput, view: EngineView) => void;
  /** The NDJSON stream: complete lines, each with its newline. */
  readonly write: (bytes: Uint8Array) => void;
  /** Backpressure of the NDJSON stream (the replay waits while it is full). */
  readonly drain: () => Promise<void> | undefined;
  readonly onProgress?: (p: ReplayProgress) => void;
  readonly progressEvery?: number;
  readonly signal?: AbortSignal;
}

export async function replayThroughPipelines(opts: PipelineReplayOptions): Promise<ReplayOutcome> {
  let versions = 0;
  const pool = new PipelinePool({
    config: opts.config,
    underlying: opts.manifest.underlying,
    format: opts.format,
    keyframes: opts.keyframes,
    stallTimeoutMs: opts.stallTimeoutMs,
    heapMb: opts.heapMb,
    whenBehind: 'wait',
    records: opts.onRecord !== undefined || opts.onOrdered !== undefined,
    onRecord: opts.onRecord,
    output: {
      write: (line, rec, view) => {
        if (isVersionLine(line)) versions++;
        opts.write(line);
        if (rec && view && opts.onOrdered) opts.onOrdered(rec, view);
      },
      drain: opts.drain,
    },
  });
  const report = newReadReport();
  const every = opts.progressEvery ?? 5000;
  let lines = 0;
  let first: number | undefined;
  let last: number | undefined;
  let aborted = false;
  const onAbort = (): void => pool.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    reading: for await (const batch of readRecordingBatches(opts.dir, { from_us: opts.from_us, to_us: opts.to_us, maxLineBytes: opts.maxLineBytes }, report)) for (const line of batch) {
      if (opts.signal?.aborted) {
        aborted = true;
        break reading;
      }
      lines++;
      first ??= line.recv_us;
      last = line.recv_us;
      if (opts.pacer) await opts.pacer.waitFor(line.recv_us);
      pool.push(line);
      const wait = pool.ready();
      if (wait) await wait;
      // A recording's lines can come without a turn of the event loop in between: let the workers'
      // messages in (their output, their credit) at least once per batch of input.
      else if (lines % 256 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (opts.onProgress && lines % every === 0) opts.onProgress({ lines, recv_us: line.recv_us, versions });
    }
  } catch (err) {
    await pool.destroy();
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (aborted) pool.abort();
  const outcome = await pool.finish();
  if (opts.onProgress && last !== undefined) opts.onProgress({ lines, recv_us: last, versions });
  const bad = new Tally();
  bad.merge(report.bad);
  bad.merge(outcome.bad);
  return {
    manifest: opts.manifest,
    summary: outcome.summary,
    lines: lines + report.bad.total,
    bad,
    cuts: report.cuts,
    notes: report.notes,
    first_recv_us: first,
    last_recv_us: last,
    aborted,
  };
}
