/**
 * Quotes of the synthetic market: a fair value per contract and a bid/ask symmetric around it, all
 * on the exchange's price grid (ticks.ts: 0.05 below 3.00, 0.10 from 3.00 up).
 *
 * Fair values (the mids) are Black–Scholes prices rounded to a 0.05 grid so that the *quoted* chain
 * stays arbitrage-free. Rounding each price on its own would not: a butterfly worth less than a tick
 * (deep in or out of the money) would often come out negative. So each strip (one expiry × right ×
 * cell) is discretised the way a convex function is:
 *
 *   1. anchor: the strike nearest the forward gets its price rounded to the grid;
 *   2. outwards from it, each strike-to-strike difference is the exact difference rounded down or
 *      up to the grid. Exact differences are monotone in strike (convexity), so strikes whose exact
 *      differences fall between the same two grid values form a *run*; a run takes the lower value
 *      for its first k strikes and the upper one for the rest (keeping the grid differences
 *      monotone), k chosen so that the price at the run's end is as near its exact value as the
 *      grid allows (within half a tick when the run started within half a tick);
 *   3. differences are bounded by the strike step, and prices below zero are clamped to 0 (the max
 *      of two convex functions is convex).
 *
 * Monotone differences ⇔ convex prices; bounded differences ⇔ verticals within [0, width]. Every
 * step depends only on strikes nearer the anchor (and on exact values further out), so a lazily
 * filled strip gives the same numbers whatever order contracts are asked for — `quoteAt` is a pure
 * function of (market, contract, t). Within a long run a price can stray up to about a tick from
 * Black–Scholes: a convex sequence on a grid cannot follow a slowly bending curve more closely.
 *
 * (This module and market.ts import each other; nothing here touches market.ts at load time.)
 *
 * Spread: the half-spread is the smallest multiple of 0.05 that is ≥ max(0.05, 0.5 % of fair) and
 * puts the ask on the grid (from 3.00 up a mid on an odd multiple of 0.05 needs an odd half-spread),
 * so bid and ask are on the grid and the mid is exactly the fair value. A bid that would be ≤ 0
 * shows as 0 (deep OTM): such a quote has no usable mid, as in real chains.
 */
import { normCdf } from './pricing.js';
import {
  type SimContract,
  type SimExpiry,
  type SimMarket,
  cellOf,
  cellStartUs,
  impliedVol,
  spotOfCell,
} from './market.js';
import { LARGE_TICK, SMALL_TICK, TICK_BREAK } from './ticks.js';

/** Price units per index point: prices are integers of 0.0001. */
export const PRICE_UNITS = 10_000;
const HALF_SPREAD_FRACTION = 0.005;

/** A quote in integer price units (1 unit = 0.0001). */
export interface QuoteUnits {
  readonly fair: number;
  /** 0 when the contract shows no bid. */
  readonly bid: number;
  readonly ask: number;
}

/** A quote in index points: `mid = (bid + ask) / 2 = fair` whenever `bid > 0`. */
export interface SimQuote {
  readonly bid: number;
  readonly ask: number;
  readonly fair: number;
}

/** Market inputs of one strip (expiry × cell): spot, years to expiry, forward. */
export interface StripInputs {
  readonly S: number;
  readonly T: number;
  readonly F: number;
}

/**
 * One expiry × right × cell, filled lazily outward from its anchor strike. `D(j)` below is the
 * exact difference between strikes j−1 and j; a grid difference `G(j)` prices j from j−1.
 */
interface Strip {
  cell: number;
  readonly isCall: boolean;
  readonly expiry: SimExpiry;
  inputs: StripInputs;
  /** Rounded prices are known at strikes lo..hi, exact ones at exLo..exHi (the runs look ahead). */
  lo: number;
  hi: number;
  exLo: number;
  exHi: number;
  readonly exact: Float64Array;
  /** Rounded, unclamped prices in units. */
  readonly sums: Float64Array;
  /** Grid differences at the current edges: G(hi) and G(lo + 1). */
  slopeUp: number;
  slopeDown: number;
  /** Upward run: strikes up to upEnd; those below upSwitch take the lower grid value. */
  upEnd: number;
  upSwitch: number;
  /** Downward run: differences down to downEnd; those above downSwitch take the upper grid value. */
  downEnd: number;
  downSwitch: number;
}

/** Spot, time to expiry and forward of an expiry at the start of cell g. */
export function stripInputs(market: SimMarket, expiry: SimExpiry, g: number): StripInputs {
  const p = market.params;
  const S = spotOfCell(market, g);
  const T = (expiry.clock - market.clock.at(cellStartUs(market, g))) / 252;
  const F = S * Math.exp((p.rate - p.div_yield) * Math.max(T, 0));
  return { S, T, F };
}

/** Unrounded Black–Scholes value of strike index i of a strip, in price units. */
function exactUnits(market: SimMarket, strip: Strip, i: number): number {
  const K = market.strikes[i]!;
  const { S, T, F } = strip.inputs;
  if (!(T > 0)) return Math.max(0, strip.isCall ? S - K : K - S) * PRICE_UNITS;
  const sd = impliedVol(market, K, F, T) * Math.sqrt(T);
  const df = Math.exp(-market.params.rate * T);
  const d1 = (Math.log(F / K) + (sd * sd) / 2) / sd;
  const d2 = d1 - sd;
  const v = strip.isCall ? df * (F * normCdf(d1) - K * normCdf(d2)) : df * (K * normCdf(-d2) - F * normCdf(-d1));
  return Math.max(0, v) * PRICE_UNITS;
}

/** The exact price at strike i, computing the strip's exact values out to i on demand. */
function exactAt(market: SimMarket, strip: Strip, i: number): number {
  while (strip.exHi < i) strip.exact[++strip.exHi] = exactUnits(market, strip, strip.exHi);
  while (strip.exLo > i) strip.exact[--strip.exLo] = exactUnits(market, strip, strip.exLo);
  return strip.exact[i]!;
}

/** Exact difference D(j) = price(j) − price(j−1). */
function diffAt(market: SimMarket, strip: Strip, j: number): number {
  return exactAt(market, strip, j) - exactAt(market, strip, j - 1);
}

const floorTick = (x: number): number => Math.floor(x / SMALL_TICK) * SMALL_TICK;
const ceilTick = (x: number): number => Math.ceil(x / SMALL_TICK) * SMALL_TICK;

/** A grid difference bounded by the strike step (rounded down to the grid) with the right sign. */
function boundSlope(market: SimMarket, isCall: boolean, raw: number): number {
  const stepUnits = floorTick(Math.round(market.params.strike_step * PRICE_UNITS));
  return isCall ? Math.min(0, Math.max(-stepUnits, raw)) : Math.min(stepUnits, Math.max(0, raw));
}

/**
 * The run of differences starting at D(from) and stepping by `dir` (+1 up, −1 down) while they
 * stay between the same two grid values, and its split k: the first k differences take one grid
 * value (upward the lower, downward the upper: grid differences must stay monotone), the rest the
 * other. k leaves the price at the run's end nearest its exact value, given the error `err`
 * (rounded − exact) at the strike before the run; ties go to the smaller k. `cap` bounds the first
 * difference (the downward side must not exceed the upward side's first difference at the anchor).
 */
function planRun(market: SimMarket, strip: Strip, from: number, dir: 1 | -1, err: number, cap: number): { end: number; k: number } {
  const n = market.strikes.length;
  const cell = Math.floor(diffAt(market, strip, from) / SMALL_TICK);
  let end = from;
  for (let j = from + dir; j >= 1 && j < n && Math.floor(diffAt(market, strip, j) / SMALL_TICK) === cell; j += dir) end = j;
  // The end error when every difference takes the second value. Upward s(j) = s(j−1) + G(j),
  // downward s(j−1) = s(j) − G(j); either way taking the first value instead lowers it by hi − lo.
  let e = err;
  for (let j = from; j !== end + dir; j += dir) {
    const d = diffAt(market, strip, j);
    e += dir === 1 ? ceilTick(d) - d : d - floorTick(d);
  }
  const len = (end - from) * dir + 1;
  const maxK = dir === 1 || ceilTick(diffAt(market, strip, from)) <= cap ? len : 0;
  let best = 0;
  let bestAbs = Math.abs(e);
  for (let k = 1; k <= maxK; k++) {
    const d = diffAt(market, strip, from + (k - 1) * dir);
    e -= ceilTick(d) - floorTick(d);
    if (Math.abs(e) < bestAbs) {
      best = k;
      bestAbs = Math.abs(e);
    }
  }
  return { end, k: best };
}

function newStrip(market: SimMarket, expiry: SimExpiry, isCall: boolean, g: number, reuse: Strip | undefined): Strip {
  const n = market.strikes.length;
  const inputs = stripInputs(market, expiry, g);
  const strip: Strip = reuse ?? {
    cell: g,
    isCall,
    expiry,
    inputs,
    lo: 0,
    hi: 0,
    exLo: 0,
    exHi: 0,
    exact: new Float64Array(n),
    sums: new Float64Array(n),
    slopeUp: 0,
    slopeDown: 0,
    upEnd: -1,
    upSwitch: 0,
    downEnd: n,
    downSwitch: 0,
  };
  strip.cell = g;
  strip.inputs = inputs;
  // Anchor: the strike nearest the forward (first of two equally near ones).
  const strikes = market.strikes;
  let a = 0;
  for (let i = 1; i < n; i++) if (Math.abs(strikes[i]! - inputs.F) < Math.abs(strikes[a]! - inputs.F)) a = i;
  strip.exLo = strip.exHi = a;
  strip.exact[a] = exactUnits(market, strip, a);
  strip.sums[a] = Math.round(strip.exact[a]! / SMALL_TICK) * SMALL_TICK;
  strip.lo = strip.hi = a;
  strip.upEnd = a; // no run planned yet
  strip.downEnd = a + 1;
  const stepUnits = floorTick(Math.round(market.params.strike_step * PRICE_UNITS));
  // No constraint yet on either side: the widest differences the bounds allow.
  strip.slopeUp = isCall ? -stepUnits : 0;
  strip.slopeDown = isCall ? 0 : stepUnits;
  // The upward side's first difference caps the downward side's (convexity at the anchor).
  if (a + 1 < n) {
    fillTo(market, strip, a + 1);
    strip.slopeDown = strip.slopeUp;
  }
  return strip;
}

/** Extends a strip until strike index i is filled. */
function fillTo(market: SimMarket, strip: Strip, i: number): void {
  while (strip.hi < i) {
    const j = strip.hi + 1;
    if (j > strip.upEnd) {
      const run = planRun(market, strip, j, 1, strip.sums[j - 1]! - exactAt(market, strip, j - 1), Infinity);
      strip.upEnd = run.end;
      strip.upSwitch = j + run.k;
    }
    const d = diffAt(market, strip, j);
    const s = boundSlope(market, strip.isCall, Math.max(j < strip.upSwitch ? floorTick(d) : ceilTick(d), strip.slopeUp));
    strip.sums[j] = strip.sums[j - 1]! + s;
    strip.slopeUp = s;
    strip.hi = j;
  }
  while (strip.lo > i) {
    const m = strip.lo; // the difference D(m) prices m − 1 from m
    if (m < strip.downEnd) {
      const run = planRun(market, strip, m, -1, strip.sums[m]! - exactAt(market, strip, m), strip.slopeDown);
      strip.downEnd = run.end;
      strip.downSwitch = m - run.k;
    }
    const d = diffAt(market, strip, m);
    const s = boundSlope(market, strip.isCall, Math.min(m > strip.downSwitch ? ceilTick(d) : floorTick(d), strip.slopeDown));
    strip.sums[m - 1] = strip.sums[m]! - s;
    strip.slopeDown = s;
    strip.lo = m - 1;
  }
}

/** The strip of a contract's expiry × right at cell g (memoised: one cell per strip). */
function stripFor(market: SimMarket, contract: SimContract, g: number): Strip {
  const slot = contract.expiry.index * 2 + (contract.right === 'C' ? 0 : 1);
  const cached = market.strips[slot] as Strip | undefined;
  if (cached && cached.cell === g) return cached;
  const strip = newStrip(market, contract.expiry, contract.right === 'C', g, cached);
  market.strips[slot] = strip;
  return strip;
}

/** Fair value (units, a multiple of 0.05) of a contract during cell g. */
export function fairUnitsInCell(market: SimMarket, contract: SimContract, g: number): number {
  const strip = stripFor(market, contract, g);
  fillTo(market, strip, contract.strike_index);
  return Math.max(0, strip.sums[contract.strike_index]!);
}

/** Bid/ask around a fair value on the 0.05 grid (units), per the spread rule in the module comment. */
export function spreadAround(fair: number): QuoteUnits {
  let half = Math.ceil(Math.max(SMALL_TICK, fair * HALF_SPREAD_FRACTION) / SMALL_TICK) * SMALL_TICK;
  if (fair + half >= TICK_BREAK && (fair + half) % LARGE_TICK !== 0) half += SMALL_TICK;
  const bid = fair - half;
  return { fair, bid: bid > 0 ? bid : 0, ask: fair + half };
}

/** The quote of a contract at instant t, in integer units of 0.0001. */
export function quoteUnitsAt(market: SimMarket, contract: SimContract, t_us: number): QuoteUnits {
  return spreadAround(fairUnitsInCell(market, contract, cellOf(market, t_us)));
}

/**
 * The quote of a contract at instant t: what every snapshot and trade of the simulation is built
 * from. Pure: depends only on the market (its params and seed) and its arguments. Quotes change
 * only at cell boundaries (every 250 ms of simulated time).
 */
export function quoteAt(market: SimMarket, contract: SimContract, t_us: number): SimQuote {
  const q = quoteUnitsAt(market, contract, t_us);
  return { bid: q.bid / PRICE_UNITS, ask: q.ask / PRICE_UNITS, fair: q.fair / PRICE_UNITS };
}
