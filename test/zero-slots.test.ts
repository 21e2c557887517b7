/**
 * A topology that leaves a strategy without a single slot (DESIGN §2.3, §2.6) is not silent: the
 * engine's summary says why, per strategy (`strategies[S].no_slots_reason`, computed from the chain,
 * the scope and the config), and replay/verify print it as a warning on stderr. Runs where every
 * strategy has slots carry no such field, so their summary lines stay as they were.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import type { Strategy } from '../src/engine/strategy.js';
import type { EngineInput } from '../src/engine/types.js';
import { resolveStrategies } from '../src/strategies/index.js';
import { EXP, SEC, T0, factsInput, makeConfig, priceAll, run, snapshotPage, spot, strip } from './helpers/engine-fixtures.js';
import { parseNdjson, runCli, tempDir } from './helpers/cli.js';

const STRIKES = [5880, 5890, 5900, 5910, 5920];
const CHAIN = strip(STRIKES);
const OPEN_AT = T0 + 123;
/** Spot 5900 from the index, then one complete snapshot of 5880…5920, calls and puts, expiring today. */
const OPEN: EngineInput[] = [factsInput(T0, spot(5900, T0)), snapshotPage(OPEN_AT, priceAll(CHAIN))];

const BWB = { name: 'bwb', right: 'C', legs: [{ ratio: 1, offset: -10 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 20 }] };

/** strategy name → its no_slots_reason, for the strategies that have one. */
function reasons(engine: Engine): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, s] of Object.entries(engine.summary().strategies)) if (s.no_slots_reason !== undefined) out[name] = s.no_slots_reason;
  return out;
}

describe('no_slots_reason: worked examples (engine summary)', () => {
  it('a normal run has no such field: the per-strategy summary keeps exactly its usual keys', () => {
    const { engine } = run(makeConfig({ custom: [BWB] }), OPEN);
    const s = engine.summary().strategies;
    for (const name of ['single', 'vertical', 'fly', 'bwb']) {
      expect(s[name]!.slots).toBeGreaterThan(0);
      expect(Object.keys(s[name]!)).toEqual(['versions', 'final_hash', 'slots', 'populated', 'pending']);
    }
  });

  it('explicit expirations not in the chain: every strategy says so, naming the chain\'s and the config\'s', () => {
    const { engine } = run(makeConfig({ topology: { expirations: ['2025-12-19', '2025-11-28'] }, custom: [BWB] }), OPEN);
    const why = 'no expiration of the chain is in scope (chain has 2025-11-21; config asks expirations 2025-11-28, 2025-12-19)';
    expect(reasons(engine)).toEqual({ single: why, vertical: why, fly: why, bwb: why });
    expect(engine.summary().topology).toMatchObject({ expirations: [], contracts: 0 });
  });

  it('max_dte: a chain whose only expiration is 1 weekday out, with max_dte 0', () => {
    const monday = strip(STRIKES, ['C', 'P'], 'SPXW', '2025-11-24'); // session date 2025-11-21 is a Friday
    const inputs = [factsInput(T0, spot(5900, T0)), snapshotPage(OPEN_AT, priceAll(monday))];
    const { engine } = run(makeConfig({ topology: { expirations: null, max_dte: 0 } }), inputs);
    const why = 'no expiration of the chain is in scope (chain has 2025-11-24; config asks max_dte 0 from the session date 2025-11-21)';
    expect(reasons(engine)).toEqual({ single: why, vertical: why, fly: why });
  });

  it('a band that holds no listed strike: spot 5905 ± 4 is [5901, 5909], strikes are every 10 points', () => {
    const inputs = [factsInput(T0, spot(5905, T0)), snapshotPage(OPEN_AT, priceAll(CHAIN))];
    const { engine } = run(makeConfig({ topology: { strike_band_points: 4 } }), inputs);
    const why = `no strike of the chain is inside the band [5901, 5909] (spot 5905 ± 4; expirations in scope: ${EXP})`;
    expect(reasons(engine)).toEqual({ single: why, vertical: why, fly: why });
  });

  it('widths that match no strike pair (1e-9): vertical and fly say so; single has its 10 slots', () => {
    const { engine } = run(makeConfig({ topology: { widths: [1e-9] } }), OPEN);
    expect(reasons(engine)).toEqual({
      vertical: 'no strike pair at widths [1e-9] inside the band [5850, 5950]',
      fly: 'no strike pair at widths [1e-9] inside the band [5850, 5950]',
    });
    expect(engine.summary().strategies.single!.slots).toBe(10);
  });

  it('width 30 over 5880…5920: verticals exist (5880/5910, 5890/5920), flies need K−30, K, K+30 and do not', () => {
    const { engine } = run(makeConfig({ topology: { widths: [30] } }), OPEN);
    expect(engine.summary().strategies.vertical!.slots).toBe(4);
    expect(reasons(engine)).toEqual({ fly: 'no strikes K−w, K, K+w at widths [30] inside the band [5850, 5950]' });
  });

  it('custom legs whose offsets fall outside the band: offsets −100/0/+100 around strikes 5880…5920', () => {
    const wide = { name: 'wide', right: 'both', legs: [{ ratio: 1, offset: -100 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 100 }] };
    const { engine } = run(makeConfig({ custom: [BWB, wide] }), OPEN);
    expect(reasons(engine)).toEqual({
      wide: 'no contract of the chain fits the custom legs (right C, P; offsets -100, 0, +100) inside the band [5850, 5950]',
    });
  });

  it('a custom right the chain does not list: puts only when the chain has calls only', () => {
    const calls = strip(STRIKES, ['C']);
    const inputs = [factsInput(T0, spot(5900, T0)), snapshotPage(OPEN_AT, priceAll(calls))];
    const { engine } = run(makeConfig({ custom: [{ ...BWB, name: 'putbwb', right: 'P' }] }), inputs);
    expect(reasons(engine)).toEqual({
      putbwb: 'no contract of the chain fits the custom legs (right P; offsets -10, 0, +20) inside the band [5850, 5950]',
    });
  });

  it('a strategy the engine knows nothing about (a module) gets the plain fact', () => {
    const config = makeConfig();
    const nothing: Strategy = { name: 'single', usesSpot: false, enumerate: () => [], score: () => 0 };
    const engine = new Engine({ config, underlying: 'I:SPX', strategies: [nothing] });
    run(config, OPEN, engine);
    expect(reasons(engine)).toEqual({ single: 'the strategy made no tile from the 10 contracts in scope' });
  });

  it('no topology yet (no spot, no parity): nothing to explain, no field', () => {
    const unpriced = [snapshotPage(OPEN_AT, [], { unpriced: CHAIN })];
    const { engine } = run(makeConfig(), unpriced);
    expect(engine.summary().topology).toBeNull();
    expect(reasons(engine)).toEqual({});
  });

  it('slots that a later snapshot brings clear the reason (the summary describes the end state)', () => {
    const config = makeConfig({ topology: { widths: [20] } });
    const first = [factsInput(T0, spot(5900, T0)), snapshotPage(OPEN_AT, priceAll(strip([5890, 5900])))];
    const engine = new Engine({ config, underlying: 'I:SPX', strategies: resolveStrategies(config) });
    run(config, first, engine);
    expect(Object.keys(reasons(engine)).sort()).toEqual(['fly', 'vertical']);
    run(config, [snapshotPage(T0 + 5 * SEC, priceAll(CHAIN), { snapshot: 2 })], engine);
    expect(reasons(engine)).toEqual({});
    expect(engine.summary().strategies.vertical!.slots).toBeGreaterThan(0);
  });

  it('deterministic: two engines fed the same inputs give the same summary', () => {
    const config = makeConfig({ topology: { expirations: ['2025-12-19'] } });
    expect(run(config, OPEN).engine.summary()).toEqual(run(config, OPEN).engine.summary());
  });
});

describe('replay and verify warn about strategies without slots', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let cfg: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    cfg = path.join(dir, 'far-expiry.json');
    await writeFile(cfg, JSON.stringify({ topology: { expirations: ['2025-12-19'] } }));
  });
  afterAll(() => cleanup());

  it('replay fixtures/open-3m with expirations not in the chain: exit 0, a warning per strategy, the reason in the summary', async () => {
    const r = await runCli(['replay', 'fixtures/open-3m', '--config', cfg, '--no-progress']);
    expect(r.code).toBe(0);
    const why = 'no expiration of the chain is in scope (chain has 2025-11-21, 2025-11-24, 2025-11-25; config asks expirations 2025-12-19)';
    for (const name of ['single', 'vertical', 'fly']) expect(r.stderr).toContain(`${name}: no tiles — ${why}`);
    const summary = parseNdjson(r.stdout).at(-1) as { type: string; strategies: Record<string, { slots: number; no_slots_reason?: string }> };
    expect(summary.type).toBe('summary');
    for (const name of ['single', 'vertical', 'fly']) expect(summary.strategies[name]).toMatchObject({ slots: 0, no_slots_reason: why });
  });

  it('verify prints the same warning on stderr (and still passes: two empty runs agree)', async () => {
    const r = await runCli(['verify', 'fixtures/open-3m', '--config', cfg, '--strategies', 'fly']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('fly: no tiles — no expiration of the chain is in scope');
  });

  it('a normal replay prints no such warning', async () => {
    const r = await runCli(['replay', 'fixtures/open-3m', '--strategies', 'single', '--no-progress']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('no tiles');
    expect(r.stdout).not.toContain('no_slots_reason');
  });
});
