import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker-thread.js';
import type { EngineView, PipelineSummary } from '../engine/engine.js';
import type { EngineOutput } from '../engine/types.js';
import { LineRecords } from './line-records.js';
import type { Progress } from './ordered-merge.js';
import { isErrorLine, isVersionLine, type LostPipeline } from './pipeline-failure.js';
import type { FromWorker, PipelineWorkerTask, ToWorker } from './pipeline-protocol.js';

/**
 * One strategy's worker thread as the main thread sees it (pipeline-pool.ts): its state, the items
 * posted to it and finished by it, its heartbeat, and the unpacking of its output messages into
 * the records and views consumers get.
 */

/** Where a thread's events go (the pool). */
export interface ThreadEvents {
  onMessage(t: PipelineThread, m: FromWorker): void;
  onExit(t: PipelineThread, code: number): void;
}

/** The lines of one output message: a record and a view per line (null/undefined for keyframe lines, or when no records are made). */
export interface Unpacked {
  readonly records: (EngineOutput | null)[];
  readonly views: (EngineView | undefined)[];
}

export class PipelineThread {
  readonly worker: Worker;
  state: 'starting' | 'running' | 'ended' | 'lost' = 'starting';
  /** Items posted to it. */
  posted = 0;
  /** Items finished, as far as its messages have told (the merge's progress). */
  finished = 0;
  /** Why the pool stopped it, or how it died; set before its `exit`. */
  lost: LostPipeline | undefined;
  /** Its summary entry: its own at the end, or the pool's when it was lost. */
  summary: PipelineSummary | undefined;
  /** Its newest version line (for the summary of a lost pipeline). */
  lastVersion: Uint8Array | undefined;
  /** The worker's own count of finished items (shared memory: current even when it is stuck). */
  private readonly done: Int32Array;
  /** `done` as the watchdog last read it, and since when (wall ms) it has had work without finishing any. */
  private seen = 0;
  private busySince = 0;
  private readonly records: LineRecords | undefined;

  constructor(
    readonly name: string,
    readonly index: number,
    task: PipelineWorkerTask,
    private readonly heapMb: number,
    makeRecords: boolean,
    events: ThreadEvents,
  ) {
    this.done = new Int32Array(task.finished);
    this.records = makeRecords ? new LineRecords(task.format) : undefined;
    this.worker = startWorker('replay/pipeline-worker.js', { workerData: task, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready' && this.state === 'starting') {
        this.state = 'running';
        this.busySince = performance.now();
      }
      events.onMessage(this, m);
    });
    this.worker.on('error', (err: Error & { code?: string }) => {
      this.lost ??=
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { reason: 'out_of_memory', message: `ran out of memory (heap limit ${this.heapMb} MiB, --pipeline-heap) and was stopped` }
          : { reason: 'crashed', message: `its thread failed: ${err.message}` };
    });
    this.worker.on('exit', (code) => events.onExit(this, code));
  }

  /** Still taking items (not ended, not lost). */
  get isActive(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }

  /** The items it has finished by its own count (exact even while it is stuck or after it died). */
  get doneItems(): number {
    return Atomics.load(this.done, 0);
  }

  /** Posts a batch of items. */
  post(msg: ToWorker, items: number): void {
    if (this.posted === this.doneItems) this.busySince = performance.now(); // idle until now: the clock starts with this work
    this.worker.postMessage(msg);
    this.posted += items;
  }

  /** The watchdog's question: has it had work for `timeoutMs` without finishing an item? */
  isStalled(now: number, timeoutMs: number): boolean {
    if (this.state !== 'running') return false;
    const done = this.doneItems;
    if (done !== this.seen) {
      this.seen = done;
      this.busySince = now;
    }
    return this.posted > done && now - this.busySince > timeoutMs;
  }

  /** Stops it; its `exit` reports it as lost (the first reason given counts). */
  lose(lost: LostPipeline): void {
    this.lost ??= lost;
    void this.worker.terminate();
  }

  /** Records and views of an output message's lines (records rebuilt only when consumers need them). */
  unpack(m: Extract<FromWorker, { type: 'out' }>): Unpacked {
    const records: (EngineOutput | null)[] = [];
    const views: (EngineView | undefined)[] = [];
    for (let i = 0; i < m.ends.length; i++) {
      const start = i === 0 ? 0 : m.ends[i - 1]!;
      const line = Buffer.from(m.bytes.buffer, m.bytes.byteOffset + start, m.ends[i]! - 1 - start);
      const isVersion = isVersionLine(line);
      if (isVersion) this.lastVersion = line;
      // keyframe lines are for the NDJSON stream only
      const rec = this.records && (isVersion || isErrorLine(line)) ? this.records.record(line) : null;
      records.push(rec);
      views.push(rec === null ? undefined : frozenView(m.views[2 * i]!, m.views[2 * i + 1]!, [m.keys[3 * i]!, m.keys[3 * i + 1]!, m.keys[3 * i + 2]!]));
    }
    return { records, views };
  }
}

/** A view of an engine at one output (the engine itself stays in its thread). NaN: none yet. */
export function frozenView(now: number, spot: number, key: Progress): EngineView {
  return {
    now: Number.isNaN(now) ? undefined : now,
    spot: Number.isNaN(spot) ? undefined : spot,
    position: { input: key[0], phase: key[1] as 0 | 1 | 2, step: key[2] },
  };
}
