import { availableParallelism } from 'node:os';
import { startWorker } from '../worker-thread.js';
import { InputError, RuntimeError, UsageError } from '../errors.js';
import { enabledStrategyNames, selectStrategies, type EngineConfig } from '../engine/config.js';
import { Tally } from '../engine/tally.js';
import type { Manifest } from '../recording/manifest.js';
import type { EngineSummary } from '../engine/engine.js';
import { newReadReport, readRecordingBatches } from '../recording/reader.js';
import { LineDecoder } from './decode.js';
import { InputEncoder } from './input-codec.js';
import type { ReplayOutcome, ReplayProgress } from './replay.js';
import type { ControlMessage, ReplayWorkerTask, WorkerMessage } from './replay-worker.js';

/**
 * Parallel replay (`replay --jobs N` at --speed max): the strategies are split over N worker
 * threads, each of which runs an engine with its share (DESIGN §2.4: pipelines share inputs, not
 * control, and a strategy's output does not depend on the others). The main thread reads and
 * decodes the recording once and sends every worker the same decoded inputs, as numbers
 * (input-codec.ts); it merges the workers' lines by their merge key — (input, phase, step,
 * strategy index), see `EmitPosition` — so the stream is byte-identical to the in-process replay's.
 *
 * Memory stays bounded: a worker has at most `MAX_INPUT_BATCHES` input batches it has not applied
 * and `maxInFlight` output batches the main thread has not written yet, and the main thread stops
 * taking lines while the output applies backpressure.
 */

/**
 * Input batches a worker may have queued (sent, not yet applied), and output batches it may have in
 * flight. Slack between the threads: the workers' costs differ from one stretch of the session to
 * the next, and with 4 and 8 a thread often waited for another while a core idled (~1.87 of 2
 * cores busy on the bench day, ~1.91 with 16 and 32; 32 and 64 gave no more; ~40 MB more peak RSS).
 */
const MAX_INPUT_BATCHES = 16;
const MAX_OUTPUT_BATCHES = 32;
/** An input batch is sent once it holds this many numbers (~256 KB)… */
const INPUT_BATCH_NUMBERS = 32_768;
/** …or this many lines have been read since the last one (so progress and the merge move on). */
const PROGRESS_EVERY = 2000;

export interface ParallelReplayOptions {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly config: EngineConfig;
  readonly jobs: number;
  readonly from_us?: number;
  readonly to_us?: number;
  readonly keyframes?: number;
  readonly format: 1 | 2;
  readonly maxLineBytes?: number;
  /** Writes complete lines (UTF-8, each with its newline; several at once when they come in a row). */
  readonly write: (bytes: Uint8Array) => void;
  /** Backpressure from the output: a promise while it is full. */
  readonly drain: () => Promise<void> | undefined;
  readonly onProgress?: (p: ReplayProgress) => void;
  /** Stops the replay: the workers end after their current line and report what they did. */
  readonly signal?: AbortSignal;
}

/** Relative cost of a strategy's pipeline, for splitting them over workers (measured by `npm run bench`). */
function weightOf(strategy: string): number {
  return strategy === 'single' ? 1 : 3;
}

/**
 * Splits the strategies over at most `jobs` workers, heaviest first onto the least loaded
 * (ties: the lower worker); each group keeps evaluation order.
 */
export function planWorkers(strategies: readonly string[], jobs: number): string[][] {
  const n = Math.max(1, Math.min(jobs, strategies.length));
  const load = new Array<number>(n).fill(0);
  const groups: string[][] = Array.from({ length: n }, () => []);
  const byWeight = strategies.map((name, i) => ({ name, i })).sort((a, b) => weightOf(b.name) - weightOf(a.name) || a.i - b.i);
  for (const { name } of byWeight) {
    let w = 0;
    for (let k = 1; k < n; k++) if (load[k]! < load[w]!) w = k;
    load[w]! += weightOf(name);
    groups[w]!.push(name);
  }
  const rank = new Map(strategies.map((name, i) => [name, i]));
  return groups.map((g) => g.sort((a, b) => rank.get(a)! - rank.get(b)!));
}

/**
 * The engine worker threads of a `--speed max` replay: `--jobs 1` runs everything in this thread,
 * `--jobs N` (N ≥ 2) up to N workers, at most one per strategy. Without the flag: one worker per
 * core, at most one per strategy, and a worker even for a single strategy when there is a second
 * core — this thread then reads and decodes the recording while the worker runs the engine (the
 * two halves of a one-strategy replay cost about the same). 0 means no worker.
 */
export function workerCount(jobsFlag: number | undefined, strategyCount: number): number {
  if (strategyCount === 0) return 0;
  if (jobsFlag !== undefined) return jobsFlag > 1 ? Math.min(jobsFlag, strategyCount) : 0;
  const cores = availableParallelism();
  return cores > 1 ? Math.min(cores, strategyCount) : 0;
}

interface Batch {
  readonly worker: number;
  readonly keys: Float64Array;
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
  pos: number;
}

/** True when line `i` of batch `a` sorts before line `j` of batch `b`. */
function before(a: Batch, i: number, b: Batch, j: number): boolean {
  for (let k = 0; k < 4; k++) {
    const x = a.keys[i * 4 + k]!;
    const y = b.keys[j * 4 + k]!;
    if (x !== y) return x < y;
  }
  return false;
}

export async function replayInParallel(opts: ParallelReplayOptions): Promise<ReplayOutcome> {
  const order = enabledStrategyNames(opts.config);
  const groups = planWorkers(order, opts.jobs);
  const queues: Batch[][] = groups.map(() => []);
  const done = groups.map(() => -1);
  const summaries: (EngineSummary | undefined)[] = groups.map(() => undefined);
  /** Input batches sent to each worker and not yet applied. */
  const inputsInFlight = groups.map(() => 0);
  const workers = groups.map((group, w) => {
    const task: ReplayWorkerTask = {
      config: selectStrategies(opts.config, group),
      underlying: opts.manifest.underlying,
      keyframes: opts.keyframes,
      format: opts.format,
      primary: w === 0,
      order,
      maxInFlight: MAX_OUTPUT_BATCHES,
      batchBytes: 1 << 20,
    };
    return startWorker('replay/replay-worker.js', { workerData: task });
  });
  const post = (w: number, m: ControlMessage, transfer?: ArrayBuffer[]): void => workers[w]!.postMessage(m, transfer);
  const credit = (w: number): void => post(w, { type: 'credit' });
  let versions = 0;
  let failure: Error | undefined;
  let stopped = false;
  /** Wakes the reading loop (an input batch was applied, the run failed or stopped). */
  let wakeReader: (() => void) | undefined;
  const nudgeReader = (): void => {
    const w = wakeReader;
    wakeReader = undefined;
    w?.();
  };

  const finished = new Promise<void>((resolve, reject) => {
    let pumping = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      workers.forEach((_, w) => post(w, { type: 'stop' }));
      queues.forEach((q, w) => {
        for (let i = 0; i < q.length; i++) credit(w);
        q.length = 0;
      });
      nudgeReader();
    };
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener('abort', stop, { once: true });
    const fail = (err: Error): void => {
      if (failure) return;
      failure = err;
      for (const wk of workers) void wk.terminate();
      opts.signal?.removeEventListener('abort', stop);
      nudgeReader();
      reject(err);
    };
    const finishIfDone = (): void => {
      if (failure || pumping || summaries.some((o) => o === undefined) || queues.some((q) => q.length > 0)) return;
      for (const wk of workers) void wk.terminate();
      opts.signal?.removeEventListener('abort', stop);
      resolve();
    };
    /** Writes every line that is known to come next; waits on the output's backpressure. */
    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      try {
        for (;;) {
          if (failure || stopped) break;
          let best: Batch | undefined;
          for (const q of queues) {
            const head = q[0];
            if (head && (!best || before(head, head.pos, best, best.pos))) best = head;
          }
          if (!best) break;
          // a worker with nothing queued could still send an earlier line, unless it is past this input
          const mayCome = (input: number): boolean => queues.some((q, v) => q.length === 0 && v !== best!.worker && done[v]! < input);
          if (mayCome(best.keys[best.pos * 4]!)) break;
          // the lines of this batch that come next are contiguous bytes: one write for all of them
          const start = best.pos === 0 ? 0 : best.ends[best.pos - 1]!;
          let next = best.pos + 1;
          while (next < best.ends.length && !mayCome(best.keys[next * 4]!) && queues.every((q) => q === queues[best!.worker] || q.length === 0 || before(best!, next, q[0]!, q[0]!.pos))) next++;
          opts.write(best.bytes.subarray(start, best.ends[next - 1]!));
          best.pos = next;
          if (best.pos === best.ends.length) {
            queues[best.worker]!.shift();
            credit(best.worker);
            const blocked = opts.drain();
            if (blocked) await blocked;
          }
        }
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      } finally {
        pumping = false;
      }
      finishIfDone();
    };
    workers.forEach((wk, w) => {
      wk.on('message', (m: WorkerMessage) => {
        if (m.type === 'batch') {
          done[w] = m.done;
          versions += m.versions;
          if (m.ends.length > 0 && !stopped) queues[w]!.push({ worker: w, keys: m.keys, bytes: m.bytes, ends: m.ends, pos: 0 });
          else credit(w);
          void pump();
        } else if (m.type === 'consumed') {
          inputsInFlight[w]!--;
          nudgeReader();
        } else if (m.type === 'end') {
          summaries[w] = m.summary;
          finishIfDone();
        } else {
          const Kind = m.name === 'UsageError' ? UsageError : m.exitCode === 2 ? InputError : RuntimeError;
          fail(new Kind(m.message));
        }
      });
      wk.on('error', (err) => fail(new RuntimeError(`replay worker for ${groups[w]!.join(',')} failed: ${err.message}`)));
      wk.on('exit', (code) => {
        if (summaries[w] === undefined) fail(new RuntimeError(`replay worker for ${groups[w]!.join(',')} stopped (exit code ${code}) before the end`));
      });
    });
  });
  finished.catch(() => {}); // awaited below; a failure while still reading must not go unhandled meanwhile

  // Read and decode the recording once, here; every worker gets the same batches.
  const report = newReadReport();
  const bad = new Tally();
  const decoder = new LineDecoder(opts.manifest.underlying, bad);
  const encoder = new InputEncoder();
  let lines = 0;
  let first: number | undefined;
  let last: number | undefined;
  const sendInputs = async (): Promise<void> => {
    while (!failure && !stopped && inputsInFlight.some((n) => n >= MAX_INPUT_BATCHES)) await new Promise<void>((resolve) => (wakeReader = resolve));
    if (failure || stopped) return;
    const batch = encoder.take();
    workers.forEach((_, w) => {
      inputsInFlight[w]!++;
      // the last worker gets the buffer itself, the others a copy
      if (w === workers.length - 1) post(w, { type: 'inputs', batch }, [batch.nums.buffer as ArrayBuffer]);
      else post(w, { type: 'inputs', batch });
    });
  };
  try {
    reading: for await (const batch of readRecordingBatches(opts.dir, { from_us: opts.from_us, to_us: opts.to_us, maxLineBytes: opts.maxLineBytes }, report)) for (const line of batch) {
      if (failure || stopped) break reading;
      lines++;
      first ??= line.recv_us;
      last = line.recv_us;
      const input = decoder.decode(line);
      if (input) encoder.add(input);
      if (encoder.size >= INPUT_BATCH_NUMBERS || lines % PROGRESS_EVERY === 0) {
        await sendInputs();
        opts.onProgress?.({ lines, recv_us: line.recv_us, versions });
      }
    }
  } catch (err) {
    // the recording cannot be read (exit 2, as in-process): the workers go with it
    failure ??= err instanceof Error ? err : new Error(String(err));
    for (const wk of workers) void wk.terminate();
    throw err;
  }
  if (!failure && !stopped) {
    await sendInputs();
    workers.forEach((_, w) => post(w, { type: 'end' }));
  }
  if (last !== undefined) opts.onProgress?.({ lines, recv_us: last, versions });
  await finished;

  const primary = summaries[0]!;
  const strategies: ReplayOutcome['summary']['strategies'] = {};
  for (const name of order) strategies[name] = summaries[groups.findIndex((g) => g.includes(name))]!.strategies[name]!;
  const all = new Tally();
  all.merge(report.bad);
  all.merge(bad);
  return {
    manifest: opts.manifest,
    summary: { ...primary, strategies },
    lines: lines + report.bad.total,
    bad: all,
    cuts: report.cuts,
    notes: report.notes,
    first_recv_us: first,
    last_recv_us: last,
    aborted: stopped,
  };
}
