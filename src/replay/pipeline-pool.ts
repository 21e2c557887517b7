import { enabledStrategyNames, selectStrategies, type EngineConfig } from '../engine/config.js';
import { Engine, type EngineSummary, type EngineView, type PipelineSummary } from '../engine/engine.js';
import { outputBytes } from '../engine/output-lines.js';
import { Tally } from '../engine/tally.js';
import type { EngineInput, EngineOutput } from '../engine/types.js';
import { STREAM_NAMES } from '../recording/lines.js';
import type { RawLine } from '../recording/reader.js';
import { LineDecoder } from './decode.js';
import { OrderedMerge, type MergeOutput, type Progress } from './ordered-merge.js';
import { formatBytes, formatMs, lostRecord, lostSummary } from './pipeline-failure.js';
import { ItemLog } from './pipeline-items.js';
import { ADVANCE, type FromWorker, type PipelineWorkerTask, type ToWorker } from './pipeline-protocol.js';
import { frozenView, PipelineThread } from './pipeline-thread.js';

/**
 * Every strategy's pipeline in a worker thread of its own, fed the same inputs (DESIGN §2.4): the
 * main side. The main thread decodes each line once (its own strategy-less engine gives the clock,
 * the spot, the gap lines and the run's counts), posts the lines in batches to every worker, and
 * hands each strategy's output records to `onRecord` as soon as its worker sends them — so a view of
 * one strategy never waits for another — while the ordered NDJSON stream is merged by the engine's
 * own order (ordered-merge.ts). A watchdog stops a pipeline that has not finished an input within
 * the stall timeout; a pipeline that throws, runs out of memory or dies is reported the same way
 * (an error line, SSE `failed`) and the others go on. Rules in ARCHITECTURE.md, "Worker pipelines".
 */

export interface PipelinePoolOptions {
  /** Strategy modules loaded (named). */
  readonly config: EngineConfig;
  readonly underlying: string;
  readonly format: 1 | 2;
  readonly keyframes?: number;
  /** A pipeline that has not finished an input for this long is stopped and reported as stalled. */
  readonly stallTimeoutMs: number;
  /** Heap limit of each pipeline's thread (V8 old generation, MiB). */
  readonly heapMb: number;
  /**
   * A pipeline whose input queue is full, or an ordered stream that is not taken: 'wait' (replay —
   * `ready()` holds the reader) or 'fail' (live — the pipeline is stopped as `overrun`, the
   * stream's lines are dropped and counted).
   */
  readonly whenBehind: 'wait' | 'fail';
  /** Per pipeline: bytes of input posted and not yet finished (default 8 MiB). */
  readonly maxQueuedBytes?: number;
  /** Bytes of ordered output waiting to be written (default 64 MiB). */
  readonly maxMergeBytes?: number;
  /** Each strategy's records, in its order, as soon as they arrive; gap records as they happen. */
  readonly onRecord?: (out: EngineOutput, view: EngineView) => void;
  /** The ordered stream: each line (with its newline), with its record when `records` is on. */
  readonly output: MergeOutput;
  /** Make records (not only lines): `onRecord` or an ordered consumer folds them. */
  readonly records: boolean;
  /** A strategy the built topology left without a slot (live says so at once). */
  readonly onNoSlots?: (strategy: string, reason: string) => void;
}

/** What a pool run ends with. */
export interface PoolOutcome {
  /** The main thread's counts and topology, each strategy's entry from its pipeline. */
  readonly summary: EngineSummary;
  /** Lines that did not decode (counted by reason, with samples). */
  readonly bad: Tally;
  /** Ordered-stream lines dropped because nobody took them (live only), when any. */
  readonly droppedLines: number;
}

export class PipelinePool {
  private readonly bare: Engine;
  private readonly decoder: LineDecoder;
  readonly bad = new Tally();
  private readonly pipes: PipelineThread[];
  private readonly merge: OrderedMerge;
  private readonly main: number;
  private readonly stop = new SharedArrayBuffer(4);
  private readonly items = new ItemLog();
  private flushTimer: NodeJS.Immediate | undefined;
  private lastAdvance = -Infinity;
  private waiters: (() => void)[] = [];
  private settled: (() => void) | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private dropped = 0;
  private aborted = false;
  private readonly maxQueued: number;
  private readonly maxMerge: number;

  constructor(private readonly o: PipelinePoolOptions) {
    this.bare = new Engine({ config: o.config, underlying: o.underlying, strategies: [], format: o.format });
    this.decoder = new LineDecoder(o.underlying, this.bad);
    this.maxQueued = o.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.maxMerge = o.maxMergeBytes ?? 64 * 1024 * 1024;
    const names = enabledStrategyNames(o.config);
    this.main = names.length;
    this.merge = new OrderedMerge(names.length + 1, o.output, () => this.checkReady());
    this.pipes = names.map((name, index) => this.spawn(name, index));
    this.watchdog = setInterval(() => this.checkStalls(), Math.max(10, Math.min(250, o.stallTimeoutMs / 4)));
    this.watchdog.unref();
  }

  /** The main thread's view: engine clock (inputs and live advances) and spot. */
  get view(): EngineView {
    return this.bare.view;
  }

  /** The clock a late live line is judged against: the newest input or clock advance. */
  get now(): number | undefined {
    const n = this.bare.now;
    return n === undefined ? undefined : Math.max(n, this.lastAdvance);
  }

  /** Decodes one recording line and, when it is an input, posts it to every pipeline. */
  push(line: RawLine): void {
    const input = this.decoder.decode(line);
    if (!input) return;
    this.bare.push(input, (out) => this.onGap(out));
    const n = this.bare.position.input;
    this.addItem(STREAM_NAMES.indexOf(line.stream as (typeof STREAM_NAMES)[number]), line.recv_us, input, line.text.length, [n, 3, 0], this.bare.now!);
  }

  /** Live: the wall clock reached `us`: every pipeline runs its ticks up to it. */
  advanceTo(us: number): void {
    const now = this.bare.now;
    if (now === undefined || us <= Math.max(now, this.lastAdvance)) return;
    this.lastAdvance = us;
    this.addItem(ADVANCE, us, undefined, 0, [this.bare.position.input + 1, 0, us], us);
  }

  /**
   * A promise while the reader should wait (replay): a pipeline's input or the ordered stream is
   * full. Throws when writing the ordered stream failed.
   */
  ready(): Promise<void> | undefined {
    if (this.merge.error !== undefined) throw this.merge.error;
    if (!this.isBlocked()) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops every pipeline after its current input (the run was aborted); `finish` still ends it. */
  abort(): void {
    Atomics.store(new Int32Array(this.stop), 0, 1);
    this.aborted = true;
    this.checkReady();
  }

  /** End of input: waits for every pipeline to finish (or be lost) and the ordered stream to be written. */
  async finish(): Promise<PoolOutcome> {
    this.flushItems();
    for (const p of this.pipes) if (p.isActive) p.worker.postMessage({ type: 'end' } satisfies ToWorker);
    this.merge.close(this.main);
    await new Promise<void>((resolve) => {
      this.settled = resolve;
      this.checkSettled();
    });
    clearInterval(this.watchdog);
    await this.merge.pump();
    if (this.merge.error !== undefined) throw this.merge.error;
    const s = this.bare.summary();
    const strategies: Record<string, PipelineSummary> = {};
    for (const p of this.pipes) strategies[p.name] = p.summary!;
    return { summary: { ...s, strategies }, bad: this.bad, droppedLines: this.dropped };
  }

  /** Stops everything at once (the run failed): no summary, no more lines. */
  async destroy(): Promise<void> {
    clearInterval(this.watchdog);
    if (this.flushTimer) clearImmediate(this.flushTimer);
    await Promise.all(this.pipes.map((p) => p.worker.terminate()));
  }

  private spawn(name: string, index: number): PipelineThread {
    const task: PipelineWorkerTask = {
      strategy: name,
      config: selectStrategies(this.o.config, [name]),
      underlying: this.o.underlying,
      format: this.o.format,
      keyframes: this.o.keyframes,
      stop: this.stop,
      finished: new SharedArrayBuffer(4),
      maxInFlight: 16,
    };
    return new PipelineThread(name, index, task, this.o.heapMb, this.o.records, {
      onMessage: (t, m) => this.onMessage(t, m),
      onExit: (t, code) => this.onExit(t, code),
    });
  }

  private onMessage(p: PipelineThread, m: FromWorker): void {
    if (!p.isActive) return;
    if (m.type === 'out') {
      this.progress(p, m.finished);
      const { records, views } = p.unpack(m);
      records.forEach((rec, i) => rec && this.o.onRecord?.(rec, views[i]!));
      if (m.ends.length > 0) {
        if (this.o.whenBehind === 'fail' && this.merge.queuedBytes > this.maxMerge) this.dropped += m.ends.length;
        else this.merge.add(p.index, { keys: m.keys, strategy: p.index, bytes: m.bytes, ends: m.ends, records, views });
        p.worker.postMessage({ type: 'credit' } satisfies ToWorker);
      }
      this.merge.advance(p.index, this.items.progressAfter(p.finished));
      if (m.noSlots !== undefined) this.o.onNoSlots?.(p.name, m.noSlots);
      void this.merge.pump();
    } else if (m.type === 'end') {
      p.summary = m.summary;
      p.state = 'ended';
      this.merge.close(p.index);
      void p.worker.terminate();
      void this.merge.pump();
    } else if (m.type === 'fail') {
      p.lose({ reason: 'crashed', message: `its thread failed: ${m.message}` });
    }
    this.checkReady();
    this.checkSettled();
  }

  /** The worker is gone: a pipeline that did not end is lost — its error line, its summary entry. */
  private onExit(p: PipelineThread, code: number): void {
    if (!p.isActive) return;
    p.state = 'lost';
    const lost = p.lost ?? { reason: 'crashed', message: `its thread exited (code ${code}) before the end of the input` };
    // It failed inside the item after the last one it finished (its own count, which every line
    // it sent is within): the line goes after that item's lines, at the same place in every run.
    const place = this.items.failurePlace(p.doneItems, this.bare.position.input, this.bare.now ?? 0);
    const key = place.key;
    const rec = lostRecord(p.name, place.at, lost);
    const view = frozenView(this.bare.now ?? NaN, this.bare.spotValue ?? NaN, key);
    this.o.onRecord?.(rec, view);
    const line = Buffer.from(`${outputBytes(rec).toString('utf8')}\n`);
    this.merge.add(p.index, { keys: Float64Array.from(key), strategy: p.index, bytes: line, ends: Uint32Array.of(line.length), records: [rec], views: [view] });
    this.merge.close(p.index);
    p.summary = lostSummary(p.lastVersion, lost);
    void this.merge.pump();
    this.trimItems();
    this.checkReady();
    this.checkSettled();
  }

  private onGap(out: EngineOutput): void {
    const p = this.bare.position;
    const view = frozenView(this.bare.now ?? NaN, this.bare.spotValue ?? NaN, [p.input, p.phase, p.step]);
    this.o.onRecord?.(out, view);
    const line = Buffer.from(`${outputBytes(out).toString('utf8')}\n`);
    this.merge.add(this.main, { keys: Float64Array.of(p.input, p.phase, p.step), strategy: -1, bytes: line, ends: Uint32Array.of(line.length), records: [out], views: [view] });
  }

  private addItem(code: number, recv: number, input: EngineInput | undefined, lineBytes: number, p: Progress, at: number): void {
    const full = this.items.add(code, recv, input, lineBytes, p, at);
    this.merge.advance(this.main, p);
    if (full) this.flushItems();
    else this.flushTimer ??= setImmediate(() => this.flushItems());
    void this.merge.pump();
  }

  /** Posts the pending items to every pipeline still running (one copy each). */
  private flushItems(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.items.takeBatch();
    if (!batch) return;
    for (const p of this.pipes) {
      if (!p.isActive) continue;
      p.post(batch.msg, batch.items);
      if (this.o.whenBehind === 'fail' && this.queuedBytes(p) > this.maxQueued) {
        p.lose({ reason: 'overrun', message: `fell more than ${formatBytes(this.maxQueued)} of input behind the live feed and was stopped` });
      }
    }
  }

  private progress(p: PipelineThread, finished: number): void {
    if (finished > p.finished) {
      p.finished = finished;
      this.trimItems();
    }
  }

  private queuedBytes(p: PipelineThread): number {
    return this.items.queuedBytes(p.finished);
  }

  /** Forgets the items every pipeline still running is past. */
  private trimItems(): void {
    let min = this.items.count;
    for (const p of this.pipes) if (p.isActive) min = Math.min(min, p.finished);
    this.items.trim(min);
  }

  /**
   * The watchdog: a pipeline that has had work for the stall timeout without finishing an item is
   * stopped. Its worker's own count (shared memory) is the heartbeat, so a main thread busy with
   * other messages never makes a working pipeline look stalled.
   */
  private checkStalls(): void {
    const now = performance.now();
    for (const p of this.pipes) {
      if (p.isStalled(now, this.o.stallTimeoutMs)) {
        p.lose({ reason: 'stalled', message: `no input finished within ${formatMs(this.o.stallTimeoutMs)} (--stall-timeout): stopped by the watchdog` });
      }
    }
  }

  private isBlocked(): boolean {
    if (this.aborted) return false;
    if (this.merge.queuedBytes > this.maxMerge) return true;
    return this.pipes.some((p) => p.isActive && this.queuedBytes(p) > this.maxQueued);
  }

  private checkReady(): void {
    if (this.waiters.length === 0 || this.isBlocked()) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private checkSettled(): void {
    if (this.settled && this.pipes.every((p) => !p.isActive)) this.settled();
  }
}
