/**
 * Quotes of the synthetic market: a fair value per contract and a bid/ask symmetric around it.
 *
 * Fair values are Black–Scholes prices on a 0.0001 grid, rounded so that the *quoted* chain stays
 * arbitrage-free. Rounding each price on its own would not: where a butterfly is worth less than
 * 0.0002 (deep in or out of the money) independent rounding makes it negative. So prices are
 * rounded along each strip (one expiry × right × cell) the way a convex function is discretised:
 *
 *   1. anchor: the strike nearest the forward gets its own rounded price;
 *   2. outwards from it, each strike-to-strike *difference* is rounded, then forced monotone
 *      (non-decreasing in strike) and bounded by the strike step;
 *   3. prices below zero are clamped to 0 (max of two convex functions is convex).
 *
 * Monotone differences ⇔ convex prices; bounded differences ⇔ verticals within [0, width]. Every
 * step depends only on strikes nearer the anchor, so a lazily filled strip gives the same numbers
 * whatever order contracts are asked for — `quoteAt` is a pure function of (market, contract, t).
 *
 * (This module and market.ts import each other; nothing here touches market.ts at load time.)
 *
 * Spread: half-spread = max(0.025, 0.5% of fair), so the mid is exactly the fair value. A bid that
 * would fall below 0.01 is shown as 0 (deep OTM): such a quote has no usable mid, as in real chains.
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

/** Price units per index point: quotes live on a 0.0001 grid. */
export const PRICE_UNITS = 10_000;
const HALF_SPREAD_MIN = 250; // 0.025
const HALF_SPREAD_FRACTION = 0.005;
const MIN_BID = 100; // 0.01

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

/** One expiry × right × cell, filled lazily outward from its anchor strike. */
interface Strip {
  cell: number;
  readonly isCall: boolean;
  readonly expiry: SimExpiry;
  inputs: StripInputs;
  lo: number;
  hi: number;
  /** Unrounded prices in units at the filled strikes. */
  readonly exact: Float64Array;
  /** Rounded, unclamped prices in units at the filled strikes. */
  readonly sums: Float64Array;
  /** Rounded differences at the current edges (between hi-1..hi and lo..lo+1). */
  slopeUp: number;
  slopeDown: number;
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

/** A rounded strike-to-strike difference, forced monotone against its inner neighbour and bounded. */
function boundSlope(market: SimMarket, isCall: boolean, raw: number): number {
  const stepUnits = Math.round(market.params.strike_step * PRICE_UNITS);
  return isCall ? Math.min(0, Math.max(-stepUnits, raw)) : Math.min(stepUnits, Math.max(0, raw));
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
    exact: new Float64Array(n),
    sums: new Float64Array(n),
    slopeUp: 0,
    slopeDown: 0,
  };
  strip.cell = g;
  strip.inputs = inputs;
  // Anchor: the strike nearest the forward (first of two equally near ones).
  const strikes = market.strikes;
  let a = 0;
  for (let i = 1; i < n; i++) if (Math.abs(strikes[i]! - inputs.F) < Math.abs(strikes[a]! - inputs.F)) a = i;
  strip.exact[a] = exactUnits(market, strip, a);
  strip.sums[a] = Math.round(strip.exact[a]!);
  strip.lo = a;
  strip.hi = a;
  // The two slopes around the anchor are fixed together so the down side never waits on the up side.
  let up = Number.NaN;
  let down = Number.NaN;
  if (a + 1 < n) {
    strip.exact[a + 1] = exactUnits(market, strip, a + 1);
    up = boundSlope(market, isCall, Math.round(strip.exact[a + 1]! - strip.exact[a]!));
  }
  if (a > 0) {
    strip.exact[a - 1] = exactUnits(market, strip, a - 1);
    down = boundSlope(market, isCall, Math.round(strip.exact[a]! - strip.exact[a - 1]!));
    if (up === up && down > up) down = up;
  }
  if (up === up) {
    strip.sums[a + 1] = strip.sums[a]! + up;
    strip.hi = a + 1;
    strip.slopeUp = up;
  }
  if (down === down) {
    strip.sums[a - 1] = strip.sums[a]! - down;
    strip.lo = a - 1;
    strip.slopeDown = down;
  }
  return strip;
}

/** Extends a strip until strike index i is filled. */
function fillTo(market: SimMarket, strip: Strip, i: number): void {
  while (strip.hi < i) {
    const j = strip.hi + 1;
    strip.exact[j] = exactUnits(market, strip, j);
    const s = boundSlope(market, strip.isCall, Math.max(Math.round(strip.exact[j]! - strip.exact[j - 1]!), strip.slopeUp));
    strip.sums[j] = strip.sums[j - 1]! + s;
    strip.slopeUp = s;
    strip.hi = j;
  }
  while (strip.lo > i) {
    const j = strip.lo - 1;
    strip.exact[j] = exactUnits(market, strip, j);
    const s = boundSlope(market, strip.isCall, Math.min(Math.round(strip.exact[j + 1]! - strip.exact[j]!), strip.slopeDown));
    strip.sums[j] = strip.sums[j + 1]! - s;
    strip.slopeDown = s;
    strip.lo = j;
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

/** Fair value (units) of a contract during cell g. */
export function fairUnitsInCell(market: SimMarket, contract: SimContract, g: number): number {
  const strip = stripFor(market, contract, g);
  fillTo(market, strip, contract.strike_index);
  return Math.max(0, strip.sums[contract.strike_index]!);
}

/** Bid/ask around a fair value (units), per the spread rule in the module comment. */
export function spreadAround(fair: number): QuoteUnits {
  const half = Math.max(HALF_SPREAD_MIN, Math.round(fair * HALF_SPREAD_FRACTION));
  const bid = fair - half;
  return { fair, bid: bid >= MIN_BID ? bid : 0, ask: fair + half };
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
