/**
 * Property tests of the engine contract (DESIGN §2.2, §2.4, §2.5, §3): admission is a
 * last-writer-wins register per leg, output is deterministic and per-strategy independent, and the
 * published tiles are a function of the staged marks.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectStrategies, type EngineConfig } from '../src/engine/config.js';
import { Engine } from '../src/engine/engine.js';
import { outputBytes } from '../src/engine/output-lines.js';
import { IntList } from '../src/engine/columns.js';
import { makeTileDef, slotScoreMaker } from '../src/engine/strategy.js';
import { resolveStrategies } from '../src/strategies/index.js';
import type { EngineInput, Fact, LegFact, OptionContract, TileDef, VersionRecord } from '../src/engine/types.js';
import {
  MS,
  SEC,
  T0,
  contract,
  factsInput,
  makeConfig,
  priceAll,
  round,
  run,
  snapshotPage,
  spot,
  strip,
  trade,
} from './helpers/engine-fixtures.js';

const STRIKES = [5880, 5890, 5900, 5910, 5920];
const CHAIN = strip(STRIKES);
const OPEN: EngineInput[] = [factsInput(T0, spot(5900, T0)), snapshotPage(T0 + 123, priceAll(CHAIN))];

// ---------------------------------------------------------------------------------------------
// Generators

interface RawFact {
  readonly ci: number;
  readonly e: number;
  readonly s: number;
  readonly p: number;
}

/** A leg fact over the chain at event T0 + e ms, seq s, price p × 0.05. */
function legFact(f: RawFact, quoteSpread?: number): LegFact {
  const c = CHAIN[f.ci]!;
  const price = f.p * 0.05;
  const event_us = T0 + f.e * MS;
  if (quoteSpread === undefined) return { kind: 'leg', contract: c, price, event_us, seq: f.s, source: 'ws' };
  const bid = Math.max(0.05, price - quoteSpread * 0.05);
  const ask = price + quoteSpread * 0.05;
  return { kind: 'leg', contract: c, price: (bid + ask) / 2, event_us, seq: 0, source: 'ws_quote', bid, ask };
}

const rawFact = (maxE: number, maxS: number) =>
  fc.record({
    ci: fc.integer({ min: 0, max: CHAIN.length - 1 }),
    e: fc.integer({ min: 0, max: maxE }),
    s: fc.integer({ min: 0, max: maxS }),
    p: fc.integer({ min: 1, max: 600 }),
  });

/** Facts with distinct (ticker, event_us, seq), together with a permutation of them. */
const distinctFactsAndPermutation = fc
  .uniqueArray(rawFact(60, 3), { minLength: 1, maxLength: 40, selector: (f) => `${f.ci}|${f.e}|${f.s}` })
  .chain((facts) => fc.tuple(fc.constant(facts), fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length })));

/** Feeds facts one per input, receive times 1 ms apart after the open. */
function feedOneByOne(engine: Engine, facts: readonly Fact[], after: (i: number) => void = () => undefined): void {
  facts.forEach((f, i) => {
    engine.push(factsInput(T0 + SEC + i * MS, f), () => undefined);
    after(i);
  });
}

function openEngine(config: EngineConfig = makeConfig()): Engine {
  return run(config, OPEN).engine;
}

/** One step of a random market script: a receive-time gap and a frame of facts. */
const stepArb = fc.record({
  dtMs: fc.integer({ min: 0, max: 700 }),
  dtUs: fc.integer({ min: 0, max: 999 }),
  facts: fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('trade' as const), raw: rawFact(3000, 3), spread: fc.constant(0) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('quote' as const), raw: rawFact(3000, 0), spread: fc.integer({ min: 1, max: 6 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('spot' as const), raw: rawFact(3000, 3), spread: fc.constant(0) }) },
    ),
    { minLength: 0, maxLength: 4 },
  ),
});

const publishArb = fc.record({
  min_changed: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }),
  min_changed_pct: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }),
  min_score_delta: fc.option(fc.double({ min: 0.01, max: 3, noNaN: true }), { nil: null }),
  max_interval_ms: fc.option(fc.integer({ min: 100, max: 3000 }), { nil: null }),
  min_interval_ms: fc.integer({ min: 0, max: 600 }),
});

const BWB = { name: 'bwb', right: 'C', legs: [{ ratio: 1, offset: -10 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 20 }] };

/** Turns generated steps into engine inputs: the open, then one facts input per step (event times around the step's receive time). */
type Step = typeof stepArb extends fc.Arbitrary<infer S> ? S : never;

function scriptInputs(steps: readonly Step[]): EngineInput[] {
  const inputs: EngineInput[] = [...OPEN];
  let recv = T0 + SEC;
  for (const step of steps) {
    recv += step.dtMs * MS + step.dtUs;
    const facts: Fact[] = step.facts.map((f) => {
      if (f.kind === 'spot') return spot(5880 + (f.raw.p % 40), T0 + f.raw.e * MS, f.raw.s);
      return legFact(f.raw, f.kind === 'quote' ? f.spread : undefined);
    });
    inputs.push(factsInput(recv, ...facts));
  }
  return inputs;
}

const scriptArb = fc.array(stepArb, { minLength: 1, maxLength: 25 }).map(scriptInputs);

function linesOf(versions: readonly VersionRecord[], strategy: string, lines: readonly string[]): string[] {
  return lines.filter((_, i) => versions[i]!.strategy === strategy);
}

const keyOf = (m: { event_us: number; seq: number } | undefined): [number, number] => (m ? [m.event_us, m.seq] : [-Infinity, -Infinity]);
const keyLess = (a: [number, number], b: [number, number]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

// ---------------------------------------------------------------------------------------------

describe('admission (DESIGN §2.2): one last-writer-wins register per leg', () => {
  it('(a) with distinct keys, the staged marks and staged tiles do not depend on arrival order', () => {
    fc.assert(
      fc.property(distinctFactsAndPermutation, ([facts, permuted]) => {
        const a = openEngine();
        const b = openEngine();
        feedOneByOne(a, facts.map((f) => legFact(f)));
        feedOneByOne(b, permuted.map((f) => legFact(f)));
        for (const [ci, c] of CHAIN.entries()) {
          // Independent model: the fact with the greatest (event_us, seq) key wins.
          const mine = facts.filter((f) => f.ci === ci);
          const expected = mine.reduce<RawFact | undefined>((best, f) => (!best || f.e > best.e || (f.e === best.e && f.s > best.s) ? f : best), undefined);
          const ma = a.marks.get(c.ticker);
          expect(ma).toEqual(b.marks.get(c.ticker));
          if (expected) expect([ma?.price, ma?.event_us, ma?.seq]).toEqual([expected.p * 0.05, T0 + expected.e * MS, expected.s]);
        }
        // Every change publishes (makeConfig is eager), so the canonical tiles carry the staged prices
        // (a newer fact at the same price changes nothing, so only ts_us may lag: DESIGN §2.5).
        // Independent statement of the tile rule: each leg shows its register's mark and the value
        // is Σ ratio × leg price, rounded to 6 decimals; both orders give the same prices and values.
        for (const name of ['single', 'vertical', 'fly']) {
          const tiles = a.canonicalTiles(name);
          expect(tiles.length).toBeGreaterThan(0);
          for (const t of tiles) {
            expect(t.legs.map((l) => l.price)).toEqual(t.legs.map((l) => a.marks.get(l.ticker)!.price));
            expect(t.value).toBe(round(t.legs.reduce((sum, l) => sum + l.ratio * l.price, 0), 6));
          }
          const priced = (ts: typeof tiles) => ts.map((t) => [t.key, t.value, t.score, ...t.legs.map((l) => l.price)]);
          expect(priced(tiles)).toEqual(priced(b.canonicalTiles(name)));
        }
      }),
    );
  });

  it('(a) also when the facts arrive batched in frames of random size', () => {
    fc.assert(
      fc.property(distinctFactsAndPermutation, fc.integer({ min: 1, max: 7 }), ([facts, permuted], batch) => {
        const a = openEngine();
        const b = openEngine();
        feedOneByOne(a, facts.map((f) => legFact(f)));
        const legs = permuted.map((f) => legFact(f));
        for (let i = 0; i < legs.length; i += batch) b.push(factsInput(T0 + SEC + i * MS, ...legs.slice(i, i + batch)), () => undefined);
        for (const c of CHAIN) expect(b.marks.get(c.ticker)).toEqual(a.marks.get(c.ticker));
      }),
    );
  });

  it('(b) a leg never regresses: its key never decreases, and it changes only to a strictly newer key', () => {
    fc.assert(
      fc.property(fc.array(rawFact(20, 2), { minLength: 1, maxLength: 60 }), (raw) => {
        const engine = openEngine();
        let prev = CHAIN.map((c) => engine.marks.get(c.ticker));
        feedOneByOne(engine, raw.map((f) => legFact(f)), () => {
          const now = CHAIN.map((c) => engine.marks.get(c.ticker));
          now.forEach((m, j) => {
            const before = prev[j];
            expect(keyLess(keyOf(m), keyOf(before))).toBe(false);
            // (marks are read as new objects each time: a change is a change of content)
            if (!isDeepStrictEqual(m, before)) expect(keyLess(keyOf(before), keyOf(m))).toBe(true);
          });
          prev = now;
        });
      }),
    );
  });

  it('(c) between equal keys the first admitted wins', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ ci: fc.integer({ min: 0, max: 2 }), e: fc.integer({ min: 0, max: 2 }), s: fc.integer({ min: 0, max: 1 }) }), { minLength: 1, maxLength: 30 }), (keys) => {
        // Every fact gets its own price, so we can tell which one won.
        const raw: RawFact[] = keys.map((k, i) => ({ ...k, p: i + 1 }));
        const engine = openEngine();
        feedOneByOne(engine, raw.map((f) => legFact(f)));
        for (const ci of [0, 1, 2]) {
          const mine = raw.filter((f) => f.ci === ci);
          if (mine.length === 0) continue;
          const maxE = Math.max(...mine.map((f) => f.e));
          const maxS = Math.max(...mine.filter((f) => f.e === maxE).map((f) => f.s));
          const winner = mine.find((f) => f.e === maxE && f.s === maxS)!;
          expect(engine.marks.get(CHAIN[ci]!.ticker)?.price).toBe(winner.p * 0.05);
        }
        const admittedAfterOpen = engine.summary().facts.legs.admitted - CHAIN.length;
        const discarded = engine.summary().facts.legs.discarded;
        expect(admittedAfterOpen + discarded).toBe(raw.length);
      }),
    );
  });
});

describe('determinism and independence (DESIGN §2.4, §3)', () => {
  it('(d) two engines fed the same inputs emit identical version lines and final hashes', () => {
    fc.assert(
      fc.property(scriptArb, publishArb, (inputs, publish) => {
        const config = makeConfig({ publish, custom: [BWB] });
        const a = run(config, inputs);
        const b = run(config, inputs);
        expect(a.lines.length).toBeGreaterThan(0);
        expect(b.lines).toEqual(a.lines);
        const hashes = (r: typeof a) => Object.fromEntries(Object.entries(r.engine.summary().strategies).map(([k, v]) => [k, v.final_hash]));
        expect(hashes(b)).toEqual(hashes(a));
      }),
      { numRuns: 60 },
    );
  });

  it('(e) a strategy emits byte-identical lines alone and beside the others', () => {
    fc.assert(
      fc.property(scriptArb, publishArb, fc.constantFrom('single', 'vertical', 'fly', 'bwb'), fc.constantFrom(7, 100), (inputs, publish, name, tick_ms) => {
        const config = makeConfig({ publish, custom: [BWB], tick_ms });
        const together = run(config, inputs);
        const alone = run(selectStrategies(config, [name]), inputs);
        expect(alone.versions.every((v) => v.strategy === name)).toBe(true);
        expect(alone.lines).toEqual(linesOf(together.versions, name, together.lines));
      }),
      { numRuns: 80 },
    );
  });

  it('(e) two strategies with different cadences do not change each other (fly alone vs fly beside a throttled vertical)', () => {
    fc.assert(
      fc.property(scriptArb, publishArb, publishArb, (inputs, flyPublish, otherPublish) => {
        const base = makeConfig({ publish: otherPublish });
        const config: EngineConfig = { ...base, strategies: { ...base.strategies, fly: { enabled: true, publish: makeConfig({ publish: flyPublish }).strategies.fly.publish } } };
        const together = run(config, inputs);
        const alone = run(selectStrategies(config, ['fly']), inputs);
        expect(alone.lines).toEqual(linesOf(together.versions, 'fly', together.lines));
      }),
      { numRuns: 80 },
    );
  });

  it('(g) quiet inputs at every tick do not change the versions (ticks are skipped only when nothing can fire)', () => {
    fc.assert(
      fc.property(scriptArb, publishArb, fc.constantFrom(7, 10, 100, 250), (inputs, publish, tick_ms) => {
        const config = makeConfig({ publish, tick_ms });
        const tickUs = config.tick_ms * MS;
        const plain = run(config, inputs);
        // Interleave an empty frame at every tick multiple from the first input to the last.
        const first = inputs[0]!.recv_us;
        const last = inputs[inputs.length - 1]!.recv_us;
        const dense: EngineInput[] = [];
        let i = 0;
        for (let t = Math.ceil(first / tickUs) * tickUs; t <= last + 5 * SEC; t += tickUs) {
          while (i < inputs.length && inputs[i]!.recv_us <= t) dense.push(inputs[i++]!);
          dense.push(factsInput(t));
        }
        while (i < inputs.length) dense.push(inputs[i++]!);
        const withTicks = run(config, dense);
        const end = last + 5 * SEC;
        const sparse = run(config, [...inputs, factsInput(end)]);
        expect(plain.lines).toEqual(sparse.lines.filter((l) => (JSON.parse(l) as VersionRecord).at_us <= last));
        expect(withTicks.lines).toEqual(sparse.lines);
      }),
      { numRuns: 60 },
    );
  });
});

describe('when tiles are recomputed (ARCHITECTURE.md, "Performance")', () => {
  it('(h) recomputing lazily, when the publisher reads (pure built-ins), publishes exactly what recomputing on every fact does', () => {
    fc.assert(
      fc.property(scriptArb, publishArb, fc.boolean(), fc.constantFrom(7, 100), fc.constantFrom<1 | 2>(1, 2), (inputs, publish, scoreDelta, tick_ms, format) => {
        // without min_score_delta the built-ins recompute lazily; with it, every fact (Σ|Δscore| order)
        const config = makeConfig({ publish: { ...publish, min_score_delta: scoreDelta ? publish.min_score_delta : null }, custom: [BWB], tick_ms });
        const lazy = new Engine({ config, underlying: 'I:SPX', strategies: resolveStrategies(config), format });
        // the same strategies with a score that is not declared pure: recomputed on every fact
        const eagerStrategies = resolveStrategies(config).map((st) => ({ ...st, score: (d: TileDef, v: number, sp: number | undefined) => st.score(d, v, sp) }));
        const eager = new Engine({ config, underlying: 'I:SPX', strategies: eagerStrategies, format });
        const a = run(config, inputs, lazy);
        const b = run(config, inputs, eager);
        expect(a.outputs.map((o) => outputBytes(o).toString())).toEqual(b.outputs.map((o) => outputBytes(o).toString()));
        expect(a.engine.summary()).toEqual(b.engine.summary());
        for (const name of ['single', 'vertical', 'fly', 'bwb']) expect(a.engine.canonicalTiles(name)).toEqual(b.engine.canonicalTiles(name));
        expect(a.versions.map((v) => v.upserts)).toEqual(b.versions.map((v) => v.upserts));
      }),
      { numRuns: 120 },
    );
  });
});

describe('lines only (EngineOptions.linesOnly)', () => {
  it('(j) reusing the upsert rows changes no line, and a version read as it is emitted has the same upserts', () => {
    fc.assert(
      fc.property(scriptArb, publishArb, fc.constantFrom<1 | 2>(1, 2), (inputs, publish, format) => {
        const config = makeConfig({ publish, custom: [BWB] });
        const kept = run(config, inputs, new Engine({ config, underlying: 'I:SPX', strategies: resolveStrategies(config), format }));
        const engine = new Engine({ config, underlying: 'I:SPX', strategies: resolveStrategies(config), format, linesOnly: true });
        const lines: string[] = [];
        const upserts: unknown[] = [];
        for (const input of inputs) {
          engine.push(input, (o) => {
            lines.push(outputBytes(o).toString());
            if (o.type === 'version') upserts.push(o.upserts);
          });
        }
        expect(lines).toEqual(kept.outputs.map((o) => outputBytes(o).toString()));
        expect(upserts).toEqual(kept.versions.map((v) => v.upserts));
        expect(engine.summary()).toEqual(kept.engine.summary());
      }),
      { numRuns: 60 },
    );
  });

  it('(j) a version whose rows the next one reused says so instead of giving wrong tiles', () => {
    const config = makeConfig({ publish: { min_interval_ms: 0, min_changed_pct: null, min_changed: 1 } });
    const engine = new Engine({ config, underlying: 'I:SPX', strategies: resolveStrategies(config), format: 2, linesOnly: true });
    const versions: VersionRecord[] = [];
    const inputs = [...OPEN, factsInput(T0 + SEC, trade(contract(5900), 12.5, T0 + SEC)), factsInput(T0 + 2 * SEC, trade(contract(5900), 13, T0 + 2 * SEC))];
    for (const input of inputs) engine.push(input, (o) => o.type === 'version' && o.strategy === 'fly' && versions.push(o));
    expect(versions.length).toBeGreaterThanOrEqual(2);
    expect(versions.at(-1)!.upserts.length).toBeGreaterThan(0); // the newest is still readable
    expect(() => versions[0]!.upserts).toThrow(/upserts of version 1 of "fly" are gone: the engine runs with linesOnly/);
  });
});

describe('slot scores (declarePure)', () => {
  const strategies = resolveStrategies(makeConfig({}));
  it('(i) the built-ins are all here', () => expect(strategies.map((s) => s.name)).toEqual(['single', 'vertical', 'fly']));
  it('(i) each built-in scores a slot exactly as its score function scores the tile', () => {
    const tile = fc
      .tuple(fc.constantFrom<'C' | 'P'>('C', 'P'), fc.integer({ min: 1, max: 8000 }), fc.integer({ min: 1, max: 200 }))
      .map(([right, k, w]) => {
        const legs = [k, k + w, k + 2 * w].map((strike) => ({ contract: contract(strike / 4, right), ratio: 1 }));
        return makeTileDef('t', 'SPX', '2025-11-21', right, legs);
      });
    const value = fc.oneof(fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.integer({ min: -500, max: 500 }).map((n) => n / 100));
    const spotValue = fc.option(fc.oneof(fc.double({ min: -10, max: 10_000, noNaN: true }), fc.constant(0)), { nil: undefined });
    fc.assert(
      fc.property(fc.array(tile, { minLength: 1, maxLength: 20 }), fc.array(fc.tuple(fc.nat(), value, spotValue), { maxLength: 30 }), (defs, calls) => {
        for (const strategy of strategies) {
          const bySlot = slotScoreMaker(strategy)!(defs);
          const io = new Float64Array(5);
          for (const [i, v, sp] of calls) {
            const s = i % defs.length;
            io[2] = v;
            io[3] = 12345; // overwritten
            bySlot(s, io, 2, sp);
            // NaN stands for null
            expect(Object.is(io[3], strategy.score(defs[s]!, v, sp) ?? NaN)).toBe(true);
            expect([io[0], io[1], io[2], io[4]]).toEqual([0, 0, v, 0]); // nothing else written
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('(i) a copy of a strategy with another score has no slot score, a renamed copy keeps it', () => {
    for (const strategy of strategies) {
      expect(slotScoreMaker(strategy)).toBeDefined();
      expect(slotScoreMaker({ ...strategy, score: () => 1 })).toBeUndefined();
      expect(slotScoreMaker({ ...strategy, name: 'renamed' })).toBe(slotScoreMaker(strategy));
    }
  });
});

describe('published tiles are a function of the staged marks (DESIGN §2.3)', () => {
  /** Strikes sorted ascending, w from the tile's own definition. */
  function expectedTiles(engine: Engine, strategy: 'fly' | 'vertical'): Map<string, { value: number; score: number; ts: number; conf: number }> {
    const out = new Map<string, { value: number; score: number; ts: number; conf: number }>();
    const width = 10;
    for (const right of ['C', 'P'] as const) {
      for (const k of STRIKES) {
        let legs: Array<[OptionContract, number]>;
        let strikes: number[];
        if (strategy === 'fly') {
          if (!STRIKES.includes(k - width) || !STRIKES.includes(k + width)) continue;
          strikes = [k - width, k, k + width];
          legs = [[contract(k - width, right), 1], [contract(k, right), -2], [contract(k + width, right), 1]];
        } else {
          // call: +K −(K+w); put: +K −(K−w). Legs listed ascending by strike.
          const other = right === 'C' ? k + width : k - width;
          if (!STRIKES.includes(other)) continue;
          strikes = [Math.min(k, other), Math.max(k, other)];
          legs = right === 'C' ? [[contract(k, right), 1], [contract(other, right), -1]] : [[contract(other, right), -1], [contract(k, right), 1]];
        }
        let value = 0;
        let ts = -1;
        let oldest = Infinity;
        let conf = 1;
        for (const [c, ratio] of legs) {
          const m = engine.marks.get(c.ticker)!;
          value += ratio * m.price;
          ts = Math.max(ts, m.event_us);
          oldest = Math.min(oldest, m.event_us);
          if (m.bid !== undefined && m.ask !== undefined) conf = Math.min(conf, 1 - (m.ask - m.bid) / (m.ask + m.bid));
        }
        // The legs' time skew: free up to 1 s, then −1/75 per second, floor 0.2 (README, confidence).
        const skew = ts - oldest;
        if (skew > SEC) conf *= Math.max(0.2, 1 - (skew - SEC) / (75 * SEC));
        const v = round(value, 6);
        out.set(`SPXW:2025-11-21:${strategy}:${right}:${strikes.join('/')}`, { value: v, score: round(v / width, 6), ts, conf: round(conf, 4) });
      }
    }
    return out;
  }

  it('(f) after a long quiet spell, the canonical fly and vertical tiles equal what the final marks give', () => {
    fc.assert(
      fc.property(scriptArb, publishArb, (inputs, publish) => {
        const config = makeConfig({ publish: { ...publish, max_interval_ms: publish.max_interval_ms ?? 1000 } });
        const last = inputs[inputs.length - 1]!.recv_us;
        const { engine } = run(config, [...inputs, factsInput(last + 60 * SEC)]);
        for (const strategy of ['fly', 'vertical'] as const) {
          expect(engine.summary().strategies[strategy]?.pending).toBe(0);
          const expected = expectedTiles(engine, strategy);
          const tiles = engine.canonicalTiles(strategy);
          expect(tiles.map((t) => t.key).sort()).toEqual([...expected.keys()].sort());
          for (const t of tiles) {
            const e = expected.get(t.key)!;
            expect({ key: t.key, value: t.value, score: t.score, confidence: t.confidence }).toEqual({
              key: t.key,
              value: e.value,
              score: e.score,
              confidence: e.conf,
            });
            for (const leg of t.legs) expect(leg.price).toBe(engine.marks.get(leg.ticker)!.price);
            // A newer fact at the same price is not a change, so the published ts_us may lag the marks,
            // but it is always the newest of the published legs and never ahead of the marks.
            expect(t.ts_us).toBe(Math.max(...t.legs.map((l) => l.ts_us)));
            expect(t.ts_us).toBeLessThanOrEqual(e.ts);
          }
        }
      }),
      { numRuns: 80 },
    );
  });
});

describe('IntList (staging’s reused slot lists)', () => {
  it('behaves as an array emptied by clear, across growth and refills', () => {
    const op = fc.oneof(fc.nat({ max: 1_000_000 }).map((x) => ({ push: x })), fc.constant({ clear: true as const }));
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 30, arbitrary: op.filter((o) => 'push' in o) }, { weight: 1, arbitrary: op }), { maxLength: 400, size: 'max' }), (ops) => {
        const list = new IntList();
        let model: number[] = [];
        for (const o of ops) {
          if ('push' in o) {
            list.push(o.push);
            model.push(o.push);
          } else {
            list.clear();
            model = [];
          }
          expect(list.length).toBe(model.length);
        }
        expect(Array.from({ length: list.length }, (_, i) => list.at(i))).toEqual(model);
      }),
    );
  });
});
