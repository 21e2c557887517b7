/**
 * Configuration (DESIGN §2.6): omitted keys take defaults, unknown keys are an error naming the
 * key, bad values are errors naming the key, and `--strategies` selects exactly what it names.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_PUBLISH,
  defaultConfig,
  enabledStrategyNames,
  selectStrategies,
  validateConfig,
} from '../src/engine/config.js';
import { configError } from './helpers/engine-fixtures.js';


const BWB = { name: 'bwb', right: 'C', legs: [{ ratio: 1, offset: -10 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 20 }] };

describe('defaults', () => {
  it('an empty object gives the default config', () => {
    const cfg = validateConfig({});
    expect(cfg).toEqual(defaultConfig());
    expect(cfg.tick_ms).toBe(100);
    expect(cfg.topology).toEqual({ expirations: null, max_dte: 2, strike_band_points: 50, widths: [5, 10, 15, 20, 25, 30, 40, 50] });
    expect(cfg.strategies.custom).toEqual([]);
    for (const s of ['single', 'vertical', 'fly'] as const) {
      expect(cfg.strategies[s]).toEqual({ enabled: true, publish: DEFAULT_PUBLISH });
    }
    expect(enabledStrategyNames(cfg)).toEqual(['single', 'vertical', 'fly']);
  });

  it('the publish defaults are the documented ones: 5 % of slots, 1,000 ms max interval, 500 ms min interval', () => {
    // Literal values from the README's configuration section, not the constants of the code.
    const cfg = validateConfig({});
    for (const s of ['single', 'vertical', 'fly'] as const) {
      expect(cfg.strategies[s].publish).toEqual({ min_changed: null, min_changed_pct: 5, min_score_delta: null, max_interval_ms: 1000, min_interval_ms: 500 });
    }
    const custom = validateConfig({ strategies: { custom: [{ name: 'bwb', legs: [{ ratio: 1, offset: -10 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 20 }] }] } });
    expect(custom.strategies.custom[0]!.publish).toEqual({ min_changed: null, min_changed_pct: 5, min_score_delta: null, max_interval_ms: 1000, min_interval_ms: 500 });
  });

  it('omitted keys inside a partly given block take defaults', () => {
    const cfg = validateConfig({
      topology: { strike_band_points: 80 },
      strategies: { fly: { publish: { min_changed: 3 } }, vertical: { enabled: false } },
    });
    expect(cfg.topology).toEqual({ ...defaultConfig().topology, strike_band_points: 80 });
    expect(cfg.strategies.fly.publish).toEqual({ ...DEFAULT_PUBLISH, min_changed: 3 });
    expect(cfg.strategies.vertical).toEqual({ enabled: false, publish: DEFAULT_PUBLISH });
    expect(enabledStrategyNames(cfg)).toEqual(['single', 'fly']);
  });

  it('the sample config of DESIGN §2.6 validates as written', () => {
    const cfg = validateConfig({
      tick_ms: 100,
      topology: { expirations: ['2025-11-21'], max_dte: 2, strike_band_points: 50, widths: [5, 10, 15, 20, 25, 30, 40, 50] },
      strategies: {
        single: { enabled: true, publish: { min_changed: 1, min_changed_pct: null, min_score_delta: null, max_interval_ms: 1000, min_interval_ms: 0 } },
        vertical: { enabled: true, publish: {} },
        fly: { enabled: true, publish: {} },
        custom: [BWB],
      },
    });
    expect(cfg.topology.expirations).toEqual(['2025-11-21']);
    expect(cfg.strategies.single.publish).toEqual({ min_changed: 1, min_changed_pct: null, min_score_delta: null, max_interval_ms: 1000, min_interval_ms: 0 });
    expect(cfg.strategies.vertical.publish).toEqual(DEFAULT_PUBLISH);
    expect(cfg.strategies.custom).toEqual([
      { name: 'bwb', rights: ['C'], legs: BWB.legs, enabled: true, publish: DEFAULT_PUBLISH },
    ]);
    expect(enabledStrategyNames(cfg)).toEqual(['single', 'vertical', 'fly', 'bwb']);
  });

  it('null turns a value threshold off and is kept as null', () => {
    const cfg = validateConfig({ strategies: { fly: { publish: { min_changed_pct: null, max_interval_ms: null } } } });
    expect(cfg.strategies.fly.publish.min_changed_pct).toBeNull();
    expect(cfg.strategies.fly.publish.max_interval_ms).toBeNull();
  });
});

describe('unknown keys name the full key path', () => {
  it.each([
    [{ tick: 100 }, 'tick'],
    [{ topology: { widht: [5] } }, 'topology.widht'],
    [{ strategies: { flies: {} } }, 'strategies.flies'],
    [{ strategies: { fly: { publsh: {} } } }, 'strategies.fly.publsh'],
    [{ strategies: { single: { publish: { min_chnaged: 2 } } } }, 'strategies.single.publish.min_chnaged'],
    [{ strategies: { custom: [{ ...BWB, colour: 'red' }] } }, 'strategies.custom[0].colour'],
    [{ strategies: { custom: [{ ...BWB, legs: [{ ratio: 1, ofset: 0 }] }] } }, 'strategies.custom[0].legs[0].ofset'],
  ])('%j → %s', (raw, path) => {
    const err = configError(raw);
    expect(err.message).toContain(`"${path}"`);
    expect(err.exitCode).toBe(2);
  });
});

describe('type and range errors name the key', () => {
  it.each([
    [{ tick_ms: '100' }, 'tick_ms'],
    [{ tick_ms: 0 }, 'tick_ms'],
    [{ tick_ms: 2.5 }, 'tick_ms'],
    [{ topology: { max_dte: -1 } }, 'topology.max_dte'],
    [{ topology: { strike_band_points: 0 } }, 'topology.strike_band_points'],
    [{ topology: { widths: [5, -10] } }, 'topology.widths[1]'],
    [{ topology: { widths: [] } }, 'topology.widths'],
    [{ topology: { expirations: ['2025/11/21'] } }, 'topology.expirations'],
    [{ topology: 'wide' }, 'topology'],
    [{ strategies: { fly: { enabled: 'yes' } } }, 'strategies.fly.enabled'],
    [{ strategies: { fly: { publish: { min_changed: 0 } } } }, 'strategies.fly.publish.min_changed'],
    [{ strategies: { fly: { publish: { min_changed: 1.5 } } } }, 'strategies.fly.publish.min_changed'],
    [{ strategies: { vertical: { publish: { min_interval_ms: null } } } }, 'strategies.vertical.publish.min_interval_ms'],
    [{ strategies: { vertical: { publish: { max_interval_ms: '1s' } } } }, 'strategies.vertical.publish.max_interval_ms'],
    [{ strategies: { single: { publish: { min_score_delta: -1 } } } }, 'strategies.single.publish.min_score_delta'],
    [{ strategies: { custom: {} } }, 'strategies.custom'],
  ])('%j → %s', (raw, path) => {
    expect(configError(raw).message).toContain(`"${path}"`);
  });

  it('a non-object top level is an error', () => {
    expect(configError([]).message).toMatch(/top level/);
    expect(configError(null).message).toMatch(/top level/);
  });
});

describe('custom strategies', () => {
  const custom = (c: Record<string, unknown>) => ({ strategies: { custom: [c] } });

  it('legs are kept sorted by offset; right defaults to both', () => {
    const cfg = validateConfig(custom({ name: 'skew', legs: [{ ratio: -1, offset: 20 }, { ratio: 1, offset: 0 }] }));
    const s = cfg.strategies.custom[0]!;
    expect(s.rights).toEqual(['C', 'P']);
    expect(s.legs).toEqual([{ ratio: 1, offset: 0 }, { ratio: -1, offset: 20 }]);
  });

  it.each([
    [{ ...BWB, name: 'fly' }, 'strategies.custom[0].name', /built-in/],
    [{ ...BWB, name: 'Bad Name' }, 'strategies.custom[0].name', /lowercase/],
    [{ ...BWB, name: undefined }, 'strategies.custom[0].name', /lowercase/],
    [{ ...BWB, right: 'X' }, 'strategies.custom[0].right', /"C", "P" or "both"/],
    [{ ...BWB, legs: [] }, 'strategies.custom[0].legs', /non-empty/],
    [{ ...BWB, legs: [{ ratio: 0, offset: 0 }] }, 'strategies.custom[0].legs[0].ratio', /not be 0/],
    [{ ...BWB, legs: [{ ratio: 1.5, offset: 0 }] }, 'strategies.custom[0].legs[0].ratio', /integer/],
    [{ ...BWB, legs: [{ ratio: 1, offset: 'atm' }] }, 'strategies.custom[0].legs[0].offset', /number/],
    [{ ...BWB, legs: [{ ratio: 1, offset: 5 }, { ratio: -1, offset: 5 }] }, 'strategies.custom[0].legs', /same offset/],
    [{ ...BWB, publish: { min_changed: 'many' } }, 'strategies.custom[0].publish.min_changed', /number/],
  ])('%j → %s', (c, path, why) => {
    const err = configError(custom(c));
    expect(err.message).toContain(`"${path}"`);
    expect(err.message).toMatch(why);
  });

  it('a custom name used twice is an error naming it', () => {
    expect(configError({ strategies: { custom: [BWB, { ...BWB }] } }).message).toMatch(/"bwb" is used twice/);
  });
});

describe('selectStrategies (--strategies)', () => {
  const base = validateConfig({ strategies: { fly: { enabled: false }, custom: [BWB, { ...BWB, name: 'condor', legs: [{ ratio: 1, offset: 0 }, { ratio: -1, offset: 10 }] }] } });

  it('enables exactly the strategies named, even ones the config disabled', () => {
    const cfg = selectStrategies(base, ['fly', 'bwb']);
    expect(enabledStrategyNames(cfg)).toEqual(['fly', 'bwb']);
    expect(cfg.strategies.fly.publish).toEqual(base.strategies.fly.publish);
    expect(enabledStrategyNames(selectStrategies(base, ['single']))).toEqual(['single']);
    expect(enabledStrategyNames(selectStrategies(base, ['condor', 'vertical']))).toEqual(['vertical', 'condor']);
  });

  it('does not change the config it was given', () => {
    selectStrategies(base, ['single']);
    expect(enabledStrategyNames(base)).toEqual(['single', 'vertical', 'bwb', 'condor']);
  });

  it('rejects an unknown name, listing the valid ones', () => {
    let err: unknown;
    try {
      selectStrategies(base, ['fly', 'butterfly']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toContain('"butterfly"');
    for (const valid of ['single', 'vertical', 'fly', 'bwb', 'condor']) expect(msg).toContain(valid);
  });
});
