/**
 * Worked examples of the engine contract (DESIGN §2, §3): small, fixed scenarios with the outcome
 * computed by hand.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { selectStrategies, validateConfig } from '../src/engine/config.js';
import { Engine } from '../src/engine/engine.js';
import { fly as flyStrategy } from '../src/strategies/fly.js';
import { single as singleStrategy } from '../src/strategies/single.js';
import { versionLine } from '../src/engine/publisher.js';
import type { EngineInput, OptionContract, PublishedTile, VersionRecord } from '../src/engine/types.js';
import { parseOptionTicker } from '../src/massive/ticker.js';
import { vertical } from '../src/strategies/vertical.js';
import {
  EXP,
  MS,
  SEC,
  T0,
  chainPage,
  collect,
  contract,
  factsInput,
  gapInput,
  lastUpsert,
  makeConfig,
  priceAll,
  pushOne,
  quote,
  recomputeHash,
  run,
  snapshotPage,
  spot,
  strip,
  tileByKey,
  trade,
  versionsOf,
} from './helpers/engine-fixtures.js';

const STRIKES = [5880, 5890, 5900, 5910, 5920];
const CHAIN = strip(STRIKES);
const C = (k: number) => contract(k, 'C');
const P = (k: number) => contract(k, 'P');
/** Receive time of the opening snapshot: deliberately not on a tick. */
const OPEN_AT = T0 + 123;
const OPEN: EngineInput[] = [factsInput(T0, spot(5900, T0)), snapshotPage(OPEN_AT, priceAll(CHAIN))];

const fly = (right: 'C' | 'P', k: number, w = 10) => `SPXW:${EXP}:fly:${right}:${k - w}/${k}/${k + w}`;
const single = (right: 'C' | 'P', k: number) => `SPXW:${EXP}:single:${right}:${k}`;

describe('admission worked examples (DESIGN §2.2)', () => {
  it('REST/WS race: a snapshot quote older than a WS trade never rolls the leg back; a newer one does', () => {
    const engine = run(makeConfig(), OPEN).engine;
    const c = C(5900);
    const out: ReturnType<typeof pushOne> = [];
    out.push(...pushOne(engine, factsInput(T0 + 5 * SEC + 2 * MS, trade(c, 10, T0 + 5 * SEC, 17))));
    expect(engine.marks.get(c.ticker)).toEqual({ price: 10, source: 'ws', event_us: T0 + 5 * SEC, seq: 17 }); // a trade: no bid/ask

    // Snapshot 2 arrives later but its quote was last updated at T0+3s: older than the trade.
    const stale = pushOne(engine, chainPage(T0 + 6 * SEC, CHAIN, [quote(c, 8.8, 9.2, T0 + 3 * SEC)], { snapshot: 2 }));
    expect(engine.marks.get(c.ticker)).toMatchObject({ price: 10, source: 'ws', event_us: T0 + 5 * SEC });
    expect(versionsOf(stale, 'single')).toEqual([]);
    out.push(...stale);

    // Snapshot 3's quote is from T0+7s: newer, so it supersedes the trade.
    out.push(...pushOne(engine, chainPage(T0 + 8 * SEC, CHAIN, [quote(c, 9.3, 9.7, T0 + 7 * SEC)], { snapshot: 3 })));
    expect(engine.marks.get(c.ticker)).toMatchObject({ price: 9.5, source: 'rest_quote', event_us: T0 + 7 * SEC, bid: 9.3, ask: 9.7 });

    const prices = versionsOf(out, 'single').flatMap((v) => v.upserts.filter((t) => t.key === single('C', 5900)).map((t) => t.legs[0]!.price));
    expect(prices).toEqual([10, 9.5]);
    const last = lastUpsert(versionsOf(out, 'single'), single('C', 5900))!;
    expect(last.source).toBe('rest_quote');
    expect(last.ts_us).toBe(T0 + 7 * SEC);
    // 1 − (9.7 − 9.3) / (9.7 + 9.3) = 1 − 0.4/19 = 0.978947… → 4 dp
    expect(last.confidence).toBe(0.9789);
  });

  it('out-of-order trades: the newest event wins, older arrivals are discarded and publish nothing', () => {
    const engine = run(makeConfig(), OPEN).engine;
    const c = C(5900);
    const before = engine.summary().facts.legs;
    const out = [
      ...pushOne(engine, factsInput(T0 + 4 * SEC, trade(c, 9.3, T0 + 3 * SEC))),
      ...pushOne(engine, factsInput(T0 + 4 * SEC + 10 * MS, trade(c, 9.1, T0 + 1 * SEC))),
      ...pushOne(engine, factsInput(T0 + 4 * SEC + 20 * MS, trade(c, 9.2, T0 + 2 * SEC))),
    ];
    expect(engine.marks.get(c.ticker)).toMatchObject({ price: 9.3, event_us: T0 + 3 * SEC });
    const after = engine.summary().facts.legs;
    expect(after.admitted - before.admitted).toBe(1);
    expect(after.discarded - before.discarded).toBe(2);
    expect(versionsOf(out, 'single').map((v) => v.at_us)).toEqual([T0 + 4 * SEC]);
  });

  it('equal event times are ordered by the sequence q; an equal key keeps the first', () => {
    const engine = run(makeConfig(), OPEN).engine;
    const c = C(5900);
    const e = T0 + 2 * SEC;
    const feed = (price: number, seq: number, i: number) => engine.push(factsInput(T0 + 3 * SEC + i * MS, trade(c, price, e, seq)), () => undefined);
    feed(9.5, 5, 0);
    feed(9.0, 3, 1); // older q: discarded
    expect(engine.marks.get(c.ticker)?.price).toBe(9.5);
    feed(9.7, 5, 2); // same (t, q): Rule C keeps the first
    expect(engine.marks.get(c.ticker)?.price).toBe(9.5);
    feed(9.9, 7, 3); // newer q at the same t: admitted
    expect(engine.marks.get(c.ticker)).toMatchObject({ price: 9.9, seq: 7, event_us: e });
  });

  it('spot is one register too (Rule C): an older or equal index value is discarded and does not re-score', () => {
    const engine = run(makeConfig(), OPEN).engine; // spot 5900 at T0
    const newer = pushOne(engine, factsInput(T0 + 2 * SEC, spot(5905, T0 + 2 * SEC)));
    expect(versionsOf(newer, 'single')).toHaveLength(1);
    // Arrives later but was stamped earlier than the admitted 5905: discarded, nothing re-scored.
    expect(pushOne(engine, factsInput(T0 + 3 * SEC, spot(5950, T0 + SEC)))).toEqual([]);
    // Same event time and sequence as the admitted one: the first admitted wins.
    expect(pushOne(engine, factsInput(T0 + 4 * SEC, spot(5960, T0 + 2 * SEC)))).toEqual([]);
    expect(engine.summary().facts.spot).toEqual({ admitted: 2, discarded: 2 });
    expect(engine.view.spot).toBe(5905);
    // A later trade is scored against 5905: (14.2 − 15) / 5905 × 1e4 = −1.3547840… with C5890 at 14.2.
    const c = C(5890);
    const out = pushOne(engine, factsInput(T0 + 5 * SEC, trade(c, 14.2, T0 + 5 * SEC - MS)));
    const tile = versionsOf(out, 'single')[0]?.upserts.find((t) => t.key === single('C', 5890));
    expect(tile?.score).toBe(-1.354784);
  });

  it('trades for a root no chain page lists are counted as leg_unknown_root (also when they came first)', () => {
    const ndx = contract(20000, 'C', 'NDXP');
    const engine = run(makeConfig(), [factsInput(T0 - SEC, trade(ndx, 50, T0 - SEC - MS)), ...OPEN]).engine;
    pushOne(engine, factsInput(T0 + SEC, trade(ndx, 51, T0 + SEC - MS), trade(C(5900), 9, T0 + SEC - MS)));
    expect(engine.summary().skipped['leg_unknown_root']).toBe(2);
    // SPXW is listed by the chain: its trades are not counted.
    expect(run(makeConfig(), [...OPEN, factsInput(T0 + SEC, trade(C(5900), 9, T0 + SEC - MS))]).engine.summary().skipped['leg_unknown_root']).toBeUndefined();
  });

  it('a WS trade that arrives before the first chain snapshot is kept and prices the tile once the topology exists', () => {
    const c = C(5900);
    const { versions } = run(makeConfig(), [
      factsInput(T0, spot(5900, T0)),
      factsInput(T0 + 200 * MS, trade(c, 9.9, T0 + 100 * MS, 4)),
      // The snapshot's own marks are older (T0+1s−1s = T0).
      snapshotPage(T0 + SEC, priceAll(CHAIN)),
    ]);
    const v1 = versionsOf(versions, 'single')[0]!;
    expect(v1.version).toBe(1);
    const t = tileByKey(v1.upserts, single('C', 5900));
    expect(t.legs[0]).toEqual({ ticker: c.ticker, ratio: 1, price: 9.9, ts_us: T0 + 100 * MS, source: 'ws' });
    expect(t.source).toBe('ws');
  });
});

describe('evaluation per input (DESIGN §2.5)', () => {
  const three = (recv: number) => [trade(C(5890), 17.5, recv - MS), trade(C(5900), 8.5, recv - MS), trade(C(5910), 6.5, recv - MS)];

  it('a batched frame (several trades in one input) is one evaluation: at most one version per strategy', () => {
    const engine = run(makeConfig(), OPEN).engine;
    const recv = T0 + 2 * SEC;
    const out = pushOne(engine, factsInput(recv, ...three(recv)));
    for (const s of ['single', 'vertical', 'fly']) expect(versionsOf(out, s)).toHaveLength(1);
    const singleV = versionsOf(out, 'single')[0]!;
    expect(singleV.upserts.map((t) => t.key)).toEqual([single('C', 5890), single('C', 5900), single('C', 5910)]);
    expect(singleV.stats.changed).toBe(3);
    // The fly sees all three new prices at once: 17.5 − 2×8.5 + 6.5 = 7.
    expect(tileByKey(versionsOf(out, 'fly')[0]!.upserts, fly('C', 5900)).value).toBe(7);
  });

  it('the same trades as separate inputs at the same receive time are separate evaluations', () => {
    const engine = run(makeConfig(), OPEN).engine;
    const recv = T0 + 2 * SEC;
    const out = three(recv).flatMap((f) => pushOne(engine, factsInput(recv, f)));
    expect(versionsOf(out, 'single')).toHaveLength(3);
  });
});

describe('a closed market publishes once, then stays quiet (DESIGN §2.5)', () => {
  const cfg = validateConfig({ topology: { expirations: [EXP] } }); // default publish settings

  it('one snapshot and three hours of unchanged spot: exactly one version per strategy', () => {
    const inputs: EngineInput[] = [factsInput(T0, spot(5900, T0)), snapshotPage(T0 + SEC, priceAll(CHAIN))];
    for (let m = 1; m <= 180; m++) inputs.push(factsInput(T0 + m * 60 * SEC, spot(5900, T0 + m * 60 * SEC)));
    const { versions, engine } = run(cfg, inputs);
    expect(versions.map((v) => [v.strategy, v.version])).toEqual([
      ['single', 1],
      ['vertical', 1],
      ['fly', 1],
    ]);
    expect(versions[0]!.reasons[0]).toBe('structural');
    for (const s of Object.values(engine.summary().strategies)) expect(s.pending).toBe(0);
  });

  it('newer trades at unchanged prices change nothing', () => {
    const prices = priceAll(CHAIN);
    const inputs: EngineInput[] = [factsInput(T0, spot(5900, T0)), snapshotPage(T0 + SEC, prices)];
    for (let m = 1; m <= 120; m++) {
      const t = T0 + m * 60 * SEC;
      inputs.push(factsInput(t, ...prices.map(([c, p]) => trade(c, p, t - MS, m))));
    }
    const { versions, engine } = run(cfg, inputs);
    expect(versions).toHaveLength(3);
    expect(engine.marks.get(C(5900).ticker)?.event_us).toBe(T0 + 120 * 60 * SEC - MS);
  });

  it('first version reasons are ordered structural, value, time', () => {
    // 100 % of slots changed (≥ 5 %), and the snapshot comes 1 s after the first input (≥ max_interval).
    const { versions } = run(cfg, [factsInput(T0, spot(5900, T0)), snapshotPage(T0 + SEC, priceAll(CHAIN))]);
    for (const v of versions) expect(v.reasons).toEqual(['structural', 'value', 'time']);
  });
});

describe('tile values and scores from known leg prices (DESIGN §2.3)', () => {
  const prices: Array<readonly [OptionContract, number]> = [
    [C(5880), 21.0],
    [C(5890), 14.2],
    [C(5900), 8.1],
    [C(5910), 4.3],
    [C(5920), 2.0],
    [P(5880), 3.1],
    [P(5890), 5.6],
    [P(5900), 9.0],
    [P(5910), 15.0],
    [P(5920), 22.4],
  ];
  const open = () => run(makeConfig({ custom: [{ name: 'bwb', right: 'C', legs: [{ ratio: 1, offset: -10 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 20 }] }] }), [
    factsInput(T0, spot(5900, T0)),
    snapshotPage(OPEN_AT, prices),
  ]);

  it('fly: +1 (K−w) −2 K +1 (K+w), score value / w; key ROOT:EXPIRATION:STRATEGY:RIGHT:K1/K2/K3', () => {
    const { engine } = open();
    const tiles = engine.canonicalTiles('fly');
    const c = tileByKey(tiles, 'SPXW:2025-11-21:fly:C:5890/5900/5910');
    expect(c).toMatchObject({ root: 'SPXW', expiration: '2025-11-21', strategy: 'fly', right: 'C', strikes: [5890, 5900, 5910] });
    expect(c.legs.map((l) => [l.ticker, l.ratio, l.price])).toEqual([
      ['O:SPXW251121C05890000', 1, 14.2],
      ['O:SPXW251121C05900000', -2, 8.1],
      ['O:SPXW251121C05910000', 1, 4.3],
    ]);
    expect([c.value, c.score]).toEqual([2.3, 0.23]); // 14.2 − 16.2 + 4.3
    const p = tileByKey(tiles, fly('P', 5900));
    expect([p.value, p.score]).toEqual([2.6, 0.26]); // 5.6 − 18 + 15
    expect(tiles).toHaveLength(6);
  });

  it('vertical: call +K −(K+w), put +K −(K−w), score value / w', () => {
    const { engine } = open();
    const tiles = engine.canonicalTiles('vertical');
    const c = tileByKey(tiles, 'SPXW:2025-11-21:vertical:C:5890/5900');
    expect(c.legs.map((l) => [l.ticker, l.ratio])).toEqual([
      ['O:SPXW251121C05890000', 1],
      ['O:SPXW251121C05900000', -1],
    ]);
    expect([c.value, c.score]).toEqual([6.1, 0.61]); // 14.2 − 8.1
    const p = tileByKey(tiles, 'SPXW:2025-11-21:vertical:P:5890/5900');
    expect(p.legs.map((l) => [l.ticker, l.ratio])).toEqual([
      ['O:SPXW251121P05890000', -1],
      ['O:SPXW251121P05900000', 1],
    ]);
    expect([p.value, p.score]).toEqual([3.4, 0.34]); // 9.0 − 5.6
    expect(tiles).toHaveLength(8);
  });

  it('single: score = (value − intrinsic at spot) / spot × 10 000, re-scored when spot moves', () => {
    const { engine } = open();
    const tiles = engine.canonicalTiles('single');
    expect(tileByKey(tiles, single('C', 5890)).score).toBe(7.118644); // (14.2 − 10)/5900 × 1e4 = 7.1186440…
    expect(tileByKey(tiles, single('C', 5910)).score).toBe(7.288136); // 4.3/5900 × 1e4 = 7.2881355…
    expect(tileByKey(tiles, single('P', 5910)).score).toBe(8.474576); // (15 − 10)/5900 × 1e4 = 8.4745762…
    expect(tileByKey(tiles, single('P', 5880)).score).toBe(5.254237); // 3.1/5900 × 1e4 = 5.2542372…
    expect(tileByKey(tiles, single('C', 5890)).value).toBe(14.2);

    const out = pushOne(engine, factsInput(T0 + 2 * SEC, spot(5905, T0 + 2 * SEC)));
    // (14.2 − 15)/5905 × 1e4 = −1.3547840…
    expect(tileByKey(versionsOf(out, 'single')[0]!.upserts, single('C', 5890)).score).toBe(-1.354784);
    // Spot does not score verticals or flies: nothing changed for them.
    expect(versionsOf(out, 'vertical')).toEqual([]);
    expect(versionsOf(out, 'fly')).toEqual([]);
  });

  it('a spot print for another ticker is ignored', () => {
    const { engine } = open();
    const out = pushOne(engine, factsInput(T0 + 2 * SEC, spot(6100, T0 + 2 * SEC, 0, 'I:NDX')));
    expect(out).toEqual([]);
    expect(engine.summary().skipped['spot_other_ticker']).toBe(1);
  });

  it('custom bwb [1@−10, −2@0, 1@+20]: value = Σ ratio × price, score = value / (hi − lo)', () => {
    const { engine } = open();
    const tiles = engine.canonicalTiles('bwb');
    expect(tiles.map((t) => t.key)).toEqual(['SPXW:2025-11-21:bwb:C:5880/5890/5910', 'SPXW:2025-11-21:bwb:C:5890/5900/5920']);
    const a = tiles[0]!;
    expect(a.legs.map((l) => l.ratio)).toEqual([1, -2, 1]);
    expect(a.value).toBe(-3.1); // 21 − 28.4 + 4.3
    expect(a.score).toBe(-0.103333); // −3.1 / 30
    expect(tiles[1]!.value).toBe(0); // 14.2 − 16.2 + 2.0
    expect(tiles[1]!.score).toBe(0);
  });

  it('confidence is the smallest leg confidence (1 for trades, 1 − (ask − bid)/(ask + bid) for quote mids) × the skew factor', () => {
    const { engine } = open();
    const out = pushOne(engine, factsInput(T0 + 2 * SEC, quote(C(5900), 7.9, 8.3, T0 + 2 * SEC - MS, 'ws_quote'), quote(C(5910), 4.0, 4.6, T0 + 2 * SEC - MS, 'ws_quote')));
    const t = tileByKey(versionsOf(out, 'fly')[0]!.upserts, fly('C', 5900));
    // legs: trade (1), 1 − 0.4/16.2 = 0.97531, 1 − 0.6/8.6 = 0.930233 → min 0.930233.
    // Skew: the 5890 trade is the snapshot's, at OPEN_AT − 1 s = T0 − 999 877 µs; the quotes are at
    // T0 + 1 999 000 µs: 2 998 877 µs → 1 − 1 998 877 / 75 000 000 = 0.973348.
    // 0.930233 × 0.973348 = 0.905440 → 4 dp
    expect(t.confidence).toBe(0.9054);
    // The mids (8.1, 4.3) equal the old prices: only confidence changed, and that alone is a change.
    expect(t.value).toBe(2.3);
    expect(t.source).toBe('ws_quote');
  });
});

describe('confidence and the legs\' time skew (worked examples)', () => {
  // Trades at chosen event times, so every leg of the C 5890/5900/5910 fly and the C 5900/5910
  // vertical is a WS trade (confidence 1) unless a quote says otherwise. Skew = newest − oldest leg.
  const at = (s: number) => T0 + 10 * SEC + s * SEC;
  const priced = (...facts: Parameters<typeof factsInput>[1][]) => {
    const { engine } = run(makeConfig(), OPEN);
    let recv = T0 + 100 * SEC;
    const outs = facts.map((f) => pushOne(engine, factsInput((recv += SEC), f)));
    return { engine, outs };
  };
  const canon = (engine: Engine, strategy: string, key: string) => tileByKey(engine.canonicalTiles(strategy), key);
  const vert = `SPXW:${EXP}:vertical:C:5900/5910`;

  it('legs within a second of each other cost nothing', () => {
    const { engine } = priced(trade(C(5890), 14, at(0)), trade(C(5900), 8, at(0.5)), trade(C(5910), 4, at(1)));
    expect(canon(engine, 'fly', fly('C', 5900)).confidence).toBe(1); // skew 1 s exactly: factor 1
  });

  it('a fly of trades 15 s apart: 1 − (15 − 1) / 75 = 0.813333', () => {
    const { engine } = priced(trade(C(5890), 14, at(0)), trade(C(5900), 8, at(10)), trade(C(5910), 4, at(15)));
    const t = canon(engine, 'fly', fly('C', 5900));
    expect(t.confidence).toBe(0.8133);
    expect(t.value).toBe(2); // 14 − 16 + 4: the skew changes the confidence, never the value
  });

  it('a vertical 30 s apart: 1 − 29/75 = 0.613333; the fly around it is only as skewed as its own legs', () => {
    const { engine } = priced(trade(C(5890), 14, at(30)), trade(C(5900), 8, at(0)), trade(C(5910), 4, at(30)));
    expect(canon(engine, 'vertical', vert).confidence).toBe(0.6133);
    expect(canon(engine, 'fly', fly('C', 5900)).confidence).toBe(0.6133); // same 30 s between its legs
  });

  it('multiplies the weakest leg: a quote at 0.975309 and 10 s of skew (0.88) give 0.858272', () => {
    // 1 − 0.4/16.2 = 0.975309; 1 − (10 − 1)/75 = 0.88; 0.975309 × 0.88 = 0.858272 → 0.8583
    const { engine } = priced(trade(C(5890), 14, at(0)), quote(C(5900), 7.9, 8.3, at(10), 'ws_quote'), trade(C(5910), 4, at(4)));
    expect(canon(engine, 'fly', fly('C', 5900)).confidence).toBe(0.8583);
    // The vertical's legs: 5900 at 10 s, 5910 at 4 s: skew 6 s → 1 − 5/75 = 0.933333; × 0.975309 = 0.910288
    expect(canon(engine, 'vertical', vert).confidence).toBe(0.9103);
  });

  it('never falls below the floor 0.2 (reached at 61 s); a single leg has no skew', () => {
    const { engine } = priced(trade(C(5890), 14, at(0)), trade(C(5900), 8, at(120)), trade(C(5910), 4, at(200)));
    expect(canon(engine, 'fly', fly('C', 5900)).confidence).toBe(0.2);
    expect(canon(engine, 'single', single('C', 5890)).confidence).toBe(1); // 200 s older than the others, alone
  });

  it('a newer print at the same price republishes the tile only when the new skew changes its confidence', () => {
    const { outs } = priced(trade(C(5890), 14, at(0)), trade(C(5900), 8, at(0)), trade(C(5910), 4, at(0)), trade(C(5910), 4, at(0.8)), trade(C(5910), 4, at(16)));
    const flyIn = (i: number) => versionsOf(outs[i]!, 'fly').flatMap((v) => v.upserts).find((t) => t.key === fly('C', 5900));
    // 0.8 s of skew: factor 1, same prices, so the tile is not a change.
    expect(flyIn(3)).toBeUndefined();
    // 16 s: 1 − 15/75 = 0.8; the value (14 − 16 + 4 = 2) is unchanged, the tile is published again.
    expect(flyIn(4)).toMatchObject({ value: 2, confidence: 0.8, ts_us: at(16) });
  });
});

describe('publish conditions and cadence (DESIGN §2.5)', () => {
  it('value threshold min_changed N: N−1 changed tiles publish nothing, the Nth publishes with reason value', () => {
    const cfg = selectStrategies(makeConfig({ publish: { min_changed: 3, max_interval_ms: null } }), ['single']);
    const engine = run(cfg, OPEN).engine;
    let t = T0 + SEC;
    const change = (c: OptionContract, price: number) => pushOne(engine, factsInput((t += SEC), trade(c, price, t - MS)));
    expect(change(C(5880), 30)).toEqual([]);
    // Back to the published price: that tile no longer counts as changed.
    expect(change(C(5880), 26)).toEqual([]);
    expect(engine.summary().strategies['single']?.pending).toBe(0);
    expect(change(C(5890), 18)).toEqual([]);
    expect(change(C(5900), 9)).toEqual([]);
    const out = change(C(5910), 8);
    const v = versionsOf(out, 'single');
    expect(v).toHaveLength(1);
    expect(v[0]!.reasons).toEqual(['value']);
    expect(v[0]!.upserts.map((u) => u.key)).toEqual([single('C', 5890), single('C', 5900), single('C', 5910)]);
    expect(v[0]!.stats.changed).toBe(3);
  });

  it('value threshold min_changed_pct X: exactly X % of slots changed publishes (≥, not >)', () => {
    // single over 5 strikes × C/P = 10 slots; 20 % is exactly 2 changed tiles.
    const cfg = selectStrategies(makeConfig({ publish: { min_changed: null, min_changed_pct: 20, max_interval_ms: null } }), ['single']);
    const engine = run(cfg, OPEN).engine;
    expect(engine.summary().strategies['single']?.slots).toBe(10);
    let t = T0 + SEC;
    const change = (c: OptionContract, price: number) => pushOne(engine, factsInput((t += SEC), trade(c, price, t - MS)));
    expect(change(C(5900), 9)).toEqual([]); // 1 of 10 = 10 %
    const v = versionsOf(change(P(5900), 11), 'single'); // 2 of 10 = 20 %
    expect(v.map((x) => [x.version, x.reasons, x.stats.changed])).toEqual([[2, ['value'], 2]]);
    expect(v[0]!.upserts.map((u) => u.key)).toEqual([single('C', 5900), single('P', 5900)]);
  });

  it('value threshold min_score_delta D: Σ|Δscore| is measured against the published tiles', () => {
    const cfg = selectStrategies(makeConfig({ publish: { min_changed: null, min_score_delta: 0.5, max_interval_ms: null } }), ['fly']);
    const engine = run(cfg, OPEN).engine;
    const price = (k: number) => engine.marks.get(C(k).ticker)!.price;
    let t = T0 + SEC;
    const bump = (k: number, by: number) => pushOne(engine, factsInput((t += SEC), trade(C(k), price(k) + by, t - MS)));
    // C5900 +1: flies around it move by |−2|/10, 1/10, 1/10 → 0.4 < 0.5
    expect(bump(5900, 1)).toEqual([]);
    // C5910 +1: vs published, 5890/5900/5910 is −2+1 → 0.1, 5900/5910/5920 is +1−2 → 0.1, 5880/5890/5900 still 0.1 → 0.3
    expect(bump(5910, 1)).toEqual([]);
    // C5890 +3: 5880/5890/5900 −6+1 → 0.5, 5890/5900/5910 +3−2+1 → 0.2, 5900/5910/5920 → 0.1: 0.8 ≥ 0.5
    const v = versionsOf(bump(5890, 3), 'fly');
    expect(v).toHaveLength(1);
    expect(v[0]!.reasons).toEqual(['value']);
    expect(v[0]!.upserts.map((u) => u.key)).toEqual([fly('C', 5890), fly('C', 5900), fly('C', 5910)]);
  });

  it('max_interval_ms: a single pending change publishes with reason time at the first tick ≥ last_at + max_interval', () => {
    const cfg = makeConfig({ publish: { min_changed: 1_000_000, max_interval_ms: 1000 } });
    const engine = run(cfg, OPEN).engine;
    expect(engine.summary().strategies['fly']?.versions).toBe(1);
    const due = Math.ceil((OPEN_AT + SEC) / (100 * MS)) * (100 * MS); // T0 + 1.1 s
    expect(due).toBe(T0 + 1_100_000);
    expect(pushOne(engine, factsInput(T0 + 200 * MS, trade(C(5900), 9, T0 + 150 * MS)))).toEqual([]);
    // 1 µs before last_at + max_interval: an evaluation, but not yet due.
    expect(pushOne(engine, gapInput(OPEN_AT + SEC - 1)).filter((o) => o.type === 'version')).toEqual([]);
    // No input between last_at + max_interval and `due`: the tick at `due` is the first evaluation after the boundary.

    // An input at the tick's own µs: the tick comes first, so the new trade is not in that version.
    const out = pushOne(engine, factsInput(due, trade(C(5910), 8, due - MS)));
    for (const s of ['single', 'vertical', 'fly']) {
      const v = versionsOf(out, s);
      expect(v.map((x) => [x.version, x.at_us, x.reasons])).toEqual([[2, due, ['time']]]);
    }
    expect(versionsOf(out, 'single')[0]!.upserts.map((u) => u.key)).toEqual([single('C', 5900)]);

    // The trade at `due` is pending; it goes out at the next boundary, due + 1 s.
    const later = collect(engine, pushOne(engine, gapInput(due + 5 * SEC)));
    expect(versionsOf(later.outputs, 'single').map((v) => [v.version, v.at_us, v.reasons])).toEqual([[3, due + SEC, ['time']]]);
  });

  it('before version 1, max_interval counts from the first input (a partial heatmap may publish on time)', () => {
    const cfg = selectStrategies(makeConfig({ publish: { min_changed: 1_000_000, max_interval_ms: 1000 } }), ['fly']);
    const half = priceAll(CHAIN).slice(0, 7);
    const rest = priceAll(CHAIN).slice(7);
    const { engine, versions } = run(cfg, [
      factsInput(T0, spot(5900, T0)),
      snapshotPage(T0 + 50 * MS, half, { unpriced: rest.map(([c]) => c) }),
      gapInput(T0 + 3 * SEC),
    ]);
    expect(versions.map((v) => [v.version, v.at_us, v.reasons])).toEqual([[1, T0 + SEC, ['time']]]);
    expect(versions[0]!.stats.populated).toBeLessThan(versions[0]!.stats.slots);
    // Completing the heatmap is structural; it has been > 1 s since version 1, so time holds too.
    const out = pushOne(engine, factsInput(T0 + 3500 * MS, ...rest.map(([c, p]) => trade(c, p, T0 + 3 * SEC))));
    const v2 = versionsOf(out, 'fly');
    expect(v2.map((v) => [v.version, v.at_us, v.reasons])).toEqual([[2, T0 + 3500 * MS, ['structural', 'time']]]);
    expect(v2[0]!.stats.populated).toBe(v2[0]!.stats.slots);
  });

  it('min_interval_ms holds a value publish back until last_at + min_interval (at a tick)', () => {
    const cfg = makeConfig({ publish: { min_changed: 1, max_interval_ms: null, min_interval_ms: 250 } });
    const engine = run(cfg, OPEN).engine;
    expect(pushOne(engine, factsInput(T0 + 10 * MS, trade(C(5900), 9, T0 + 9 * MS)))).toEqual([]);
    const out = pushOne(engine, gapInput(T0 + 2 * SEC));
    const at = Math.ceil((OPEN_AT + 250 * MS) / (100 * MS)) * (100 * MS); // T0 + 0.3 s
    for (const s of ['single', 'vertical', 'fly']) {
      expect(versionsOf(out, s).map((v) => [v.version, v.at_us, v.reasons])).toEqual([[2, at, ['value']]]);
    }
  });

  it('min_interval_ms holds back the time condition too: max_interval 1 s, min_interval 1.5 s → due at last_at + 1.5 s', () => {
    const cfg = makeConfig({ publish: { min_changed: 1_000_000, max_interval_ms: 1000, min_interval_ms: 1500 } });
    const engine = run(cfg, OPEN).engine; // version 1 at OPEN_AT = T0 + 123 µs
    expect(pushOne(engine, factsInput(T0 + 200 * MS, trade(C(5900), 9, T0 + 150 * MS)))).toEqual([]);
    // time holds from T0 + 1.000123 s, but the throttle runs until T0 + 1.500123 s: an input at
    // T0 + 1.2 s is evaluated and publishes nothing.
    expect(pushOne(engine, gapInput(T0 + 1200 * MS)).filter((o) => o.type === 'version')).toEqual([]);
    const out = pushOne(engine, gapInput(T0 + 5 * SEC));
    // The first tick after the throttle is T0 + 1.6 s.
    for (const s of ['single', 'vertical', 'fly']) {
      expect(versionsOf(out, s).map((v) => [v.version, v.at_us, v.reasons])).toEqual([[2, T0 + 1600 * MS, ['time']]]);
    }
  });

  it('min_interval_ms does not hold back a structural publish', () => {
    const cfg = makeConfig({ publish: { min_changed: 1, max_interval_ms: null, min_interval_ms: 250 }, topology: { widths: [5, 10] } });
    const engine = run(cfg, OPEN).engine;
    const k = C(5915);
    // A later snapshot lists a new strike inside the band without a mark: slots grow, staging is incomplete.
    expect(pushOne(engine, chainPage(T0 + 10 * MS, [...CHAIN, k], [], { snapshot: 2 }))).toEqual([]);
    // Its first trade completes staging 20 ms after version 1: structural goes out at once.
    const out = pushOne(engine, factsInput(T0 + 20 * MS, trade(k, 6.5, T0 + 19 * MS)));
    for (const s of ['single', 'vertical', 'fly']) {
      expect(versionsOf(out, s).map((v) => [v.version, v.at_us, v.reasons])).toEqual([[2, T0 + 20 * MS, ['structural']]]);
    }
    expect(versionsOf(out, 'fly')[0]!.upserts.map((u) => u.key)).toEqual(['SPXW:2025-11-21:fly:C:5910/5915/5920']);
    expect(versionsOf(out, 'vertical')[0]!.upserts.map((u) => u.key)).toEqual([
      'SPXW:2025-11-21:vertical:C:5910/5915',
      'SPXW:2025-11-21:vertical:C:5915/5920',
    ]);
  });
});

describe('topology (DESIGN §2.3)', () => {
  it('the band is inclusive and is not re-centred; later snapshots add slots inside it and never remove any', () => {
    const wide = strip([5870, 5880, 5890, 5900, 5910, 5920, 5930]);
    const cfg = makeConfig({ topology: { strike_band_points: 20 } });
    const { engine } = run(cfg, [factsInput(T0, spot(5900, T0)), snapshotPage(OPEN_AT, priceAll(wide))]);
    expect(engine.summary().topology?.band).toEqual([5880, 5920]);
    expect(engine.canonicalTiles('single').map((t) => t.strikes[0])).toEqual([5880, 5890, 5900, 5910, 5920, 5880, 5890, 5900, 5910, 5920]);
    const slots = () => engine.summary().strategies['single']?.slots;
    expect(slots()).toBe(10);

    // Spot moves far away and a snapshot lists strikes around it: nothing is added, the band stays.
    const far = strip([5970, 5980, 5990, 6000, 6010]);
    engine.push(factsInput(T0 + 60 * SEC, spot(6000, T0 + 60 * SEC)), () => undefined);
    engine.push(snapshotPage(T0 + 61 * SEC, priceAll([...wide, ...far], 6000), { snapshot: 2 }), () => undefined);
    expect(slots()).toBe(10);
    expect(engine.summary().topology?.band).toEqual([5880, 5920]);

    // A new strike inside the band is added (Rule A)…
    engine.push(snapshotPage(T0 + 62 * SEC, priceAll([...wide, C(5905), P(5905)]), { snapshot: 3 }), () => undefined);
    expect(slots()).toBe(12);
    // …and a snapshot that lists fewer contracts removes nothing.
    const out = pushOne(engine, snapshotPage(T0 + 63 * SEC, priceAll([C(5900)]), { snapshot: 4 }));
    expect(slots()).toBe(12);
    for (const v of out) if (v.type === 'version') expect(v.removes).toEqual([]);
  });

  it('without an index value, spot comes from put–call parity of the chain', () => {
    const px: Array<readonly [OptionContract, number]> = [
      [C(5880), 30], [C(5890), 20], [C(5900), 12], [C(5910), 6], [C(5920), 3],
      [P(5880), 8], [P(5890), 9], [P(5900), 10], [P(5910), 14], [P(5920), 21],
    ];
    // |C − P| is smallest at 5900: S ≈ 5900 + 12 − 10 = 5902; band ±20 → [5882, 5922].
    const { engine } = run(makeConfig({ topology: { strike_band_points: 20 } }), [snapshotPage(OPEN_AT, px)]);
    expect(engine.summary().topology).toMatchObject({ spot: 5902, spot_source: 'parity', band: [5882, 5922] });
    expect(engine.summary().strategies['single']?.slots).toBe(8);
  });

  it('expirations in scope count weekday DTE from the New York date of the engine clock', () => {
    const exps = ['2025-11-21', '2025-11-24', '2025-11-25'];
    const chain = exps.flatMap((e) => strip([5890, 5900, 5910], ['C'], 'SPXW', e));
    const open = (at: number, max_dte: number) =>
      run(makeConfig({ topology: { expirations: null, max_dte } }), [factsInput(at, spot(5900, at)), snapshotPage(at + 1, priceAll(chain))]).engine.summary().topology;
    // Friday 09:30 ET: Monday is 1 weekday away, Tuesday 2.
    expect(open(T0, 1)?.expirations).toEqual(['2025-11-21', '2025-11-24']);
    // 2025-11-22T03:00Z is still Friday 22:00 in New York.
    const lateFriday = Date.UTC(2025, 10, 22, 3) * 1000;
    expect(open(lateFriday, 0)).toMatchObject({ session_date: '2025-11-21', expirations: ['2025-11-21'] });
    // An explicit list wins over max_dte.
    const explicit = run(makeConfig({ topology: { expirations: ['2025-11-25'], max_dte: 0 } }), [factsInput(T0, spot(5900, T0)), snapshotPage(T0 + 1, priceAll(chain))]);
    expect(explicit.engine.summary().topology?.expirations).toEqual(['2025-11-25']);
    expect(explicit.engine.canonicalTiles('single').map((t) => t.key)).toEqual([5890, 5900, 5910].map((k) => `SPXW:2025-11-25:single:C:${k}`));
  });

  it('the topology is built only when every page 0..last of a snapshot has arrived (in any order)', () => {
    const calls = priceAll(strip(STRIKES, ['C']));
    const puts = priceAll(strip(STRIKES, ['P']));
    const page = (recv: number, snapshot: number, n: number, last: boolean, px: typeof calls) =>
      chainPage(recv, px.map(([c]) => c), px.map(([c, p]) => trade(c, p, recv - SEC, 0, 'rest_trade')), { snapshot, page: n, last });
    const engine = run(makeConfig(), [factsInput(T0, spot(5900, T0))]).engine;
    // Snapshot 1 never gets its last page: abandoned when snapshot 2 starts.
    expect(pushOne(engine, page(T0 + 1 * SEC, 1, 0, false, calls))).toEqual([]);
    expect(pushOne(engine, page(T0 + 2 * SEC, 2, 1, true, puts))).toEqual([]);
    expect(engine.summary().topology).toBeNull();
    expect(engine.summary().snapshots.incomplete).toBe(1);
    const out = pushOne(engine, page(T0 + 3 * SEC, 2, 0, false, calls));
    expect(engine.summary().snapshots.complete).toBe(1);
    expect(engine.summary().topology?.built_at_us).toBe(T0 + 3 * SEC);
    // Both pages' contracts are in the topology: the puts came on the page that arrived first.
    expect(versionsOf(out, 'single')[0]!.stats).toEqual({ slots: 10, populated: 10, changed: 10 });
  });

  it('SPX (AM) and SPXW (PM) contracts are never mixed in one tile', () => {
    const both = [...strip(STRIKES, ['C', 'P'], 'SPX'), ...CHAIN];
    const cfg = makeConfig({ custom: [{ name: 'bwb', legs: [{ ratio: 1, offset: -10 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 20 }] }] });
    const { engine } = run(cfg, [factsInput(T0, spot(5900, T0)), snapshotPage(OPEN_AT, priceAll(both))]);
    for (const s of ['single', 'vertical', 'fly', 'bwb']) {
      const tiles = engine.canonicalTiles(s);
      expect(new Set(tiles.map((t) => t.root))).toEqual(new Set(['SPX', 'SPXW']));
      for (const t of tiles) {
        expect(t.key.startsWith(`${t.root}:`)).toBe(true);
        for (const l of t.legs) {
          const parsed = parseOptionTicker(l.ticker);
          expect(parsed.ok && parsed.contract.root).toBe(t.root);
        }
      }
    }
    expect(engine.canonicalTiles('fly')).toHaveLength(12);
  });
});

describe('version stream and hash chain (DESIGN §3)', () => {
  const script: EngineInput[] = [
    ...OPEN,
    factsInput(T0 + 2 * SEC, trade(C(5900), 9, T0 + 2 * SEC - MS)),
    factsInput(T0 + 3 * SEC, trade(P(5890), 7.5, T0 + 3 * SEC - MS), spot(5902, T0 + 3 * SEC)),
    factsInput(T0 + 7 * SEC, trade(C(5910), 7.25, T0 + 7 * SEC - MS, 3)),
  ];

  it('version 1 has prev_hash ""; each hash is sha256(prev_hash + JSON of {strategy, version, at_us, reasons, upserts, removes})', () => {
    const { versions, lines, engine } = run(makeConfig(), script);
    for (const s of ['single', 'vertical', 'fly']) {
      const mine = lines.filter((_, i) => versions[i]!.strategy === s).map((l) => JSON.parse(l) as VersionRecord);
      expect(mine.length).toBeGreaterThanOrEqual(3);
      expect(mine.map((v) => v.version)).toEqual(mine.map((_, i) => i + 1));
      expect(mine[0]!.prev_hash).toBe('');
      mine.forEach((v, i) => {
        if (i > 0) expect(v.prev_hash).toBe(mine[i - 1]!.hash);
        expect(v.hash).toBe(recomputeHash(JSON.stringify(v)));
        expect(v.removes).toEqual([]);
      });
      expect(engine.summary().strategies[s]?.final_hash).toBe(mine[mine.length - 1]!.hash);
    }
  });

  it('hash input is spelled exactly as in the contract (independent literal rebuild of one version)', () => {
    const { versions } = run(selectStrategies(makeConfig(), ['single']), script);
    const v = versions[1]!;
    const tiles = v.upserts
      .map(
        (t: PublishedTile) =>
          `{"key":"${t.key}","root":"${t.root}","expiration":"${t.expiration}","strategy":"${t.strategy}","right":"${t.right}",` +
          `"strikes":[${t.strikes.join(',')}],"legs":[${t.legs
            .map((l) => `{"ticker":"${l.ticker}","ratio":${l.ratio},"price":${l.price},"ts_us":${l.ts_us},"source":"${l.source}"}`)
            .join(',')}],"value":${t.value},"score":${t.score},"ts_us":${t.ts_us},"confidence":${t.confidence},"source":"${t.source}"}`,
      )
      .join(',');
    const body = `{"strategy":"single","version":2,"at_us":${T0 + 2 * SEC},"reasons":["value","time"],"upserts":[${tiles}],"removes":[]}`;
    expect(v.hash).toBe(createHash('sha256').update(v.prev_hash + body).digest('hex'));
  });

  it('version lines are JSON of the record with keys in contract order, upserts sorted by key', () => {
    const { versions, lines } = run(makeConfig(), script);
    lines.forEach((line, i) => {
      expect(line).toBe(JSON.stringify(versions[i]));
      const v = JSON.parse(line) as VersionRecord;
      expect(Object.keys(v)).toEqual(['type', 'strategy', 'version', 'at_us', 'reasons', 'prev_hash', 'hash', 'upserts', 'removes', 'stats']);
      const keys = v.upserts.map((t) => t.key);
      expect(keys).toEqual([...keys].sort());
      for (const t of v.upserts) {
        expect(Object.keys(t)).toEqual(['key', 'root', 'expiration', 'strategy', 'right', 'strikes', 'legs', 'value', 'score', 'ts_us', 'confidence', 'source']);
        for (const l of t.legs) expect(Object.keys(l)).toEqual(['ticker', 'ratio', 'price', 'ts_us', 'source']);
        expect(t.ts_us).toBe(Math.max(...t.legs.map((l) => l.ts_us)));
      }
    });
    expect(versionLine(versions[0]!)).toBe(lines[0]);
  });
});

describe('pipelines are isolated (DESIGN §2.4)', () => {
  it('a strategy that throws stops alone, reports an error output, and the others publish as if it were absent', () => {
    const cfg = makeConfig();
    const script: EngineInput[] = [...OPEN, factsInput(T0 + 2 * SEC, trade(C(5900), 9, T0 + 2 * SEC - MS)), gapInput(T0 + 5 * SEC)];
    const broken = { ...vertical, score: (): number => { throw new Error('boom: vertical score'); } };
    const engine = new Engine({ config: cfg, underlying: 'I:SPX', strategies: [singleStrategy, broken, flyStrategy] });

    const failing = run(cfg, script, engine);
    const reference = run(selectStrategies(cfg, ['single', 'fly']), script);

    expect(failing.lines.filter((_, j) => failing.versions[j]!.strategy !== 'vertical')).toEqual(reference.lines);
    expect(failing.versions.filter((v) => v.strategy === 'vertical')).toEqual([]);
    expect(failing.engine.summary().strategies['vertical']?.error).toContain('boom');
    expect(failing.errors).toHaveLength(1);
    expect(failing.errors[0]).toMatchObject({ type: 'error', strategy: 'vertical' });
    expect(failing.errors[0]!.message).toContain('boom');
  });

  it('a strategy that throws mid-run keeps its earlier versions, reports one error output, and stops', () => {
    const cfg = makeConfig();
    const script: EngineInput[] = [
      ...OPEN,
      factsInput(T0 + 2 * SEC, trade(C(5900), 9, T0 + 2 * SEC - MS)),
      factsInput(T0 + 3 * SEC, trade(C(5910), 99, T0 + 3 * SEC - MS)), // the vertical's score throws on this price
      factsInput(T0 + 4 * SEC, trade(C(5890), 18, T0 + 4 * SEC - MS)),
    ];
    const picky = {
      ...vertical,
      score: (def: Parameters<typeof vertical.score>[0], value: number, s: number | undefined) => {
        if (Math.abs(value) > 50) throw new Error('boom: value out of range');
        return vertical.score(def, value, s);
      },
    };
    const engine = new Engine({ config: cfg, underlying: 'I:SPX', strategies: [singleStrategy, picky, flyStrategy] });
    const failing = run(cfg, script, engine);
    const clean = run(cfg, script);

    const verticalLines = (r: typeof clean) => r.lines.filter((_, j) => r.versions[j]!.strategy === 'vertical');
    expect(verticalLines(failing)).toEqual(verticalLines(clean).slice(0, 2));
    expect(failing.lines.filter((_, j) => failing.versions[j]!.strategy !== 'vertical')).toEqual(
      clean.lines.filter((_, j) => clean.versions[j]!.strategy !== 'vertical'),
    );
    expect(failing.errors.map((e) => [e.strategy, e.at_us])).toEqual([['vertical', T0 + 3 * SEC]]);
  });
});
