import { STREAM_NAMES } from './lines.js';
import type { RawLine } from './reader.js';

/**
 * k-way merge of per-stream line sources into replay order (DESIGN §4): by `recv_us`, ties by
 * stream name (chain < indices < options < stocks), then by the order within a source (and, for
 * two sources of the same stream, by their position in `sources`).
 *
 * Each source must already be in non-decreasing `recv_us` order (one recorder clock per stream);
 * the merge holds one pending line per source — constant memory — and pulls the next line from a
 * source only after yielding its previous one. Every source is closed in `finally`, so a `break`
 * downstream releases all file handles.
 */
export async function* mergeStreams(sources: readonly AsyncIterable<RawLine>[]): AsyncGenerator<RawLine> {
  const iters = sources.map((s) => s[Symbol.asyncIterator]());
  const open = new Set<number>(iters.keys());
  const heap = new MinHeap<Head>(isBefore);
  try {
    for (let i = 0; i < iters.length; i++) {
      const r = await iters[i]!.next();
      if (r.done) open.delete(i);
      else heap.push({ line: r.value, rank: rankOf(r.value.stream), src: i });
    }
    let top: Head | undefined;
    while ((top = heap.peek()) !== undefined) {
      yield top.line;
      const r = await iters[top.src]!.next();
      if (r.done) {
        open.delete(top.src);
        heap.pop();
      } else {
        heap.replaceTop({ line: r.value, rank: rankOf(r.value.stream), src: top.src });
      }
    }
  } finally {
    // Close every source that has not finished (each in turn, so one failure does not skip others).
    for (const i of open) {
      try {
        await iters[i]!.return?.();
      } catch {
        // the primary error (if any) is already propagating
      }
    }
  }
}

/** Lines per merged batch of {@link mergeStreamBatches}. */
const MERGED_BATCH = 1024;

/**
 * {@link mergeStreams} over sources of line batches (the reader's unit), yielding the merged lines
 * in batches: the same lines in the same order, without an await per line. A source's next batch
 * is pulled when its current one is used up; every source is closed in `finally`.
 */
export async function* mergeStreamBatches(sources: readonly AsyncIterable<readonly RawLine[]>[]): AsyncGenerator<RawLine[]> {
  const iters = sources.map((s) => s[Symbol.asyncIterator]());
  const open = new Set<number>(iters.keys());
  const batches: (readonly RawLine[])[] = [];
  const at: number[] = [];
  /** Loads the next non-empty batch of source i; false when it has no more. */
  const refill = async (i: number): Promise<boolean> => {
    for (;;) {
      const r = await iters[i]!.next();
      if (r.done) {
        open.delete(i);
        return false;
      }
      if (r.value.length > 0) {
        batches[i] = r.value;
        at[i] = 0;
        return true;
      }
    }
  };
  const heap = new MinHeap<Head>(isBefore);
  try {
    for (let i = 0; i < iters.length; i++) {
      batches.push([]);
      at.push(0);
      if (await refill(i)) heap.push({ line: batches[i]![0]!, rank: rankOf(batches[i]![0]!.stream), src: i });
    }
    let out: RawLine[] = [];
    let top: Head | undefined;
    while ((top = heap.peek()) !== undefined) {
      out.push(top.line);
      const i = top.src;
      const k = ++at[i]!;
      let next = batches[i]![k];
      if (next === undefined) {
        if (out.length >= MERGED_BATCH) {
          yield out;
          out = [];
        }
        next = (await refill(i)) ? batches[i]![0] : undefined;
      }
      if (next === undefined) heap.pop();
      else heap.replaceTop({ line: next, rank: rankOf(next.stream), src: i });
      if (out.length >= MERGED_BATCH) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    for (const i of open) {
      try {
        await iters[i]!.return?.();
      } catch {
        // the primary error (if any) is already propagating
      }
    }
  }
}

interface Head {
  readonly line: RawLine;
  readonly rank: number;
  readonly src: number;
}

function rankOf(stream: string): number {
  const i = (STREAM_NAMES as readonly string[]).indexOf(stream);
  return i === -1 ? STREAM_NAMES.length : i;
}

function isBefore(a: Head, b: Head): boolean {
  if (a.line.recv_us !== b.line.recv_us) return a.line.recv_us < b.line.recv_us;
  if (a.rank !== b.rank) return a.rank < b.rank;
  if (a.rank === STREAM_NAMES.length && a.line.stream !== b.line.stream) return a.line.stream < b.line.stream;
  return a.src < b.src;
}

/** A minimal binary min-heap ordered by `less`. */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last !== undefined) {
      this.items[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Replaces the minimum (cheaper than pop + push). */
  replaceTop(item: T): void {
    if (this.items.length === 0) {
      this.items.push(item);
      return;
    }
    this.items[0] = item;
    this.down(0);
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!this.less(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.less(items[right]!, items[child]!)) child = right;
      if (!this.less(items[child]!, item)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = item;
  }
}
