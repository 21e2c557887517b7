import type { EngineConfig } from '../engine/config.js';
import type { PipelineSummary } from '../engine/engine.js';
import type { InputBatch } from './input-codec.js';

/**
 * The messages between the main thread and a strategy's pipeline worker (pipeline-pool.ts ↔
 * pipeline-worker.ts). Types only: both sides import them, so they cannot drift apart.
 */

/** Stream code of an item that is no recording line but "advance the clock to `recv`" (live ticks). */
export const ADVANCE = 255;

/** What the main thread hands a pipeline worker. */
export interface PipelineWorkerTask {
  readonly strategy: string;
  /** The config with only this strategy enabled (strategy modules named, with absolute paths). */
  readonly config: EngineConfig;
  readonly underlying: string;
  readonly format: 1 | 2;
  readonly keyframes?: number;
  /** `Int32Array` over it: non-zero = stop after the current item (the run was aborted). */
  readonly stop: SharedArrayBuffer;
  /**
   * `Int32Array` over it: the items this worker has finished, stored after each item once that
   * item's lines are posted. The watchdog reads it (a heartbeat that costs no message), and so does
   * the main thread when the worker is lost: the items it finished, exactly, whatever it had sent.
   */
  readonly finished: SharedArrayBuffer;
  /** Output messages with lines this worker may have sent that the main thread has not taken yet. */
  readonly maxInFlight: number;
}

/** Main → worker. */
export type ToWorker =
  /**
   * Items in input order: `streams[i]` is the index of the line's stream in STREAM_NAMES (or
   * ADVANCE), `recv[i]` its receive time (or the time to advance to); `inputs` holds the decoded
   * inputs of the non-ADVANCE items, in order, as numbers (input-codec.ts: the main thread decodes
   * each line once, every worker rebuilds the same inputs from the same batches).
   */
  | { readonly type: 'items'; readonly streams: Uint8Array; readonly recv: Float64Array; readonly inputs: InputBatch }
  /** No more items: finish the queued ones, then answer `end`. */
  | { readonly type: 'end' }
  /** One output message has been taken. */
  | { readonly type: 'credit' };

/** Worker → main. */
export type FromWorker =
  | { readonly type: 'ready' }
  | {
      readonly type: 'out';
      /** Items finished so far (every line of those is in this message or an earlier one). */
      readonly finished: number;
      /** 3 numbers per line: the merge key (input, phase, step) without the strategy index. */
      readonly keys: Float64Array;
      /** The NDJSON lines, UTF-8, each with its newline; `ends[i]` is where line i ends. */
      readonly bytes: Uint8Array;
      readonly ends: Uint32Array;
      /** 2 numbers per line: the engine's clock and spot when it was emitted (NaN: none yet). */
      readonly views: Float64Array;
      /** Once, when the topology is built and left this strategy without a slot: why. */
      readonly noSlots?: string;
    }
  /** All items done (or the pipeline failed, or the run was stopped): the strategy's summary entry. */
  | { readonly type: 'end'; readonly finished: number; readonly summary: PipelineSummary }
  /** Something outside the engine's guard failed (the worker then exits). */
  | { readonly type: 'fail'; readonly message: string };
