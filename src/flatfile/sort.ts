import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { RuntimeError } from '../errors.js';
import { MinHeap } from '../recording/merge.js';
import type { ImportEvent } from './csv.js';

/**
 * External sort of import events by (event time, input ordinal). Flat files are not in time order
 * (trades_v1 is grouped by ticker), while a recording stream must be in receive order, so the import
 * sorts — in constant memory: events are buffered up to `runLimit`, each full buffer is sorted and
 * spilled to a temporary run file, and the runs are k-way merged at the end. An import that fits in
 * one buffer never touches the disk. The ordinal is unique, so the order is total and the result
 * does not depend on `runLimit`.
 */

export const DEFAULT_RUN_LIMIT = 500_000;
const WRITE_BATCH = 4096;

export function compareEvents(a: ImportEvent, b: ImportEvent): number {
  return a.us - b.us || a.n - b.n;
}

export class EventSorter {
  private buf: ImportEvent[] = [];
  private readonly runs: string[] = [];
  private total = 0;
  private tmpDir: string | undefined;

  constructor(
    /** Where the temporary run directory is made (on the first spill; removed by `cleanup`). */
    private readonly tmpBase: string,
    private readonly runLimit = DEFAULT_RUN_LIMIT,
  ) {}

  get size(): number {
    return this.total;
  }

  /** Number of run files spilled so far. */
  get spilled(): number {
    return this.runs.length;
  }

  /** Adds an event; returns a promise (await it) when the buffer was spilled to disk. */
  add(ev: ImportEvent): Promise<void> | undefined {
    this.buf.push(ev);
    this.total++;
    return this.buf.length >= this.runLimit ? this.spill() : undefined;
  }

  private async spill(): Promise<void> {
    const events = this.buf.sort(compareEvents);
    this.buf = [];
    this.tmpDir ??= await fsp.mkdtemp(path.join(this.tmpBase, '.heatmap-import-'));
    const file = path.join(this.tmpDir, `run-${String(this.runs.length + 1).padStart(6, '0')}.ndjson`);
    this.runs.push(file);
    const ws = fs.createWriteStream(file);
    let failure: Error | undefined;
    ws.on('error', (err) => (failure ??= err));
    try {
      for (let i = 0; i < events.length && !failure; i += WRITE_BATCH) {
        const chunk = events.slice(i, i + WRITE_BATCH).map((e) => JSON.stringify(e)).join('\n') + '\n';
        // events.once rejects when 'error' fires first, and removes its listeners either way.
        if (!ws.write(chunk)) await once(ws, 'drain');
      }
    } finally {
      ws.end();
      await finished(ws).catch(() => undefined);
    }
    if (failure) throw new RuntimeError(`cannot write sort run ${file}: ${failure.message}`);
  }

  /** All events in (us, n) order. Call once, after the last `add`. */
  async *sorted(): AsyncGenerator<ImportEvent> {
    if (this.runs.length === 0) {
      const events = this.buf.sort(compareEvents);
      this.buf = [];
      yield* events;
      return;
    }
    if (this.buf.length > 0) await this.spill();
    const iters = this.runs.map((f) => readRun(f)[Symbol.asyncIterator]());
    const heap = new MinHeap<{ ev: ImportEvent; src: number }>((a, b) => compareEvents(a.ev, b.ev) < 0);
    try {
      for (let i = 0; i < iters.length; i++) {
        const r = await iters[i]!.next();
        if (!r.done) heap.push({ ev: r.value, src: i });
      }
      let top;
      while ((top = heap.peek()) !== undefined) {
        yield top.ev;
        const r = await iters[top.src]!.next();
        if (r.done) heap.pop();
        else heap.replaceTop({ ev: r.value, src: top.src });
      }
    } finally {
      for (const it of iters) await it.return?.(undefined);
    }
  }

  /** Removes the temporary run directory, if a spill made one. */
  async cleanup(): Promise<void> {
    if (this.tmpDir !== undefined) await fsp.rm(this.tmpDir, { recursive: true, force: true });
    this.tmpDir = undefined;
  }
}

async function* readRun(file: string): AsyncGenerator<ImportEvent> {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  try {
    for await (const line of rl) if (line.length > 0) yield JSON.parse(line) as ImportEvent;
  } finally {
    rl.close();
  }
}
