import { parentPort, workerData } from 'node:worker_threads';
import { Engine } from '../engine/engine.js';
import { createKeyframer, outputBytes } from '../engine/output-lines.js';
import type { EngineOutput } from '../engine/types.js';
import { resolveStrategies } from '../strategies/index.js';
import { loadStrategyModules } from '../strategies/modules.js';
import { InputDecoder } from './input-codec.js';
import { packLines } from './line-batch.js';
import { ADVANCE, type FromWorker, type PipelineWorkerTask, type ToWorker } from './pipeline-protocol.js';

/**
 * One strategy's pipeline in its own worker thread (pipeline-pool.ts is the main side). It runs an
 * engine with that one strategy over the items the main thread posts — the inputs the main thread
 * decoded from recording lines (as numbers, input-codec.ts), and live clock advances — and sends every
 * output line back with its merge key and the engine's clock and spot at that moment.
 *
 * Timing of what it sends is part of the isolation rules (ARCHITECTURE.md, "Worker pipelines"):
 * - the lines of an item are sent as soon as the item is finished, before the next item starts, and
 *   only then is the item counted in the shared `finished` cell: when the strategy hangs in item
 *   N+1, the cell says N and everything up to item N has reached the main thread, so the merged
 *   stream holds exactly the lines of the items the strategy finished, whatever the timing;
 * - the cell is also the watchdog's heartbeat (a worker whose count does not move is stuck inside
 *   one item); a message with the count goes at the end of every batch, for the ordered merge;
 * - it has at most `maxInFlight` messages with lines the main thread has not taken (bounded memory).
 */

type Items = Extract<ToWorker, { type: 'items' }>;

async function run(task: PipelineWorkerTask): Promise<void> {
  const port = parentPort!;
  const config = await loadStrategyModules(task.config);
  const engine = new Engine({ config, underlying: task.underlying, strategies: resolveStrategies(config), format: task.format });
  const decoder = new InputDecoder();
  const keyframe = createKeyframer(task.keyframes);
  const stop = new Int32Array(task.stop);
  const finishedCell = new Int32Array(task.finished);
  const batches: Items[] = [];
  let ended = false;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'items') batches.push(m);
    else if (m.type === 'end') ended = true;
    else inFlight--;
    wake?.();
  });
  const nextMessage = (): Promise<void> => new Promise((resolve) => (wake = () => ((wake = undefined), resolve())));

  let keys: number[] = [];
  let lines: Buffer[] = [];
  let views: number[] = [];
  let finished = 0;
  /** Inside `advanceTo`: its ticks belong before the next input, so their key's input is one ahead. */
  let advancing = false;
  let topologySeen = false;

  const add = (line: Buffer): void => {
    const p = engine.position;
    keys.push(advancing ? p.input + 1 : p.input, p.phase, p.step);
    lines.push(line);
    views.push(engine.now ?? NaN, engine.spotValue ?? NaN);
  };
  // Only lines cross to the main thread: it rebuilds the records it needs from them (line-records.ts).
  const emit = (out: EngineOutput): void => {
    if (out.type === 'gap') return; // the main thread writes gap lines (its own engine sees them too)
    add(outputBytes(out));
    const snapshot = keyframe(out);
    if (snapshot !== undefined) add(Buffer.from(snapshot));
  };
  /** The topology's verdict on this strategy, once (live prints it as soon as it is known). */
  const noSlotsOnce = (): { noSlots?: string } => {
    if (topologySeen) return {};
    const s = engine.summary();
    if (s.topology === null) return {};
    topologySeen = true;
    const why = s.strategies[task.strategy]?.no_slots_reason;
    return why === undefined ? {} : { noSlots: why };
  };
  const post = (): void => {
    const { bytes, ends } = packLines(lines);
    const packed = Float64Array.from(keys);
    const packedViews = Float64Array.from(views);
    const msg: FromWorker = { type: 'out', finished, keys: packed, bytes, ends, views: packedViews, ...noSlotsOnce() };
    port.postMessage(msg, [packed.buffer as ArrayBuffer, ends.buffer as ArrayBuffer, bytes.buffer as ArrayBuffer, packedViews.buffer as ArrayBuffer]);
    if (lines.length > 0) inFlight++;
    keys = [];
    lines = [];
    views = [];
  };

  port.postMessage({ type: 'ready' } satisfies FromWorker);
  let done = false;
  while (!done) {
    const batch = batches.shift();
    if (batch === undefined) {
      if (ended) break;
      await nextMessage();
      continue;
    }
    // every batch is decoded whole and in order, even when the run stops inside it (the codec's
    // interning spans batches)
    const inputs = [...decoder.inputs(batch.inputs)];
    let next = 0;
    for (let i = 0; i < batch.streams.length; i++) {
      if (Atomics.load(stop, 0) !== 0) {
        done = true;
        break;
      }
      const code = batch.streams[i]!;
      const recv = batch.recv[i]!;
      if (code === ADVANCE) {
        advancing = true;
        engine.advanceTo(recv, emit);
        advancing = false;
      } else {
        const input = inputs[next++];
        if (input === undefined || input.recv_us !== recv) throw new Error(`item ${finished + 1}: the batch's inputs do not match its items`);
        engine.push(input, emit);
      }
      finished++;
      const failed = engine.pipelines.every((p) => p.failure !== undefined);
      if (lines.length > 0 || failed) post();
      Atomics.store(finishedCell, 0, finished);
      if (failed) {
        done = true; // the strategy threw: its error line is out, nothing more will come
        break;
      }
      while (inFlight >= task.maxInFlight && Atomics.load(stop, 0) === 0) await nextMessage();
    }
    post();
  }
  // The main thread terminates this thread once it has the summary.
  port.postMessage({ type: 'end', finished, summary: engine.summary().strategies[task.strategy]! } satisfies FromWorker);
}

run(workerData as PipelineWorkerTask).catch((err: unknown) => {
  parentPort!.postMessage({ type: 'fail', message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
});
