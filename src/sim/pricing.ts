/**
 * Black–Scholes–Merton for European options with a continuous rate `r` and dividend yield `q`.
 * Index options (SPX, NDX, RUT) are European and cash-settled, so this is the right model for a
 * synthetic chain. Time is in years; prices in index points.
 */
import type { Right } from '../engine/types.js';

const INV_SQRT_2PI = 0.3989422804014327;

/**
 * Standard normal CDF, Hart's double-precision algorithm (Hart 1968, as given by G. West,
 * "Better approximations to cumulative normal functions", 2005): absolute error ~1e-15 and,
 * unlike `1 - erf`-style formulas, good *relative* accuracy far in the tails — which matters here,
 * because deep out-of-the-money prices are differences of tiny CDF values and a butterfly of them
 * must stay ≥ 0.
 */
export function normCdf(x: number): number {
  const ax = Math.abs(x);
  let c: number;
  if (ax > 37) {
    c = 0;
  } else {
    const e = Math.exp((-ax * ax) / 2);
    if (ax < 7.07106781186547) {
      let n = 3.52624965998911e-2 * ax + 0.700383064443688;
      n = n * ax + 6.37396220353165;
      n = n * ax + 33.912866078383;
      n = n * ax + 112.079291497871;
      n = n * ax + 221.213596169931;
      n = n * ax + 220.206867912376;
      let d = 8.83883476483184e-2 * ax + 1.75566716318264;
      d = d * ax + 16.064177579207;
      d = d * ax + 86.7807322029461;
      d = d * ax + 296.564248779674;
      d = d * ax + 637.333633378831;
      d = d * ax + 793.826512519948;
      d = d * ax + 440.413735824752;
      c = (e * n) / d;
    } else {
      let b = ax + 0.65;
      b = ax + 4 / b;
      b = ax + 3 / b;
      b = ax + 2 / b;
      b = ax + 1 / b;
      c = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

/** Standard normal density. */
export function normPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp((-x * x) / 2);
}

/** Inputs of one Black–Scholes valuation. */
export interface BsInputs {
  readonly right: Right;
  /** Spot. */
  readonly S: number;
  /** Strike. */
  readonly K: number;
  /** Time to expiry in years (≤ 0 means expired: intrinsic value). */
  readonly T: number;
  /** Continuously compounded risk-free rate. */
  readonly r: number;
  /** Continuous dividend yield. */
  readonly q: number;
  /** Volatility (annualised, decimal). */
  readonly sigma: number;
}

/** The option's value. Expired (T ≤ 0) or zero-vol options are worth their (forward) intrinsic value. */
export function bsPrice(i: BsInputs): number {
  const { S, K, T, r, q, sigma } = i;
  if (!(T > 0) || !(sigma > 0)) {
    const t = T > 0 ? T : 0;
    const fwd = S * Math.exp(-q * t);
    const pv = K * Math.exp(-r * t);
    return Math.max(0, i.right === 'C' ? fwd - pv : pv - fwd);
  }
  const sd = sigma * Math.sqrt(T);
  const df = Math.exp(-r * T);
  const F = S * Math.exp((r - q) * T);
  const d1 = (Math.log(F / K) + (sd * sd) / 2) / sd;
  const d2 = d1 - sd;
  // Each right from its own formula (not parity): the OTM side stays a difference of small
  // numbers with full relative precision instead of a large number minus a large number.
  const v = i.right === 'C' ? df * (F * normCdf(d1) - K * normCdf(d2)) : df * (K * normCdf(-d2) - F * normCdf(-d1));
  return v > 0 ? v : 0;
}

/** Sensitivities as Massive reports them: no rho. */
export interface Greeks {
  readonly delta: number;
  readonly gamma: number;
  /** Value change per trading day (the simulator's clock counts 252 trading days a year). */
  readonly theta: number;
  /** Value change per 1 vol point (0.01). */
  readonly vega: number;
}

/** Analytic Black–Scholes–Merton greeks; all zero for an expired option except delta (0 or ±1). */
export function bsGreeks(i: BsInputs): Greeks {
  const { S, K, T, r, q, sigma } = i;
  const isCall = i.right === 'C';
  if (!(T > 0) || !(sigma > 0)) {
    const itm = isCall ? S > K : S < K;
    return { delta: itm ? (isCall ? 1 : -1) : 0, gamma: 0, theta: 0, vega: 0 };
  }
  const sqrtT = Math.sqrt(T);
  const sd = sigma * sqrtT;
  const dq = Math.exp(-q * T);
  const dr = Math.exp(-r * T);
  const d1 = (Math.log(S / K) + (r - q + (sigma * sigma) / 2) * T) / sd;
  const d2 = d1 - sd;
  const pdf = normPdf(d1);
  const gamma = (dq * pdf) / (S * sd);
  const vega = (S * dq * pdf * sqrtT) / 100;
  const decay = (-S * dq * pdf * sigma) / (2 * sqrtT);
  if (isCall) {
    const theta = decay - r * K * dr * normCdf(d2) + q * S * dq * normCdf(d1);
    return { delta: dq * normCdf(d1), gamma, theta: theta / 252, vega };
  }
  const theta = decay + r * K * dr * normCdf(-d2) - q * S * dq * normCdf(-d1);
  return { delta: -dq * normCdf(-d1), gamma, theta: theta / 252, vega };
}
