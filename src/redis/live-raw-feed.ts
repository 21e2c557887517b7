import { STREAM_NAMES, type StreamName } from '../recording/lines.js';
import type { RawWriter } from './raw-writer.js';

/**
 * Live lines → `massive:raw` in replay order (`heatmap feed --live`). The recorder delivers lines
 * in receive order, except that two streams can stamp the same µs and a line can be delivered a
 * moment after it was stamped; lines therefore wait in a reorder window (default 10 ms of receive
 * time, as `heatmap live`) and leave it sorted by (recv_us, stream, arrival). A line that arrives
 * behind what already left is written right away (its ID follows the last one) and counted `late`.
 */
export class LiveRawFeed {
  late = 0;
  private held: { stream: StreamName; rank: number; seq: number; recv_us: number; text: string }[] = [];
  private seq = 0;
  private releasedUs = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly writer: RawWriter,
    private readonly now: () => number,
    private readonly windowMs = 10,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.release(this.now() - this.windowMs * 1000), Math.max(5, this.windowMs));
  }

  /** The recorder's `onLine`. */
  readonly onLine = (stream: StreamName, text: string, recv_us: number): void => {
    if (recv_us < this.releasedUs) this.late++;
    const rank = (STREAM_NAMES as readonly string[]).indexOf(stream);
    this.held.push({ stream, rank, seq: this.seq++, recv_us, text });
  };

  /** Writes everything held and waits for Redis; rethrows a write failure. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.release(Infinity);
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }

  private release(horizon: number): void {
    if (this.held.length === 0) return;
    this.held.sort((a, b) => a.recv_us - b.recv_us || a.rank - b.rank || a.seq - b.seq);
    let n = 0;
    while (n < this.held.length && this.held[n]!.recv_us <= horizon) n++;
    if (n === 0) return;
    const out = this.held.splice(0, n);
    this.releasedUs = Math.max(this.releasedUs, out[out.length - 1]!.recv_us);
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      try {
        for (const h of out) await this.writer.add(h.stream, h.recv_us, h.text);
        await this.writer.flush();
      } catch (err) {
        this.failure = err;
      }
    });
  }
}
