import type { EngineConfig } from '../engine/config.js';
import { defaultConfig } from '../engine/config.js';
import { summaryRecord } from '../engine/output-lines.js';
import type { EngineOutput } from '../engine/types.js';
import { replayRecording, type ReplayOutcome } from '../replay/replay.js';
import { Pacer } from '../replay/pacer.js';
import { loadStrategyModules } from '../strategies/modules.js';

/** Options of {@link replay}. */
export interface ApiReplayOptions {
  /**
   * Engine configuration (validated: use `validateConfig(json)`); default: the documented defaults.
   * Its `strategies.modules` (paths relative to the working directory) are loaded and checked first.
   */
  readonly config?: EngineConfig;
  /** Format of the version records' lines and hash chain (DESIGN §3): 2 (default) or 1. */
  readonly format?: 1 | 2;
  /** Receive-time window, µs: `from_us` inclusive, `to_us` exclusive. */
  readonly from_us?: number;
  readonly to_us?: number;
  /** Pace the replay at N× real time; default as fast as possible. */
  readonly speed?: number;
}

/** The last record of {@link replay}: the summary line's content. */
export interface SummaryRecordOut {
  readonly type: 'summary';
  readonly [field: string]: unknown;
}

/**
 * Replays a recording directory through the engine: an async iterable of output records —
 * versions (with their upserted tiles), gaps, pipeline errors — in stream order, then one summary.
 * Breaking out of the loop stops the replay and releases the files. Backpressure is the loop's
 * own pace: the engine waits while your loop body awaits.
 */
export async function* replay(dir: string, options: ApiReplayOptions = {}): AsyncGenerator<EngineOutput | SummaryRecordOut> {
  const queue: EngineOutput[] = [];
  let wake: (() => void) | undefined;
  let resumeEngine: (() => void) | undefined;
  let done = false;
  let failure: unknown;
  let outcome: ReplayOutcome | undefined;
  const abort = new AbortController();
  const config = await loadStrategyModules(options.config ?? defaultConfig());
  const run = replayRecording({
    dir,
    config,
    format: options.format ?? 2,
    from_us: options.from_us,
    to_us: options.to_us,
    pacer: options.speed !== undefined ? new Pacer(options.speed) : undefined,
    signal: abort.signal,
    onOutput: (out) => {
      queue.push(out);
      wake?.();
    },
    // After each input: wait until the consumer has taken what the engine emitted.
    drain: () => (queue.length === 0 ? undefined : new Promise<void>((resolve) => (resumeEngine = resolve))),
  }).then(
    (r) => {
      outcome = r;
      done = true;
      wake?.();
    },
    (err: unknown) => {
      failure = err;
      done = true;
      wake?.();
    },
  );
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      const resume = resumeEngine;
      resumeEngine = undefined;
      resume?.();
      if (done && queue.length === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (queue.length > 0 || done) resolve();
      });
      wake = undefined;
    }
    await run;
    if (failure !== undefined) throw failure;
    yield summaryRecord(outcome!, undefined, options.format ?? 2) as SummaryRecordOut;
  } finally {
    abort.abort();
    resumeEngine?.();
    await run;
  }
}
