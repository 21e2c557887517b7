/**
 * Option trades of the synthetic market, as WS `T` events (massive-wire.md §4.3) batched into frames.
 *
 * Orders arrive as a Poisson process; each order prints one or more trades at one instant: a single
 * (60%), a vertical (20%), a butterfly (10%, 1×2×1) or a sweep of 2–4 prints of one contract (10%) —
 * which is also why real frames often carry several events. Contracts are chosen with weight falling
 * as exp(-|K − S| / scale) around spot (biased to the out-of-the-money side) and much more on nearer
 * expiries. A single-leg print (single, sweep) is a price of the exchange's grid (ticks.ts) drawn
 * uniformly between the contract's bid and ask at that instant, condition 209 (automatic
 * execution); the legs of a vertical or butterfly print in cents anywhere inside their own quotes,
 * condition 232 (multi-leg auto-electronic trade), as complex-order legs do on Cboe.
 *
 * Only the traded contracts are priced, at their trade time; whole chains are priced only at
 * snapshots. Frame text is built directly as strings.
 */
import { wsLine } from '../recording/lines.js';
import { formatCents } from './format.js';
import { type SimExpiry, type SimMarket, spotAt } from './market.js';
import { quoteUnitsAt } from './quotes.js';
import { SMALL_TICK, countGridPrices, nthGridPrice } from './ticks.js';
import type { Rng } from './rng.js';
import type { TradeTape } from './tape.js';

/** Mean prints per order: 0.6·1 + 0.2·2 + 0.1·3 + 0.1·3 (sweeps print 2–4 times). */
const MEAN_PRINTS_PER_ORDER = 1.6;
/** Events whose receive times fall within this window of a frame's first event share the frame. */
const FRAME_WINDOW_US = 3000;
const MAX_EVENTS_PER_FRAME = 200;
/** Probability that an order's strike lies on the out-of-the-money side of spot. */
const OTM_SHARE = 0.7;
/** Vertical and butterfly widths, in strike steps. */
const WIDTH_STEPS = [1, 2, 4] as const;

/**
 * Groups events into frames by receive time and emits each frame as one recording line. Receive
 * times are forced non-decreasing (the feed is one ordered stream), so frames are in receive order
 * and in `q` order.
 */
export class FrameBatcher {
  private events: string[] = [];
  private firstUs = 0;
  private lastUs = 0;
  /** Frames emitted so far. */
  frames = 0;

  constructor(private readonly emit: (line: string) => void) {}

  /** Adds an event arriving at `arrivalUs` (raised to the previous arrival if earlier). */
  push(arrivalUs: number, event: string): void {
    const at = arrivalUs > this.lastUs ? arrivalUs : this.lastUs;
    if (this.events.length > 0 && (at - this.firstUs > FRAME_WINDOW_US || this.events.length >= MAX_EVENTS_PER_FRAME)) {
      this.flush();
    }
    if (this.events.length === 0) this.firstUs = at;
    this.events.push(event);
    this.lastUs = at;
  }

  /** Emits the open frame, if any; its receive time is its last event's arrival. */
  flush(): void {
    if (this.events.length === 0) return;
    this.emit(wsLine(this.lastUs, `[${this.events.join(',')}]`));
    this.events = [];
    this.frames++;
    // The next frame must arrive strictly later than this one.
    this.lastUs += 1;
  }
}

/** The order flow of one session: call `emitNext()` while `nextUs` < the session end. */
export class OrderFlow {
  /** Event time (µs) of the next order; Infinity when there is no flow. */
  nextUs: number;
  /** Trades printed so far. */
  trades = 0;
  private nextExact: number;
  private readonly meanGapUs: number;
  private seq: number;
  private readonly symbols: readonly string[];
  private readonly exchange: string;

  constructor(
    private readonly market: SimMarket,
    private readonly tape: TradeTape,
    private readonly rng: Rng,
    private readonly frames: FrameBatcher,
  ) {
    const p = market.params;
    const orderRate = p.closed ? 0 : p.trade_rate / MEAN_PRINTS_PER_ORDER;
    this.meanGapUs = orderRate > 0 ? 1e6 / orderRate : Infinity;
    this.seq = 100_000_000 + rng.int(50_000_000);
    this.symbols = market.contracts.map((c) => `{"ev":"T","sym":"${c.ticker}","x":`);
    this.exchange = String(market.spec.exchange);
    this.nextExact = orderRate > 0 ? p.start_us + rng.exponential(this.meanGapUs) : Infinity;
    this.nextUs = Math.floor(this.nextExact);
  }

  /** Prints the order at `nextUs`, then draws the next arrival. */
  emitNext(): void {
    const t = this.nextUs;
    const expiry = this.pickExpiry(t);
    if (expiry) this.printOrder(expiry, t);
    this.nextExact += this.rng.exponential(this.meanGapUs);
    this.nextUs = Math.floor(this.nextExact);
  }

  /** A live expiry by flow weight, or undefined when everything has settled. */
  private pickExpiry(t: number): SimExpiry | undefined {
    let total = 0;
    for (const e of this.market.expiries) if (e.expiry_us > t) total += e.flow_weight;
    let u = this.rng.uniform() * total;
    let pick: SimExpiry | undefined;
    for (const e of this.market.expiries) {
      if (e.expiry_us <= t) continue;
      pick = e;
      u -= e.flow_weight;
      if (u < 0) break;
    }
    return pick;
  }

  private printOrder(expiry: SimExpiry, t: number): void {
    const rng = this.rng;
    const isCall = rng.uniform() < 0.5;
    const center = this.pickStrike(expiry, isCall, t);
    const book = isCall ? expiry.calls : expiry.puts;
    const n = book.length;
    const kind = rng.uniform();
    const w = WIDTH_STEPS[rng.int(WIDTH_STEPS.length)]!;
    const size = 1 + Math.min(499, Math.floor(rng.exponential(3)));
    // One latency per order (legs travel together), 1..30 ms, mostly a few ms.
    const latency = 1000 + Math.min(29_000, Math.floor(rng.exponential(4000)));
    const t_ms = Math.floor(t / 1000);
    const arrival = t_ms * 1000 + latency;
    const far = isCall ? center + w : center - w;
    if (kind < 0.6 || far < 0 || far >= n) {
      this.print(book[center]!, t, t_ms, arrival, size, false);
    } else if (kind < 0.8) {
      this.print(book[center]!, t, t_ms, arrival, size, true);
      this.print(book[far]!, t, t_ms, arrival, size, true);
    } else if (kind < 0.9) {
      const near = isCall ? center - w : center + w;
      if (near < 0 || near >= n) {
        this.print(book[center]!, t, t_ms, arrival, size, false);
      } else {
        this.print(book[near]!, t, t_ms, arrival, size, true);
        this.print(book[center]!, t, t_ms, arrival, 2 * size, true);
        this.print(book[far]!, t, t_ms, arrival, size, true);
      }
    } else {
      const prints = 2 + rng.int(3);
      for (let k = 0; k < prints; k++) this.print(book[center]!, t, t_ms, arrival, 1 + rng.int(size), false);
    }
  }

  /** Strike index drawn from a Laplace law around spot, OTM-biased, wider for later expiries. */
  private pickStrike(expiry: SimExpiry, isCall: boolean, t: number): number {
    const m = this.market;
    const p = m.params;
    const S = spotAt(m, t);
    const scale = Math.max(2 * p.strike_step, 0.1 * p.chain_range) * (1 + 0.5 * expiry.rank);
    const n = m.strikes.length;
    const k0 = m.strikes[0]!;
    let idx = 0;
    for (let attempt = 0; attempt < 4; attempt++) {
      const otm = this.rng.uniform() < OTM_SHARE;
      const d = this.rng.exponential(scale) * (otm === isCall ? 1 : -1);
      idx = Math.round((S + d - k0) / p.strike_step);
      if (idx >= 0 && idx < n) return idx;
    }
    return Math.min(n - 1, Math.max(0, idx));
  }

  /**
   * One print between the contract's bid and ask (never below one tick): on the price grid for a
   * single-leg order, in cents for a leg of a complex order. Then one event and the tape.
   */
  private print(contract: number, t: number, t_ms: number, arrival: number, size: number, isLeg: boolean): void {
    const rng = this.rng;
    const c = this.market.contracts[contract]!;
    const q = quoteUnitsAt(this.market, c, t);
    let cents: number;
    if (isLeg) {
      const lo = Math.max(1, Math.ceil(q.bid / 100));
      const hi = Math.max(lo, Math.floor(q.ask / 100));
      cents = lo + rng.int(hi - lo + 1);
    } else {
      const lo = Math.max(SMALL_TICK, q.bid); // bid and ask are on the grid; a zero bid cannot print
      cents = nthGridPrice(lo, rng.int(countGridPrices(lo, q.ask))) / 100;
    }
    this.seq += 1 + (rng.uniform() < 0.1 ? rng.int(4) : 0);
    this.frames.push(
      arrival + rng.int(200),
      `${this.symbols[contract]}${this.exchange},"p":${formatCents(cents)},"s":${size},"c":[${isLeg ? 232 : 209}],"t":${t_ms},"q":${this.seq}}`,
    );
    this.tape.record(contract, t, rng.int(1000), cents, size, isLeg);
    this.trades++;
  }
}
