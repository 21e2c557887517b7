/**
 * The bounded queue between the network readers and the recording writer. Readers `push`
 * synchronously and never wait on disk; a pump moves lines into the writer and waits for the disk
 * only when the writer's own buffer is large. If the disk cannot keep up and the queue fills, new
 * lines are dropped (the socket readers must keep reading, or Massive kills the connection as a
 * slow consumer), the drop is reported loudly, and once there is room again a `gap` line covering
 * the dropped window is written for each stream that lost lines — so the recording says exactly
 * where it is incomplete.
 */
import { gapLine, type StreamName } from '../recording/lines.js';

/** Where the queue's lines go (a RecordingWriter, or anything with the same surface). */
export interface LineSink {
  writeLine(stream: StreamName, line: string): void;
  readonly pendingBytes: number;
  drain(): Promise<void>;
}

export interface LineQueueOptions {
  /** Most bytes (UTF-16 code units, close enough) held in the queue (default 256 MiB). */
  readonly maxBytes: number;
  /** The pump waits for the disk once the writer holds more than this (default 16 MiB). */
  readonly writerHighWater: number;
  readonly now: () => number;
  readonly log: (msg: string) => void;
  /** Minimum interval between two "cannot keep up" reports (ms, default 5000). */
  readonly warnEveryMs?: number;
}

interface Item {
  readonly stream: StreamName;
  readonly line: string;
}

interface Dropped {
  from_us: number;
  to_us: number;
  lines: number;
}

export class LineQueue {
  private items: Item[] = [];
  private head = 0;
  private bytes = 0;
  private readonly dropped = new Map<StreamName, Dropped>();
  private wake: (() => void) | undefined;
  private isClosed = false;
  private lastWarnUs = -Infinity;
  /** Lines dropped because the queue was full, over the whole run. */
  droppedTotal = 0;
  /** Largest queue size seen (bytes). */
  peakBytes = 0;

  constructor(private readonly o: LineQueueOptions) {}

  /** Bytes waiting in the queue. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /**
   * Enqueues a line; returns false when it was dropped (queue full). Before the first accepted line
   * of a stream that lost lines, a gap line for the lost window is enqueued (and returned through
   * `onGap` so a live consumer sees exactly what the file gets).
   */
  push(stream: StreamName, line: string, recv_us: number, onGap?: (line: string, recv_us: number) => void): boolean {
    if (this.isClosed) return false;
    if (this.bytes + line.length > this.o.maxBytes) {
      const d = this.dropped.get(stream);
      if (d) {
        d.to_us = recv_us;
        d.lines++;
      } else this.dropped.set(stream, { from_us: recv_us, to_us: recv_us, lines: 1 });
      this.droppedTotal++;
      this.warn(recv_us);
      return false;
    }
    const d = this.dropped.get(stream);
    if (d) {
      this.dropped.delete(stream);
      const gap = gapLine(recv_us, { stream, from_us: d.from_us, to_us: recv_us, reason: 'writer_overflow' });
      this.enqueue(stream, gap);
      onGap?.(gap, recv_us);
    }
    this.enqueue(stream, line);
    return true;
  }

  private enqueue(stream: StreamName, line: string): void {
    this.items.push({ stream, line });
    this.bytes += line.length;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private warn(now_us: number): void {
    if (now_us - this.lastWarnUs < (this.o.warnEveryMs ?? 5000) * 1000) return;
    this.lastWarnUs = now_us;
    const mb = (this.bytes / 1048576).toFixed(0);
    this.o.log(
      `WARNING the recording writer cannot keep up: queue full (${mb} MB), ${this.droppedTotal} lines dropped so far — ` +
        'gaps are recorded for the lost windows; use a faster disk or record fewer contracts',
    );
  }

  /**
   * Moves lines into `sink` until `close()` was called and the queue is empty. Waits for the disk
   * (sink.drain) only when the sink holds more than `writerHighWater` bytes.
   */
  async pump(sink: LineSink): Promise<void> {
    for (;;) {
      while (this.head < this.items.length) {
        const end = Math.min(this.items.length, this.head + 4096);
        for (; this.head < end; this.head++) {
          const it = this.items[this.head]!;
          this.bytes -= it.line.length;
          sink.writeLine(it.stream, it.line);
        }
        if (this.head === this.items.length) {
          this.items = [];
          this.head = 0;
        }
        if (sink.pendingBytes > this.o.writerHighWater) await sink.drain();
        else await new Promise((r) => setImmediate(r)); // let the readers run between batches
      }
      if (this.isClosed) break;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /**
   * Stops accepting lines; the pump finishes what is queued, then returns. Windows still being
   * dropped get their gap line first (ending at `now`), also handed to `onGap`.
   */
  close(onGap?: (stream: StreamName, line: string, recv_us: number) => void): void {
    if (this.isClosed) return;
    const now = this.o.now();
    for (const [stream, d] of this.dropped) {
      const gap = gapLine(now, { stream, from_us: d.from_us, to_us: now, reason: 'writer_overflow' });
      this.enqueue(stream, gap);
      onGap?.(stream, gap, now);
    }
    this.dropped.clear();
    this.isClosed = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
