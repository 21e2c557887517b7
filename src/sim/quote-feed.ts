/**
 * WS option quotes of the synthetic market (`Q` events, massive-wire.md §4.3), for `sim --quotes N`:
 * the N contracts nearest the start spot, chosen as the recorder's `--quotes` chooses them (strike
 * nearest spot first, ties by ticker; Massive serves quotes for at most 1,000 contracts per
 * connection).
 *
 * A simulated quote changes only at cell boundaries (every 250 ms), so at each boundary every quoted,
 * still-live contract whose bid or ask moved since its last event sends one (the first boundary
 * sends them all). The event is stamped at the boundary (ms), carries the same bid and ask as
 * `quoteAt` for that instant (on the price grid) with random sizes, and shares the option trades'
 * frames: the options cluster is one ordered stream.
 */
import { type SimContract, type SimMarket, cellStartUs } from './market.js';
import { quoteUnitsAt } from './quotes.js';
import { formatUnits4 } from './format.js';
import type { Rng } from './rng.js';
import type { FrameBatcher } from './trades.js';

/** The `count` contracts nearest `spot` by strike (ties by ticker), in ticker order. */
export function nearestContracts(market: SimMarket, spot: number, count: number): SimContract[] {
  const byDistance = [...market.contracts].sort(
    (a, b) => Math.abs(a.strike - spot) - Math.abs(b.strike - spot) || (a.ticker < b.ticker ? -1 : 1),
  );
  return byDistance.slice(0, count).sort((a, b) => a.index - b.index);
}

/** The quote feed of one session: call `emitNext()` while `nextUs` < the session end. */
export class QuoteFeed {
  /** Time (µs) of the next cell boundary to publish; Infinity when no contract is quoted. */
  nextUs: number;
  /** Q events sent so far. */
  quotes = 0;
  private readonly contracts: readonly SimContract[];
  private readonly heads: readonly string[];
  private readonly lastBid: Float64Array;
  private readonly lastAsk: Float64Array;
  private seq: number;
  private cell = 0;

  constructor(
    private readonly market: SimMarket,
    private readonly rng: Rng,
    private readonly frames: FrameBatcher,
  ) {
    const p = market.params;
    this.contracts = nearestContracts(market, p.spot, p.quotes);
    const x = market.spec.exchange;
    this.heads = this.contracts.map((c) => `{"ev":"Q","sym":"${c.ticker}","bx":${x},"ax":${x},"bp":`);
    this.lastBid = new Float64Array(this.contracts.length).fill(-1);
    this.lastAsk = new Float64Array(this.contracts.length).fill(-1);
    this.seq = 800_000_000 + rng.int(50_000_000);
    this.nextUs = this.contracts.length > 0 ? p.start_us : Infinity;
  }

  /** Sends the quotes that changed at the boundary `nextUs`, then moves to the next boundary. */
  emitNext(): void {
    const t = this.nextUs;
    const tMs = t / 1000; // cell boundaries are whole milliseconds (the start is, and CELL_US is)
    for (let k = 0; k < this.contracts.length; k++) {
      const c = this.contracts[k]!;
      if (c.expiry.expiry_us <= t) continue;
      const q = quoteUnitsAt(this.market, c, t);
      if (q.bid === this.lastBid[k] && q.ask === this.lastAsk[k]) continue;
      this.lastBid[k] = q.bid;
      this.lastAsk[k] = q.ask;
      const rng = this.rng;
      this.seq += 1 + rng.int(3);
      const sizes = `"bs":${rng.intBetween(1, 300)},"as":${rng.intBetween(1, 300)}`;
      // 1–5 ms from the exchange to the recorder.
      this.frames.push(t + rng.intBetween(1000, 5000), `${this.heads[k]}${formatUnits4(q.bid)},"ap":${formatUnits4(q.ask)},${sizes},"t":${tMs},"q":${this.seq}}`);
      this.quotes++;
    }
    this.cell++;
    this.nextUs = cellStartUs(this.market, this.cell);
  }
}
