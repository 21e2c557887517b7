/**
 * The recorder's receive clock. Receive times (`recv_us`) decide replay order, so every stream of a
 * recording must be non-decreasing in them: the clock never goes back, even when the wall clock
 * is stepped (NTP), and all streams share one clock so their order across files is the order in
 * which the process received them.
 */

/** Wall-clock µs since the epoch with sub-ms resolution (monotonic within the process). */
export function wallClockUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** Wraps `now` so that it never returns less than it returned before. */
export function monotonicClock(now: () => number): () => number {
  let last = -Infinity;
  return () => {
    const t = Math.floor(now());
    if (t > last) last = t;
    return last;
  };
}

/**
 * Time as an input (DESIGN §6): at each `tickMs` boundary B of the receive clock, when no line was
 * stamped in (B − tick, B], writes a clock line stamped B. A replay of the recording — or a
 * pipeline reading `massive:raw` — then runs every tick the live session ran, including those after
 * the last market-data line, and publishes the same versions. When the timer fires late (a busy
 * event loop), only the latest boundary gets a line: the engine runs all ticks up to it anyway.
 */
export class ClockLines {
  private lastStampUs = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly tickUs: number;

  constructor(
    tickMs: number,
    private readonly now: () => number,
    /** Writes one clock line (stream `clock`). */
    private readonly write: (recv_us: number) => void,
  ) {
    this.tickUs = tickMs * 1000;
  }

  /** Every line the session stamps (any stream) goes through here. */
  noteStamp(recv_us: number): void {
    if (recv_us > this.lastStampUs) this.lastStampUs = recv_us;
  }

  start(): void {
    this.arm();
  }

  /**
   * Stops the timer and closes the session's time: a last clock line at the latest boundary when
   * nothing was stamped at or after it. A live engine may have run the ticks up to that boundary
   * (its clock follows the wall clock); with this line a replay runs them too, even when the last
   * boundaries all had market data (which writes no clock line) and no input followed them.
   */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const boundary = Math.floor(this.now() / this.tickUs) * this.tickUs;
    if (boundary > this.lastStampUs) {
      this.lastStampUs = boundary;
      this.write(boundary);
    }
  }

  private arm(): void {
    const now = this.now();
    const next = (Math.floor(now / this.tickUs) + 1) * this.tickUs;
    this.timer = setTimeout(() => this.fire(), Math.max(0, (next - now) / 1000) + 1);
  }

  private fire(): void {
    const boundary = Math.floor(this.now() / this.tickUs) * this.tickUs;
    if (this.lastStampUs <= boundary - this.tickUs) {
      this.lastStampUs = boundary;
      this.write(boundary);
    }
    this.arm();
  }
}
