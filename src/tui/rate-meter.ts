/**
 * Rate of a cumulative counter over a sliding wall-clock window (input lines/s, versions/s).
 * Samples are (time, running total); the rate is the slope between the oldest sample in the
 * window and now. Wall time is passed in, so the meter itself is deterministic.
 */
export class RateMeter {
  private readonly samples: { t: number; total: number }[] = [];

  constructor(private readonly windowMs = 2000) {}

  /** Records the running total at wall time `tMs`. */
  sample(total: number, tMs: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && last.t === tMs) last.total = total;
    else this.samples.push({ t: tMs, total });
    // keep one sample older than the window as the slope's anchor
    while (this.samples.length > 2 && this.samples[1]!.t <= tMs - this.windowMs) this.samples.shift();
  }

  /** Units per second over the window ending at `tMs`; 0 when nothing was sampled inside it. */
  rate(tMs: number): number {
    const start = tMs - this.windowMs;
    const last = this.samples[this.samples.length - 1];
    if (!last || last.t <= start) return 0;
    let anchor = this.samples[0]!;
    for (const s of this.samples) if (s.t <= start) anchor = s;
    // Dividing by the time up to now (not up to the last sample) lets a counter that stopped
    // moving decay towards 0.
    const span = tMs - anchor.t;
    return span > 0 ? ((last.total - anchor.total) * 1000) / span : 0;
  }
}
