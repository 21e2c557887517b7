/**
 * Property: every price the simulator quotes or prints on its own sits on the SPX/SPXW options grid
 * (Cboe: 0.05 below 3.00, 0.10 from 3.00 up) — snapshot bids and asks, WS quote bids and asks,
 * single-leg trades, the previous close — whatever the seed and market; legs of spreads and flies
 * (condition 232) print in whole cents inside their own quote. The grid rule is restated here from
 * the exchange's specification, not imported from the code under test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSim } from '../src/sim/generate.js';
import { buildMarket, findContract, quoteAt } from '../src/sim/market.js';
import { simParams, type SimParams } from '../src/sim/params.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** On the grid: a whole number of cents, a multiple of 5 below 3.00 and of 10 from 3.00 up. */
function isOnGrid(price: number): boolean {
  const cents = Math.round(price * 100);
  if (Math.abs(cents - price * 100) > 1e-6) return false;
  return cents % (cents < 300 ? 5 : 10) === 0;
}

async function linesOf(params: SimParams): Promise<{ chain: string[]; options: string[] }> {
  const out = { chain: [] as string[], options: [] as string[] };
  await generateSim(params, {
    writeLine(stream, line) {
      if (stream === 'chain' || stream === 'options') out[stream].push(line);
    },
  });
  return out;
}

describe('the tick grid', () => {
  it('knows the rule (hand-checked prices)', () => {
    for (const p of [0.05, 0.1, 2.95, 3, 3.1, 12.4, 250.3]) expect(isOnGrid(p), String(p)).toBe(true);
    for (const p of [0.01, 0.07, 2.99, 3.05, 12.45, 199.4965]) expect(isOnGrid(p), String(p)).toBe(false);
  });

  it('holds for every simulated bid, ask and single-leg print; complex legs print in cents inside the quote', async () => {
    const arb = fc.record({
      seed: fc.integer({ min: 0, max: 1_000_000 }),
      spot: fc.integer({ min: 4000, max: 7000 }),
      vol: fc.double({ min: 0.08, max: 0.6, noNaN: true }),
      startMin: fc.integer({ min: 0, max: 380 }), // minutes after 09:30 ET: late sessions price near expiry
      quotes: fc.integer({ min: 0, max: 40 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (a) => {
        const params = simParams({
          seed: a.seed,
          spot: a.spot,
          vol: a.vol,
          start_us: Date.parse('2025-11-21T14:30:00Z') * 1000 + a.startMin * 60_000_000,
          duration_ms: 15_000,
          snapshot_every_ms: 10_000,
          chain_range: 150,
          quotes: a.quotes,
        });
        const market = buildMarket(params);
        const { chain, options } = await linesOf(params);
        let quotesSeen = 0;
        let singles = 0;
        let legs = 0;
        for (const text of chain) {
          for (const r of (JSON.parse(text) as Json).body.results) {
            const q = r.last_quote;
            expect(isOnGrid(q.ask), `${r.details.ticker} ask ${q.ask}`).toBe(true);
            if (q.bid !== 0) expect(isOnGrid(q.bid), `${r.details.ticker} bid ${q.bid}`).toBe(true);
            expect(isOnGrid(r.day.previous_close), `${r.details.ticker} previous close ${r.day.previous_close}`).toBe(true);
            if (r.last_trade.conditions[0] === 209) expect(isOnGrid(r.last_trade.price)).toBe(true);
          }
        }
        for (const text of options) {
          for (const ev of (JSON.parse(text) as Json).frame) {
            if (ev.ev === 'Q') {
              quotesSeen++;
              expect(isOnGrid(ev.ap), `${ev.sym} ap ${ev.ap}`).toBe(true);
              if (ev.bp !== 0) expect(isOnGrid(ev.bp), `${ev.sym} bp ${ev.bp}`).toBe(true);
              continue;
            }
            if (ev.c[0] === 209) {
              singles++;
              expect(isOnGrid(ev.p), `${ev.sym} single-leg print ${ev.p}`).toBe(true);
            } else {
              legs++;
              expect(ev.c).toEqual([232]);
              const q = quoteAt(market, findContract(market, ev.sym)!, ev.t * 1000);
              expect(Math.round(ev.p * 100)).toBeCloseTo(ev.p * 100, 6);
              expect(ev.p).toBeGreaterThanOrEqual(Math.max(0.01, q.bid));
              expect(ev.p).toBeLessThanOrEqual(q.ask);
            }
          }
        }
        expect(quotesSeen > 0).toBe(a.quotes > 0);
        expect(singles).toBeGreaterThan(0);
        expect(legs).toBeGreaterThan(0);
      }),
      { numRuns: 12, seed: 17 },
    );
  });
});
