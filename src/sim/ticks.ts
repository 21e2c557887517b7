/**
 * The exchange's price grid for SPX/SPXW options (Cboe's contract specification: "Minimum tick for
 * options trading below 3.00 is 0.05 and for all other series, 0.10"; legs of complex orders may
 * trade in 0.01). The simulator's quotes and single-leg prints sit on it.
 *
 * Prices here are integer units of 0.0001 (quotes.ts `PRICE_UNITS`), so the rule is exact
 * integer arithmetic: a price p is on the grid when p < 3.00 and p is a multiple of 0.05, or
 * p ≥ 3.00 and p is a multiple of 0.10.
 */

/** 0.05 in price units: the tick below 3.00, and the grid of simulated mids (fair values). */
export const SMALL_TICK = 500;
/** 0.10 in price units: the tick from 3.00 up. */
export const LARGE_TICK = 1000;
/** 3.00 in price units: where the tick widens. */
export const TICK_BREAK = 30_000;

/** The tick that applies to a price (units). */
export function tickAt(units: number): number {
  return units < TICK_BREAK ? SMALL_TICK : LARGE_TICK;
}

/** True when a price (units) is a valid quote or single-leg trade price. */
export function isOnTickGrid(units: number): boolean {
  return Number.isInteger(units) && units % tickAt(units) === 0;
}

/** The grid price nearest to `units` (ties up), never below one tick. */
export function roundToTick(units: number): number {
  const small = Math.round(units / SMALL_TICK) * SMALL_TICK;
  const r = small < TICK_BREAK ? small : Math.round(units / LARGE_TICK) * LARGE_TICK;
  return Math.max(SMALL_TICK, r);
}

/** How many grid prices lie in [lo, hi] (both on the grid, lo ≤ hi). */
export function countGridPrices(lo: number, hi: number): number {
  const smallEnd = Math.min(hi, TICK_BREAK - SMALL_TICK);
  const small = lo <= smallEnd ? (smallEnd - lo) / SMALL_TICK + 1 : 0;
  const largeStart = Math.max(lo, TICK_BREAK);
  const large = largeStart <= hi ? (hi - largeStart) / LARGE_TICK + 1 : 0;
  return small + large;
}

/** The k-th (0-based) grid price from `lo` upward (lo on the grid). */
export function nthGridPrice(lo: number, k: number): number {
  if (lo >= TICK_BREAK) return lo + k * LARGE_TICK;
  const small = (TICK_BREAK - lo) / SMALL_TICK; // grid prices below 3.00 from lo
  return k < small ? lo + k * SMALL_TICK : TICK_BREAK + (k - small) * LARGE_TICK;
}
