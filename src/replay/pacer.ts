/**
 * Paces a replay against the wall clock: receive time advances `speed`× faster than real time.
 * Late inputs are never dropped — the pacer only waits, and reports how far behind it fell.
 * Speed and pause can change while running (the TUI's +/− and space); each change re-anchors the
 * mapping so the replay continues smoothly from where it is.
 */
export class Pacer {
  private anchorWallMs: number | undefined;
  private anchorRecvUs = 0;
  private lastRecvUs = 0;
  private speedValue: number | 'max';
  private pausedFlag = false;
  private resumeWaiters: (() => void)[] = [];
  /** Largest lag behind the schedule seen so far (ms). */
  maxLagMs = 0;
  /** Lag at the last input (ms). */
  lagMs = 0;

  constructor(
    speed: number | 'max',
    private readonly now: () => number = () => performance.now(),
  ) {
    this.speedValue = speed;
  }

  get speed(): number | 'max' {
    return this.speedValue;
  }

  set speed(s: number | 'max') {
    this.speedValue = s;
    this.anchorWallMs = undefined; // re-anchor at the next input
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  set paused(p: boolean) {
    this.pausedFlag = p;
    if (!p) {
      this.anchorWallMs = undefined;
      const waiters = this.resumeWaiters;
      this.resumeWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** The receive time of the last input released. */
  get position(): number {
    return this.lastRecvUs;
  }

  /** Resolves when the input with receive time `recvUs` is due. */
  async waitFor(recvUs: number): Promise<void> {
    while (this.pausedFlag) await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
    this.lastRecvUs = recvUs;
    const speed = this.speedValue;
    if (speed === 'max') {
      this.lagMs = 0;
      return;
    }
    if (this.anchorWallMs === undefined) {
      this.anchorWallMs = this.now();
      this.anchorRecvUs = recvUs;
    }
    const target = this.anchorWallMs + (recvUs - this.anchorRecvUs) / 1000 / speed;
    const wait = target - this.now();
    if (wait > 1) {
      this.lagMs = 0;
      await new Promise((resolve) => setTimeout(resolve, wait));
    } else {
      this.lagMs = Math.max(0, -wait);
      this.maxLagMs = Math.max(this.maxLagMs, this.lagMs);
    }
  }
}
