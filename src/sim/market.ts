/**
 * The synthetic market: listed contracts, the spot path and the implied-volatility surface.
 *
 * - Contracts: the daily PM-settled root (SPXW) for business days 0..max_dte from the session date,
 *   plus the AM-settled monthly root (SPX, third Friday) when it falls in that window with DTE ≥ 1
 *   (on its own expiration day an AM contract has already settled at the open); strikes every
 *   `strike_step` over ± `chain_range` around the start spot.
 * - Spot: geometric Brownian motion with occasional jumps, on a grid of 250 ms *cells*; spot is
 *   constant within a cell, so the index feed and every quote of a cell agree exactly.
 * - Vol surface: an ATM term structure times a bounded smile in standardised moneyness
 *   z = ln(K/F) / (σ_atm √T). The smile's slope and curvature are small and bounded, which keeps
 *   Durrleman's density condition g(k) > 0 everywhere, so call prices are convex in strike for every
 *   expiry (checked over full chains in test/sim-pricing.test.ts).
 */
import type { Right } from '../engine/types.js';
import { formatOptionTicker } from '../massive/ticker.js';
import {
  BusinessClock,
  addDays,
  businessDayOnOrAfter,
  easternDate,
  isBusinessDay,
  monthlyExpiration,
  previousBusinessDay,
  sessionCloseUs,
  sessionOpenUs,
} from './calendar.js';
import { type SimParams, type UnderlyingSpec, checkSimParams, underlyingSpec } from './params.js';
import { deriveRng } from './rng.js';

export { quoteAt, quoteUnitsAt } from './quotes.js';

/** Length of a spot cell (µs): the cadence at which spot, and so every quote, can change. */
export const CELL_US = 250_000;

/** One listed expiration of one root. */
export interface SimExpiry {
  readonly index: number;
  readonly root: string;
  /** `YYYY-MM-DD`. */
  readonly date: string;
  /** AM-settled monthlies settle at the open, PM-settled dailies at the close. */
  readonly settlement: 'AM' | 'PM';
  /** Settlement instant (µs). */
  readonly expiry_us: number;
  /** Business-clock value of the settlement instant (trading days). */
  readonly clock: number;
  /** 0 for the nearest daily expiration, 1 for the next… (order flow concentrates on low ranks). */
  readonly rank: number;
  /** Relative share of the order flow while the expiration is live. */
  readonly flow_weight: number;
  /** Contract index (into `SimMarket.contracts`) per strike index. */
  readonly calls: Int32Array;
  readonly puts: Int32Array;
}

/** One listed contract. */
export interface SimContract {
  /** Position in `SimMarket.contracts` (ticker order). */
  readonly index: number;
  readonly ticker: string;
  readonly root: string;
  readonly expiration: string;
  readonly right: Right;
  readonly strike: number;
  readonly expiry: SimExpiry;
  readonly strike_index: number;
}

/** The whole synthetic market of one run. Build with {@link buildMarket}. */
export interface SimMarket {
  readonly params: SimParams;
  readonly spec: UnderlyingSpec;
  /** Eastern date of the session start. */
  readonly session_date: string;
  readonly clock: BusinessClock;
  /** Ascending strikes shared by every expiration. */
  readonly strikes: readonly number[];
  readonly expiries: readonly SimExpiry[];
  /** Every contract, sorted by ticker (the snapshot order). */
  readonly contracts: readonly SimContract[];
  /** Spot per cell: cell g covers [start + g·CELL_US, start + (g+1)·CELL_US). */
  readonly spot: Float64Array;
  /** Memo of quote strips per expiry × right (see quotes.ts); never changes results. */
  readonly strips: unknown[];
}

// Vol surface shape (see the module comment for why these values are safe).
const TERM_BUMP = 0.15; // short-dated ATM vol is up to 15% above the long-run level
const TERM_DAYS = 3; // …decaying over a few trading days
const SKEW = 0.12;
const SKEW_WIDTH = 1.5;
const CURVE = 0.08;
const CURVE_WIDTH = 2;
// Jumps: log-size ~ N(-0.08%, 0.15%) — a few index points, mostly down.
const JUMP_MEAN = -0.0008;
const JUMP_SD = 0.0015;

/** ATM implied vol for a time to expiry in years (trading-day clock). */
export function atmVol(market: SimMarket, T: number): number {
  return market.params.vol * (1 + TERM_BUMP * Math.exp((-Math.max(T, 0) * 252) / TERM_DAYS));
}

/** Smile multiplier of the ATM vol at standardised moneyness z (put skew + symmetric wings). */
export function smile(z: number): number {
  const t = Math.tanh(z / CURVE_WIDTH);
  return 1 - SKEW * Math.tanh(z / SKEW_WIDTH) + CURVE * t * t;
}

/** Implied vol of strike K for forward F and time to expiry T (years). */
export function impliedVol(market: SimMarket, K: number, F: number, T: number): number {
  const atm = atmVol(market, T);
  if (!(T > 0)) return atm;
  return atm * smile(Math.log(K / F) / (atm * Math.sqrt(T)));
}

/** The cell holding instant t (negative before the session start). */
export function cellOf(market: SimMarket, t_us: number): number {
  return Math.floor((t_us - market.params.start_us) / CELL_US);
}

/** First µs of cell g. */
export function cellStartUs(market: SimMarket, g: number): number {
  return market.params.start_us + g * CELL_US;
}

/** Spot during cell g: the start spot before the session, the last value after the path ends. */
export function spotOfCell(market: SimMarket, g: number): number {
  const s = market.spot;
  return s[g <= 0 ? 0 : g >= s.length ? s.length - 1 : g]!;
}

/** Spot at instant t. */
export function spotAt(market: SimMarket, t_us: number): number {
  return spotOfCell(market, cellOf(market, t_us));
}

/** Time to the expiry's settlement in years of 252 trading days, from instant t. */
export function yearsToExpiry(market: SimMarket, expiry: SimExpiry, t_us: number): number {
  return (expiry.clock - market.clock.at(t_us)) / 252;
}

/** The listed contract with this OCC ticker (`O:SPXW251121C05900000`), by binary search. */
export function findContract(market: SimMarket, ticker: string): SimContract | undefined {
  const list = market.contracts;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = list[mid]!.ticker;
    if (t === ticker) return list[mid];
    if (t < ticker) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * Builds the market of a run: calendar, expirations, contracts (ticker order) and the seeded spot
 * path. Deterministic in `params`.
 * @throws UsageError when the parameters are out of range.
 */
export function buildMarket(params: SimParams): SimMarket {
  checkSimParams(params);
  const spec = underlyingSpec(params.underlying);
  const session_date = easternDate(params.start_us);
  const dates = listExpirations(params, spec, session_date);
  const last = dates.length > 0 ? dates[dates.length - 1]!.date : session_date;
  const clock = new BusinessClock(addDays(previousBusinessDay(session_date), -7), addDays(last, 7));

  const step = params.strike_step;
  const lo = Math.ceil((params.spot - params.chain_range) / step - 1e-9);
  const hi = Math.floor((params.spot + params.chain_range) / step + 1e-9);
  const strikes: number[] = [];
  for (let i = lo; i <= hi; i++) strikes.push(Math.round(i * step * 1000) / 1000);

  const drafts: { ticker: string; expiry: number; right: Right; strike_index: number }[] = [];
  const expiries = dates.map((d, index) => {
    for (const right of ['C', 'P'] as const) {
      strikes.forEach((K, strike_index) => {
        drafts.push({ ticker: formatOptionTicker(d.root, d.date, right, K), expiry: index, right, strike_index });
      });
    }
    return {
      ...d,
      index,
      clock: clock.at(d.expiry_us),
      calls: new Int32Array(strikes.length),
      puts: new Int32Array(strikes.length),
    };
  });
  // Plain code-unit order, as Massive sorts by ticker (O:SPX2… before O:SPXW…).
  drafts.sort((a, b) => (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0));
  const contracts: SimContract[] = drafts.map((d, index) => {
    const expiry = expiries[d.expiry]!;
    (d.right === 'C' ? expiry.calls : expiry.puts)[d.strike_index] = index;
    return {
      index,
      ticker: d.ticker,
      root: expiry.root,
      expiration: expiry.date,
      right: d.right,
      strike: strikes[d.strike_index]!,
      expiry,
      strike_index: d.strike_index,
    };
  });

  const market: SimMarket = {
    params,
    spec,
    session_date,
    clock,
    strikes,
    expiries,
    contracts,
    spot: new Float64Array(0),
    strips: new Array<unknown>(expiries.length * 2).fill(undefined),
  };
  return { ...market, spot: buildSpotPath(market) };
}

type ExpiryDraft = Omit<SimExpiry, 'index' | 'clock' | 'calls' | 'puts'>;

/** Daily expirations for DTE 0..max_dte (still live at the start) and in-window AM monthlies. */
function listExpirations(p: SimParams, spec: UnderlyingSpec, sessionDate: string): ExpiryDraft[] {
  const dailies: string[] = [];
  let d = businessDayOnOrAfter(sessionDate);
  for (let k = 0; k <= p.max_dte; k++) {
    dailies.push(d);
    d = businessDayOnOrAfter(addDays(d, 1));
  }
  const out: ExpiryDraft[] = [];
  dailies.forEach((date, rank) => {
    const expiry_us = sessionCloseUs(date);
    if (expiry_us <= p.start_us) return; // started after that day's close: already settled
    out.push({ root: spec.daily_root, date, settlement: 'PM', expiry_us, rank, flow_weight: Math.pow(0.55, rank) });
  });
  const lastDaily = dailies[dailies.length - 1]!;
  for (let y = Number(sessionDate.slice(0, 4)), m = Number(sessionDate.slice(5, 7)); ; ) {
    const date = monthlyExpiration(y, m);
    if (date > lastDaily) break;
    if (date > sessionDate && isBusinessDay(date)) {
      const rank = Math.max(0, dailies.indexOf(date));
      out.push({
        root: spec.monthly_root,
        date,
        settlement: 'AM',
        expiry_us: sessionOpenUs(date),
        rank,
        flow_weight: 0.15 * Math.pow(0.55, rank),
      });
    }
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return out;
}

/**
 * The seeded spot path, one value per cell. Variance accrues with the business clock (so nothing
 * moves while the market is closed), at the ATM vol; jumps arrive only during the session.
 */
function buildSpotPath(market: SimMarket): Float64Array {
  const p = market.params;
  const cells = Math.ceil((p.duration_ms * 1000) / CELL_US) + 1;
  const path = new Float64Array(cells);
  path[0] = p.spot;
  if (p.closed) return path.fill(p.spot);
  const rng = deriveRng(p.seed, 'spot');
  const jumpProb = (p.jumps_per_hour * CELL_US) / 3_600_000_000;
  let s = p.spot;
  let prevClock = market.clock.at(p.start_us);
  for (let g = 1; g < cells; g++) {
    const t = p.start_us + g * CELL_US;
    const c = market.clock.at(t);
    const variance = (p.vol * p.vol * (c - prevClock)) / 252;
    prevClock = c;
    // Always draw, so the path of later cells does not depend on whether the market was open.
    const z = rng.normal();
    const u = rng.uniform();
    const jz = rng.normal();
    s *= Math.exp(-variance / 2 + Math.sqrt(variance) * z);
    if (u < jumpProb && market.clock.isOpen(t)) s *= Math.exp(JUMP_MEAN + JUMP_SD * jz);
    path[g] = s;
  }
  return path;
}
