import type { LegMark } from './marks.js';

/**
 * A tile's confidence (0..1) is a function of its legs' facts: the lowest leg confidence (1 for a
 * trade, 1 − (ask − bid)/(ask + bid) for a quote mid) times a factor for the legs' time skew.
 */

/** Leg time skew (newest leg − oldest leg) that costs a tile no confidence: legs within a second. */
export const SKEW_FREE_US = 1_000_000;
/** Beyond it, a tile's confidence loses 1/75 for every second of skew… */
export const SKEW_DECAY_US = 75_000_000;
/** …down to this floor, which it reaches at 61 s of skew. */
export const SKEW_FLOOR = 0.2;

/**
 * The factor by which the legs' time skew (µs) scales a tile's confidence: 1 up to 1 s, then
 * `1 − (skew − 1 s) / 75 s`, never below 0.2. Why: a structure priced from legs that printed
 * seconds or minutes apart mixes different markets (a fly from such legs can even be negative),
 * however good each leg's own price is. A single-leg tile has no skew.
 */
export function skewFactor(skewUs: number): number {
  if (skewUs <= SKEW_FREE_US) return 1;
  return Math.max(SKEW_FLOOR, 1 - (skewUs - SKEW_FREE_US) / SKEW_DECAY_US);
}

/** Confidence of one leg: 1 for trades, 1 − (ask − bid)/(ask + bid) for quote mids. */
export function legConfidence(m: Pick<LegMark, 'bid' | 'ask'>): number {
  if (m.bid === undefined || m.ask === undefined) return 1;
  const sum = m.ask + m.bid;
  if (sum <= 0) return 0;
  return Math.min(1, Math.max(0, 1 - (m.ask - m.bid) / sum));
}
