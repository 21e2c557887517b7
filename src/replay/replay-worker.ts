import { parentPort, workerData } from 'node:worker_threads';
import type { EngineConfig } from '../engine/config.js';
import type { EngineView } from '../engine/engine.js';
import type { EngineOutput } from '../engine/types.js';
import { createKeyframer, outputBytes } from '../engine/output-lines.js';
import { exitCodeOf } from '../errors.js';
import { replayRecording, type ReplayOutcome } from './replay.js';

/**
 * One worker thread of a parallel replay (src/recording/parallel-replay.ts): it reads and decodes
 * the whole recording itself and runs an engine with its share of the strategies. Each output line
 * goes to the main thread with its merge key (engine position + the strategy's place in the global
 * evaluation order), in batches; the main thread merges the workers' lines into the order one engine
 * running every strategy would have written them.
 */

/** What the main thread hands a worker. */
export interface ReplayWorkerTask {
  readonly dir: string;
  /** The config with only this worker's strategies enabled. */
  readonly config: EngineConfig;
  readonly from_us?: number;
  readonly to_us?: number;
  readonly keyframes?: number;
  readonly format: 1 | 2;
  readonly maxLineBytes?: number;
  /** The primary worker also writes the strategy-less lines (gaps) and reports progress. */
  readonly primary: boolean;
  /** Every strategy of the run in evaluation order: a line's merge key holds its index here. */
  readonly order: readonly string[];
  /** Batches this worker may have in flight (sent, not yet written by the main thread). */
  readonly maxInFlight: number;
  /** A batch is sent once its lines reach this many bytes. */
  readonly batchBytes: number;
}

/** Worker → main messages. */
export type WorkerMessage =
  | {
      readonly type: 'batch';
      /** 4 numbers per line: input, phase, step, strategy index (-1: no strategy). */
      readonly keys: Float64Array;
      /** The lines, UTF-8, each with its newline; `ends[i]` is where line i ends. */
      readonly bytes: Uint8Array;
      readonly ends: Uint32Array;
      /** Every line for inputs ≤ this has been sent (in this batch or before). */
      readonly done: number;
      readonly versions: number;
      readonly progress?: { readonly lines: number; readonly recv_us: number };
    }
  | { readonly type: 'end'; readonly outcome: WorkerOutcome }
  | { readonly type: 'fail'; readonly name: string; readonly message: string; readonly exitCode: number };

/** The replay outcome in a form that crosses threads (the tally becomes counts + samples). */
export interface WorkerOutcome extends Omit<ReplayOutcome, 'bad'> {
  readonly bad: { readonly counts: Record<string, number>; readonly samples: Record<string, readonly string[]> };
}

/** Main → worker: `credit` — one batch has been written, one more may be sent; `stop` — end now. */
export interface ControlMessage {
  readonly type: 'credit' | 'stop';
}

async function run(task: ReplayWorkerTask): Promise<void> {
  const port = parentPort!;
  const strategyIndex = new Map(task.order.map((name, i) => [name, i]));
  const keyframe = createKeyframer(task.keyframes);
  let keys: number[] = [];
  let lines: Uint8Array[] = [];
  let size = 0;
  let versions = 0;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  /** Inputs the engine has finished (every line for them has been emitted). */
  let inputsDone = 0;
  let progress: { lines: number; recv_us: number } | undefined;
  const abort = new AbortController();
  port.on('message', (m: ControlMessage) => {
    if (m.type === 'stop') {
      abort.abort();
      wake?.();
      return;
    }
    inFlight--;
    if (inFlight < task.maxInFlight) wake?.();
  });

  const send = (done: number): void => {
    const packed = Float64Array.from(keys);
    const ends = new Uint32Array(lines.length);
    // the bytes are made here, on the worker's core, and handed over without a copy
    const bytes = Buffer.allocUnsafeSlow(size + lines.length);
    let pos = 0;
    for (let i = 0; i < lines.length; i++) {
      bytes.set(lines[i]!, pos);
      pos += lines[i]!.length;
      bytes[pos++] = 0x0a;
      ends[i] = pos;
    }
    const msg: WorkerMessage = { type: 'batch', keys: packed, bytes, ends, done, versions, ...(progress ? { progress } : {}) };
    port.postMessage(msg, [packed.buffer as ArrayBuffer, ends.buffer as ArrayBuffer, bytes.buffer as ArrayBuffer]);
    inFlight++;
    keys = [];
    lines = [];
    size = 0;
    versions = 0;
    progress = undefined;
  };
  const add = (s: number, line: Uint8Array, e: EngineView): void => {
    const p = e.position;
    keys.push(p.input, p.phase, p.step, s);
    lines.push(line);
    size += line.length;
  };
  const onOutput = (out: EngineOutput, e: EngineView): void => {
    if (out.type === 'gap' && !task.primary) return; // every worker sees the gap; one writes it
    const s = out.type === 'gap' ? -1 : strategyIndex.get(out.strategy)!;
    add(s, outputBytes(out), e);
    if (out.type === 'version') versions++;
    const snapshot = keyframe(out);
    if (snapshot !== undefined) add(s, Buffer.from(snapshot), e);
    if (size >= task.batchBytes) send(e.position.input - 1); // the current input may emit more
  };
  const drain = (e: EngineView): Promise<void> | undefined => {
    inputsDone = e.position.input;
    if (size >= task.batchBytes) send(inputsDone);
    if (inFlight < task.maxInFlight || abort.signal.aborted) return undefined;
    return new Promise<void>((resolve) => {
      wake = () => {
        wake = undefined;
        resolve();
      };
    });
  };

  const result = await replayRecording({
    dir: task.dir,
    config: task.config,
    format: task.format,
    maxLineBytes: task.maxLineBytes,
    from_us: task.from_us,
    to_us: task.to_us,
    onOutput,
    drain,
    signal: abort.signal,
    // a marker every few thousand lines lets the main thread merge the other workers' lines
    progressEvery: 2000,
    onProgress: (p) => {
      if (task.primary) progress = { lines: p.lines, recv_us: p.recv_us };
      send(inputsDone);
    },
  });
  send(Number.POSITIVE_INFINITY);
  const { bad, ...rest } = result;
  const outcome: WorkerOutcome = { ...rest, bad: { counts: bad.toJSON(), samples: bad.sampleDetails() } };
  port.postMessage({ type: 'end', outcome } satisfies WorkerMessage);
}

run(workerData as ReplayWorkerTask).catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  parentPort!.postMessage({ type: 'fail', name: e.name, message: e.message, exitCode: exitCodeOf(e) } satisfies WorkerMessage);
});
