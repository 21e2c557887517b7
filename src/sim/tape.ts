/**
 * Per-contract trading state of a run: the last trade (for snapshot `last_trade`) and today's bar
 * (for snapshot `day`). Typed arrays indexed by contract index — no per-trade allocation.
 */

/** The trade tape of one simulated session. */
export class TradeTape {
  /** Last trade: µs, sub-µs ns, price in cents, size; `hasLast` = 0 when the contract never traded. */
  readonly lastUs: Float64Array;
  readonly lastNs: Uint16Array;
  readonly lastCents: Int32Array;
  readonly lastSize: Int32Array;
  readonly hasLast: Uint8Array;
  /** 1 when the last trade was a leg of a complex order (condition 232), else 0 (209). */
  readonly lastIsLeg: Uint8Array;
  /** Previous session's close in cents (0 when none). */
  readonly prevClose: Int32Array;
  /** Today's bar: open/high/low/close in cents, volume in contracts, Σ price·size in cents. */
  readonly open: Int32Array;
  readonly high: Int32Array;
  readonly low: Int32Array;
  readonly close: Int32Array;
  readonly volume: Float64Array;
  readonly notional: Float64Array;

  constructor(readonly size: number) {
    this.lastUs = new Float64Array(size);
    this.lastNs = new Uint16Array(size);
    this.lastCents = new Int32Array(size);
    this.lastSize = new Int32Array(size);
    this.hasLast = new Uint8Array(size);
    this.lastIsLeg = new Uint8Array(size);
    this.prevClose = new Int32Array(size);
    this.open = new Int32Array(size);
    this.high = new Int32Array(size);
    this.low = new Int32Array(size);
    this.close = new Int32Array(size);
    this.volume = new Float64Array(size);
    this.notional = new Float64Array(size);
  }

  /** A trade of the previous session: becomes the last trade and the previous close, not today's bar. */
  setPrior(i: number, us: number, ns: number, cents: number, size: number): void {
    this.setLast(i, us, ns, cents, size, false);
    this.prevClose[i] = cents;
  }

  /** A trade of today's session; `isLeg` when it is a leg of a complex order. */
  record(i: number, us: number, ns: number, cents: number, size: number, isLeg: boolean): void {
    this.setLast(i, us, ns, cents, size, isLeg);
    if (this.volume[i] === 0) {
      this.open[i] = cents;
      this.high[i] = cents;
      this.low[i] = cents;
    } else {
      if (cents > this.high[i]!) this.high[i] = cents;
      if (cents < this.low[i]!) this.low[i] = cents;
    }
    this.close[i] = cents;
    this.volume[i] = this.volume[i]! + size;
    this.notional[i] = this.notional[i]! + cents * size;
  }

  private setLast(i: number, us: number, ns: number, cents: number, size: number, isLeg: boolean): void {
    this.lastIsLeg[i] = isLeg ? 1 : 0;
    this.lastUs[i] = us;
    this.lastNs[i] = ns;
    this.lastCents[i] = cents;
    this.lastSize[i] = size;
    this.hasLast[i] = 1;
  }
}
