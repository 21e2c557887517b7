import { parentPort, workerData } from 'node:worker_threads';
import type { EngineConfig } from '../engine/config.js';
import { Engine, type EngineSummary } from '../engine/engine.js';
import type { EngineOutput } from '../engine/types.js';
import { createKeyframer, outputBytes } from '../engine/output-lines.js';
import { exitCodeOf } from '../errors.js';
import { resolveStrategies } from '../strategies/index.js';
import { loadStrategyModules } from '../strategies/modules.js';
import { InputDecoder, type InputBatch } from './input-codec.js';
import { packLines } from './line-batch.js';

/**
 * One worker thread of a parallel replay (parallel-replay.ts): it runs an engine with its share of
 * the strategies on the inputs the main thread decoded once and sends it in batches (input-codec).
 * Each output line goes to the main thread with its merge key (engine position + the strategy's
 * place in the global evaluation order), in batches; the main thread merges the workers' lines into
 * the order one engine running every strategy would have written them.
 */

/** What the main thread hands a worker. */
export interface ReplayWorkerTask {
  /** The config with only this worker's strategies enabled. */
  readonly config: EngineConfig;
  /** The recording's underlying (the spot ticker). */
  readonly underlying: string;
  readonly keyframes?: number;
  readonly format: 1 | 2;
  /** The primary worker also writes the strategy-less lines (gaps). */
  readonly primary: boolean;
  /** Every strategy of the run in evaluation order: a line's merge key holds its index here. */
  readonly order: readonly string[];
  /** Output batches this worker may have in flight (sent, not yet written by the main thread). */
  readonly maxInFlight: number;
  /** An output batch is sent once its lines reach this many bytes. */
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
    }
  /** One input batch has been applied: the main thread may send another. */
  | { readonly type: 'consumed' }
  | { readonly type: 'end'; readonly summary: EngineSummary }
  | { readonly type: 'fail'; readonly name: string; readonly message: string; readonly exitCode: number };

/**
 * Main → worker: `inputs` — the next batch of decoded inputs; `end` — no more inputs; `credit` —
 * one output batch has been written, one more may be sent; `stop` — end now.
 */
export type ControlMessage = { readonly type: 'inputs'; readonly batch: InputBatch } | { readonly type: 'end' | 'credit' | 'stop' };

async function run(task: ReplayWorkerTask): Promise<void> {
  const port = parentPort!;
  const inbox: (InputBatch | 'end')[] = [];
  let stopped = false;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const nudge = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitForMessage = (): Promise<void> => new Promise<void>((resolve) => (wake = resolve));
  // Listen before anything is awaited: the main thread may send inputs at once.
  port.on('message', (m: ControlMessage) => {
    if (m.type === 'inputs') inbox.push(m.batch);
    else if (m.type === 'end') inbox.push('end');
    else if (m.type === 'stop') stopped = true;
    else inFlight--;
    nudge();
  });

  // The main thread loaded and checked the strategy modules; this thread loads the same files.
  const config = await loadStrategyModules(task.config);
  // only lines leave this thread (the keyframer reads a version's upserts as it is emitted)
  const engine = new Engine({ config, underlying: task.underlying, strategies: resolveStrategies(config), format: task.format, linesOnly: true });
  const strategyIndex = new Map(task.order.map((name, i) => [name, i]));
  const keyframe = createKeyframer(task.keyframes);
  let keys: number[] = [];
  let lines: Uint8Array[] = [];
  let size = 0;
  let versions = 0;

  const send = (done: number): void => {
    const packed = Float64Array.from(keys);
    const { bytes, ends } = packLines(lines);
    const msg: WorkerMessage = { type: 'batch', keys: packed, bytes, ends, done, versions };
    port.postMessage(msg, [packed.buffer as ArrayBuffer, ends.buffer as ArrayBuffer, bytes.buffer as ArrayBuffer]);
    inFlight++;
    keys = [];
    lines = [];
    size = 0;
    versions = 0;
  };
  const add = (s: number, line: Uint8Array): void => {
    const p = engine.view.position;
    keys.push(p.input, p.phase, p.step, s);
    lines.push(line);
    size += line.length;
  };
  const emit = (out: EngineOutput): void => {
    if (out.type === 'gap' && !task.primary) return; // every worker sees the gap; one writes it
    const s = out.type === 'gap' ? -1 : strategyIndex.get(out.strategy)!;
    add(s, outputBytes(out));
    if (out.type === 'version') versions++;
    const snapshot = keyframe(out);
    if (snapshot !== undefined) add(s, Buffer.from(snapshot));
    if (size >= task.batchBytes) send(engine.view.position.input - 1); // the current input may emit more
  };

  const decoder = new InputDecoder();
  for (;;) {
    while (inbox.length === 0 && !stopped) await waitForMessage();
    if (stopped) break;
    const batch = inbox.shift()!;
    if (batch === 'end') break;
    for (const input of decoder.inputs(batch)) {
      engine.push(input, emit);
      if (size >= task.batchBytes) send(engine.view.position.input);
      while (inFlight >= task.maxInFlight && !stopped) await waitForMessage();
      if (stopped) break;
    }
    // every line of this batch's inputs is out: tell the merge how far this worker is
    send(engine.view.position.input);
    port.postMessage({ type: 'consumed' } satisfies WorkerMessage);
  }
  send(Number.POSITIVE_INFINITY);
  port.postMessage({ type: 'end', summary: engine.summary() } satisfies WorkerMessage);
}

run(workerData as ReplayWorkerTask).catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  parentPort!.postMessage({ type: 'fail', name: e.name, message: e.message, exitCode: exitCodeOf(e) } satisfies WorkerMessage);
});
