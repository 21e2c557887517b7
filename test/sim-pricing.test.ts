import { describe, expect, it } from 'vitest';
import { bsGreeks, bsPrice, normCdf, type BsInputs } from '../src/sim/pricing.js';
import { CELL_US, buildMarket, cellOf, impliedVol, quoteAt, type SimMarket } from '../src/sim/market.js';
import { simParams } from '../src/sim/params.js';
import { PRICE_UNITS, fairUnitsInCell, spreadAround, stripInputs } from '../src/sim/quotes.js';

describe('normCdf', () => {
  it('matches reference values, with relative accuracy in the far tail', () => {
    expect(normCdf(0)).toBe(0.5);
    expect(normCdf(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(normCdf(-1.96)).toBeCloseTo(0.024997895148220435, 14);
    expect(normCdf(-5) / 2.866515718791939e-7).toBeCloseTo(1, 9);
    expect(normCdf(-10) / 7.619853024160527e-24).toBeCloseTo(1, 8);
    expect(normCdf(40)).toBe(1);
    expect(normCdf(-40)).toBe(0);
  });

  it('is symmetric: N(x) + N(-x) = 1', () => {
    for (const x of [0.1, 0.7, 1.3, 2.5, 4, 6.9, 7.2]) expect(normCdf(x) + normCdf(-x)).toBeCloseTo(1, 14);
  });
});

describe('bsPrice / bsGreeks', () => {
  const base: BsInputs = { right: 'C', S: 100, K: 100, T: 1, r: 0.05, q: 0, sigma: 0.2 };

  it('prices the textbook case and satisfies put–call parity', () => {
    expect(bsPrice(base)).toBeCloseTo(10.450583572185565, 10);
    expect(bsPrice({ ...base, right: 'P' })).toBeCloseTo(5.573526022256971, 10);
    for (const K of [80, 95, 100, 117]) {
      const i = { ...base, K, q: 0.013, T: 0.3 };
      const parity = i.S * Math.exp(-i.q * i.T) - K * Math.exp(-i.r * i.T);
      expect(bsPrice(i) - bsPrice({ ...i, right: 'P' })).toBeCloseTo(parity, 10);
    }
  });

  it('is worth intrinsic value at or after expiry', () => {
    expect(bsPrice({ ...base, K: 90, T: 0 })).toBe(10);
    expect(bsPrice({ ...base, K: 90, T: -1, right: 'P' })).toBe(0);
    expect(bsGreeks({ ...base, K: 90, T: 0 }).delta).toBe(1);
  });

  it('has greeks that match finite differences', () => {
    const i = { ...base, q: 0.01, T: 0.25 };
    const h = 0.01;
    for (const right of ['C', 'P'] as const) {
      const g = bsGreeks({ ...i, right });
      const up = bsPrice({ ...i, right, S: i.S + h });
      const dn = bsPrice({ ...i, right, S: i.S - h });
      const mid = bsPrice({ ...i, right });
      expect(g.delta).toBeCloseTo((up - dn) / (2 * h), 6);
      expect(g.gamma).toBeCloseTo((up - 2 * mid + dn) / (h * h), 4);
      expect(g.vega).toBeCloseTo((bsPrice({ ...i, right, sigma: 0.21 }) - bsPrice({ ...i, right, sigma: 0.19 })) / 2, 4);
      const dt = 1 / 252;
      expect(g.theta).toBeCloseTo(bsPrice({ ...i, right, T: i.T - dt }) - mid, 3);
    }
  });
});

/** Cells spread over the session, including a late one with the spot moved by the path. */
function sampleCells(m: SimMarket): number[] {
  const last = m.spot.length - 1;
  return [-1, 0, 1, Math.floor(last / 3), Math.floor((2 * last) / 3), last];
}

describe('vol surface', () => {
  it('gives call prices convex and decreasing in strike for every expiry, over a fine strike grid', () => {
    // max_dte 20 also lists the AM-settled SPX monthly of 2025-12-19.
    const m = buildMarket(simParams({ max_dte: 20, duration_ms: 6.5 * 3600_000, chain_range: 600 }));
    expect(m.expiries.some((e) => e.root === 'SPX')).toBe(true);
    for (const g of sampleCells(m)) {
      for (const e of m.expiries) {
        const { S, T, F } = stripInputs(m, e, g);
        const prices: number[] = [];
        for (let K = S * 0.85; K <= S * 1.15; K += 1) {
          const sigma = impliedVol(m, K, F, T);
          prices.push(bsPrice({ right: 'C', S, K, T, r: m.params.rate, q: m.params.div_yield, sigma }));
        }
        let worstSlope = Infinity;
        let worstFly = Infinity;
        for (let i = 1; i + 1 < prices.length; i++) {
          worstSlope = Math.min(worstSlope, prices[i]! - prices[i + 1]!);
          worstFly = Math.min(worstFly, prices[i - 1]! - 2 * prices[i]! + prices[i + 1]!);
        }
        expect(worstSlope).toBeGreaterThanOrEqual(-1e-9);
        expect(worstFly).toBeGreaterThanOrEqual(-1e-9);
      }
    }
  });
});

describe('quoteAt', () => {
  const params = simParams({ max_dte: 20, duration_ms: 3 * 3600_000, jumps_per_hour: 20, seed: 5 });

  it('quotes every strip of a full chain arbitrage-free: monotone, convex, verticals within the width', () => {
    const m = buildMarket(params);
    const step = Math.round(params.strike_step * PRICE_UNITS);
    for (const g of sampleCells(m)) {
      for (const e of m.expiries) {
        for (const book of [e.calls, e.puts]) {
          const fair = Array.from(book, (ci) => fairUnitsInCell(m, m.contracts[ci]!, g));
          const isCall = book === e.calls;
          for (let i = 0; i + 1 < fair.length; i++) {
            const slope = fair[i + 1]! - fair[i]!;
            expect(Number.isInteger(fair[i])).toBe(true);
            expect(isCall ? -slope : slope).toBeGreaterThanOrEqual(0);
            expect(Math.abs(slope)).toBeLessThanOrEqual(step);
            if (i > 0) expect(fair[i - 1]! - 2 * fair[i]! + fair[i + 1]!).toBeGreaterThanOrEqual(0);
          }
        }
      }
    }
  });

  it('stays within a few ticks of Black–Scholes and puts the mid exactly on the fair value', () => {
    const m = buildMarket(params);
    const t = params.start_us + 3_600_000_000;
    let errSum = 0;
    for (const c of m.contracts) {
      const q = quoteAt(m, c, t);
      const { S, T, F } = stripInputs(m, c.expiry, cellOf(m, t));
      const sigma = impliedVol(m, c.strike, F, T);
      const bs = bsPrice({ right: c.right, S, K: c.strike, T, r: params.rate, q: params.div_yield, sigma });
      // Mids live on a 0.05 grid and must stay convex in strike, so where the curve bends slowly
      // (far out-of-the-money tails, deep in-the-money runs) a mid can stray a few ticks: 3 ticks,
      // plus 0.1 % of the price. On average they stay within half a tick (below).
      expect(Math.abs(q.fair - bs)).toBeLessThanOrEqual(0.15 + 0.001 * bs);
      errSum += Math.abs(q.fair - bs);
      expect(Math.round(q.fair * 100) % 5).toBe(0); // the mid grid: 0.05
      expect(q.ask).toBeGreaterThan(q.bid);
      expect(q.bid).toBeGreaterThanOrEqual(0);
      if (q.bid > 0) expect((q.bid + q.ask) / 2).toBeCloseTo(q.fair, 9);
    }
    expect(errSum / m.contracts.length).toBeLessThan(0.025);
  });

  it('spreads bid and ask around the mid on the tick grid: 0.05 below 3.00, 0.10 from 3.00 up', () => {
    // [fair, bid, ask] in units of 0.0001. The half-spread is the smallest multiple of 0.05 that is
    // ≥ max(0.05, 0.5 % of fair) and puts the ask on the grid.
    const cases: [number, number, number][] = [
      [0, 0, 500], // 0 ± 0.05: a bid below zero shows as 0
      [500, 0, 1000], // 0.05 ± 0.05: a zero bid
      [29_500, 29_000, 30_000], // 2.95 ± 0.05 → 2.90 / 3.00 (3.00 is on the 0.10 grid)
      [30_000, 29_000, 31_000], // 3.00 ± 0.05 would ask 3.05, off the 0.10 grid → ± 0.10
      [30_500, 30_000, 31_000], // 3.05 ± 0.05 → 3.00 / 3.10
      [100_000, 99_000, 101_000], // 10.00: 0.5 % = 0.05 → ask 10.05 is off the grid → ± 0.10
      [1_000_500, 995_000, 1_006_000], // 100.05: 0.5 % = 0.50025 → 0.55 → 99.50 / 100.60
    ];
    for (const [fair, bid, ask] of cases) expect(spreadAround(fair), String(fair)).toEqual({ fair, bid, ask });
  });

  it('is pure: the same answers in any query order, constant within a cell', () => {
    const a = buildMarket(params);
    const b = buildMarket(params);
    const t = params.start_us + 7_777_777;
    const forward = a.contracts.map((c) => quoteAt(a, c, t));
    const backward = [...b.contracts].reverse().map((c) => quoteAt(b, c, t)).reverse();
    expect(backward).toEqual(forward);
    const cellStart = params.start_us + cellOf(a, t) * CELL_US;
    const c = a.contracts[100]!;
    expect(quoteAt(a, c, cellStart)).toEqual(quoteAt(a, c, cellStart + CELL_US - 1));
    quoteAt(a, c, params.start_us); // evict the strip, then ask again
    expect(quoteAt(a, c, t)).toEqual(forward[100]);
  });
});
