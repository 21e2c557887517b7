/**
 * Counts of rejected or skipped inputs by reason. Reasons are free-form short strings
 * (`bad_json`, `ws_price_nan`, …); `toJSON` sorts them so serialized reports never depend on
 * the order in which reasons were first seen.
 */
export class Tally {
  private readonly counts = new Map<string, number>();
  /** A few example details per reason (file:line, ticker, …), for human reports only. */
  private readonly samples = new Map<string, string[]>();

  constructor(private readonly maxSamples = 3) {}

  add(reason: string, detail?: string, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
    if (detail !== undefined) {
      const list = this.samples.get(reason) ?? [];
      if (list.length < this.maxSamples) list.push(detail);
      this.samples.set(reason, list);
    }
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  count(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }

  /** Reason → count, keys sorted. */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.counts.keys()].sort()) out[k] = this.counts.get(k)!;
    return out;
  }

  /** Reason → example details, keys sorted. */
  sampleDetails(): Record<string, readonly string[]> {
    const out: Record<string, readonly string[]> = {};
    for (const k of [...this.samples.keys()].sort()) out[k] = this.samples.get(k)!;
    return out;
  }

  /** A tally rebuilt from `toJSON()` and `sampleDetails()` (e.g. sent from a worker thread). */
  static fromParts(counts: Record<string, number>, samples: Record<string, readonly string[]>): Tally {
    const t = new Tally();
    for (const [reason, n] of Object.entries(counts)) t.counts.set(reason, n);
    for (const [reason, list] of Object.entries(samples)) t.samples.set(reason, [...list]);
    return t;
  }

  merge(other: Tally): void {
    for (const [k, n] of other.counts) this.add(k, undefined, n);
    for (const [k, list] of other.samples) for (const d of list) {
      const mine = this.samples.get(k) ?? [];
      if (mine.length < this.maxSamples) mine.push(d);
      this.samples.set(k, mine);
    }
  }
}
