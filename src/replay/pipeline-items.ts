import type { EngineInput } from '../engine/types.js';
import { InputEncoder } from './input-codec.js';
import type { Progress } from './ordered-merge.js';
import { ADVANCE, type ToWorker } from './pipeline-protocol.js';

/**
 * The items the main thread posts to every pipeline worker (pipeline-pool.ts), numbered from 1 in
 * posting order: recording lines that decoded (posted as their decoded inputs), and live clock
 * advances. It batches them for
 * posting and keeps, for the items some running pipeline has not finished yet, what the pool needs
 * to know about them: the merge progress once an item is finished, the item's engine time (where a
 * lost pipeline's error line goes) and the input bytes posted up to it (the queue bounds).
 */

const BATCH_ITEMS = 512;
const BATCH_BYTES = 256 * 1024;
/** What a clock advance counts for in the input bounds. */
const ADVANCE_BYTES = 64;

interface ItemMeta {
  /** Every output line of the item has a key ≤ this. */
  readonly p: Progress;
  /** The engine time of the item (an input's receive time, or the time advanced to). */
  readonly at: number;
  /** Input bytes posted up to and including this item. */
  readonly bytes: number;
}

export class ItemLog {
  /** Items posted so far (the last item's number). */
  count = 0;
  private meta: ItemMeta[] = [];
  /** Number of the item `meta[0]` describes. */
  private base = 1;
  private totalBytes = 0;
  private pending: { codes: number[]; recv: number[]; bytes: number } = { codes: [], recv: [], bytes: 0 };
  /** The inputs of the pending items (one encoder for the run: its interning spans batches). */
  private readonly encoder = new InputEncoder();

  /**
   * Adds an item (`code` = its stream's index in STREAM_NAMES, or ADVANCE, which has no input);
   * `lineBytes` is the length of the recording line it came from (the queue bounds count input as
   * recorded). True when a batch is full.
   */
  add(code: number, recv: number, input: EngineInput | undefined, lineBytes: number, p: Progress, at: number): boolean {
    const bytes = code === ADVANCE ? ADVANCE_BYTES : lineBytes;
    if (input !== undefined) this.encoder.add(input);
    this.count++;
    this.totalBytes += bytes;
    this.meta.push({ p, at, bytes: this.totalBytes });
    const b = this.pending;
    b.codes.push(code);
    b.recv.push(recv);
    b.bytes += bytes;
    return b.codes.length >= BATCH_ITEMS || b.bytes >= BATCH_BYTES;
  }

  /** The pending items as one message, and how many; undefined when none. */
  takeBatch(): { readonly msg: ToWorker; readonly items: number } | undefined {
    const b = this.pending;
    if (b.codes.length === 0) return undefined;
    this.pending = { codes: [], recv: [], bytes: 0 };
    const msg: ToWorker = { type: 'items', streams: Uint8Array.from(b.codes), recv: Float64Array.from(b.recv), inputs: this.encoder.take() };
    return { msg, items: b.codes.length };
  }

  /** The merge progress of a pipeline that has finished `item` items. */
  progressAfter(item: number): Progress {
    return item >= this.base && item > 0 ? this.meta[item - this.base]!.p : [0, 3, 0];
  }

  /**
   * Where the error line of a pipeline lost inside item `finished + 1` goes: just after that
   * item's lines (step + 0.5: no line has that key), at the item's engine time; after the last
   * item when it was lost with nothing to do. `now` is the engine time of the main thread.
   */
  failurePlace(finished: number, lastInput: number, now: number): { readonly key: Progress; readonly at: number } {
    const item = Math.min(finished + 1, this.count);
    const m = item >= this.base && item > 0 ? this.meta[item - this.base] : undefined;
    if (!m) return { key: [lastInput, 3, 0.5], at: now };
    return { key: [m.p[0], m.p[1], m.p[2] + 0.5], at: m.at };
  }

  /** Input bytes posted to a pipeline that has finished `finished` items and not finished yet. */
  queuedBytes(finished: number): number {
    const done = finished >= this.base && finished > 0 ? this.meta[finished - this.base]!.bytes : 0;
    return this.totalBytes - done;
  }

  /** Forgets the items before `finished` (the fewest any running pipeline has finished). */
  trim(finished: number): void {
    const drop = Math.min(finished, this.count) - this.base;
    if (drop > 0) {
      this.meta.splice(0, drop);
      this.base += drop;
    }
  }
}
