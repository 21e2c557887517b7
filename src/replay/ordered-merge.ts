import type { EngineView } from '../engine/engine.js';
import type { EngineOutput } from '../engine/types.js';

/**
 * The merged, ordered output of pipelines that run apart (pipeline-pool.ts): each source (a
 * strategy's worker, or the main thread's gap lines) delivers its lines in its own order, each with
 * the key (input, phase, step, strategy index) of `EmitPosition`, and reports how far it has got.
 * A line is written once no source could still deliver a line that sorts before it: the order is
 * the one a single engine running every strategy writes, byte for byte.
 *
 * A source's progress is the key up to which every line of it has been delivered; a closed source
 * (finished, failed, stopped by the watchdog) delivers nothing more, so the merge no longer waits
 * for it — that is how a stalled pipeline holds the stream back only until it is declared stalled.
 */

/** (input, phase, step): phase 3 means "after every output of that input". */
export type Progress = readonly [number, number, number];

/** Lines of one source, in its order. */
export interface MergeBatch {
  /** 3 numbers per line: input, phase, step. */
  readonly keys: Float64Array;
  /** The strategy's index in evaluation order (-1: no strategy, gap lines). */
  readonly strategy: number;
  /** The lines, each with its newline; `ends[i]` is where line i ends. */
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
  /** Per line, when the consumers need records. */
  readonly records?: readonly (EngineOutput | null)[];
  readonly views?: readonly (EngineView | undefined)[];
}

interface Queued extends MergeBatch {
  pos: number;
}

/** Where merged lines go. */
export interface MergeOutput {
  write(line: Uint8Array, rec: EngineOutput | null, view: EngineView | undefined): void;
  /** A promise while the destination is full (the merge then waits). */
  drain(): Promise<void> | undefined;
}

/** -1, 0, 1: `a` before, equal to, after `b` (lexicographic). */
export function compareProgress(a: Progress, b: Progress): number {
  for (let k = 0; k < 3; k++) if (a[k] !== b[k]) return a[k]! < b[k]! ? -1 : 1;
  return 0;
}

export class OrderedMerge {
  private readonly queues: Queued[][];
  private readonly progress: (Progress | 'closed')[];
  private running: Promise<void> | undefined;
  private pumping = false;
  private again = false;
  private bytes = 0;
  private failure: unknown;

  constructor(
    sources: number,
    private readonly out: MergeOutput,
    /** Called after lines were written (the pool re-checks its backpressure). */
    private readonly onWritten: () => void,
  ) {
    this.queues = Array.from({ length: sources }, () => []);
    this.progress = Array.from({ length: sources }, () => [0, 0, 0] as Progress);
  }

  /** Bytes delivered and not yet written. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /** True when every line delivered has been written. */
  get isEmpty(): boolean {
    return this.queues.every((q) => q.length === 0);
  }

  /** The first error of the destination, if writing failed. */
  get error(): unknown {
    return this.failure;
  }

  add(source: number, batch: MergeBatch): void {
    if (batch.ends.length === 0) return;
    this.queues[source]!.push({ ...batch, pos: 0 });
    this.bytes += batch.bytes.length;
  }

  /** Every line of `source` up to `p` has been delivered. */
  advance(source: number, p: Progress): void {
    if (this.progress[source] !== 'closed') this.progress[source] = p;
  }

  /** `source` delivers nothing more (its queued lines are still written, in order). */
  close(source: number): void {
    this.progress[source] = 'closed';
  }

  /**
   * Writes every line that is known to come next, waiting on the destination's backpressure.
   * Resolves when nothing more can be written now (a call while it runs makes it look again).
   */
  pump(): Promise<void> {
    this.again = true;
    if (!this.pumping) this.running = this.loop();
    return this.running!;
  }

  private async loop(): Promise<void> {
    this.pumping = true;
    try {
      while (this.again) {
        this.again = false;
        for (;;) {
          let best: Queued | undefined;
          let bestSource = -1;
          for (let s = 0; s < this.queues.length; s++) {
            const head = this.queues[s]![0];
            if (head && (!best || before(head, head.pos, best, best.pos))) {
              best = head;
              bestSource = s;
            }
          }
          if (!best) break;
          const b: Queued = best;
          const key: Progress = [b.keys[b.pos * 3]!, b.keys[b.pos * 3 + 1]!, b.keys[b.pos * 3 + 2]!];
          // a source with nothing queued could still deliver an earlier line, unless it is past this key
          if (this.queues.some((q, v) => v !== bestSource && q.length === 0 && isBehind(this.progress[v]!, key))) break;
          const start = b.pos === 0 ? 0 : b.ends[b.pos - 1]!;
          this.out.write(b.bytes.subarray(start, b.ends[b.pos]!), b.records?.[b.pos] ?? null, b.views?.[b.pos]);
          b.pos++;
          if (b.pos === b.ends.length) {
            this.queues[bestSource]!.shift();
            this.bytes -= b.bytes.length;
            this.onWritten();
            const blocked = this.out.drain();
            if (blocked) await blocked;
          }
        }
      }
    } catch (err) {
      this.failure ??= err;
    } finally {
      // cleared here, not in a .finally() callback: a loop that never awaited is over at once
      this.pumping = false;
    }
  }
}

/** True when a source at progress `p` could still deliver a line with key `key`. */
function isBehind(p: Progress | 'closed', key: Progress): boolean {
  return p !== 'closed' && compareProgress(key, p) > 0;
}

/** True when line `i` of `a` sorts before line `j` of `b` (key, then strategy index). */
function before(a: MergeBatch, i: number, b: MergeBatch, j: number): boolean {
  for (let k = 0; k < 3; k++) {
    const x = a.keys[i * 3 + k]!;
    const y = b.keys[j * 3 + k]!;
    if (x !== y) return x < y;
  }
  return a.strategy < b.strategy;
}
