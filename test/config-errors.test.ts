/**
 * Configuration errors that used to slip through (DESIGN §2.6): expirations that have the
 * YYYY-MM-DD shape but are not calendar dates, and a config that enables no strategy at all (a
 * run that would compute nothing and exit 0). Both are bad input: exit 2, a message naming what
 * to fix.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../src/engine/config.js';
import { loadEngineConfig } from '../src/cli/config-file.js';
import { runCli, tempDir } from './helpers/cli.js';
import { configError } from './helpers/engine-fixtures.js';


describe('topology.expirations must be calendar dates', () => {
  it.each([
    ['2025-13-99', /month 13/],
    ['2025-00-10', /month 00/],
    ['2025-02-30', /2025-02 has 28 days/],
    ['2025-02-29', /2025-02 has 28 days/],
    ['2025-04-31', /2025-04 has 30 days/],
    ['2025-11-00', /day 00/],
  ])('%s is a ConfigError naming the key and the value', (date, why) => {
    const err = configError({ topology: { expirations: ['2025-11-21', date] } });
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('"topology.expirations"');
    expect(err.message).toContain(`"${date}"`);
    expect(err.message).toMatch(why);
  });

  it('real dates pass, leap days included (2024 and 2000 are leap years, 1900 is not)', () => {
    const cfg = validateConfig({ topology: { expirations: ['2024-02-29', '2000-02-29', '2025-12-31', '2025-01-31'] } });
    expect(cfg.topology.expirations).toEqual(['2000-02-29', '2024-02-29', '2025-01-31', '2025-12-31']);
    expect(configError({ topology: { expirations: ['1900-02-29'] } }).message).toMatch(/1900-02 has 28 days/);
  });

  it('the shape error names the offending value too', () => {
    const err = configError({ topology: { expirations: ['2025-11-21', '2025/11/21'] } });
    expect(err.message).toContain('"topology.expirations"');
    expect(err.message).toContain('"2025/11/21"');
  });

  it('the CLI rejects {"topology":{"expirations":["2025-13-99"]}} with exit 2', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cfg = path.join(dir, 'bad-date.json');
      await writeFile(cfg, JSON.stringify({ topology: { expirations: ['2025-13-99'] } }));
      const r = await runCli(['replay', 'fixtures/closed-30m', '--config', cfg, '--no-progress']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('"topology.expirations"');
      expect(r.stderr).toContain('"2025-13-99"');
      expect(r.stdout).toBe('');
    } finally {
      await cleanup();
    }
  });
});

describe('a run that enables no strategy is bad input', () => {
  const ALL_OFF = {
    strategies: {
      single: { enabled: false },
      vertical: { enabled: false },
      fly: { enabled: false },
      custom: [{ name: 'bwb', enabled: false, legs: [{ ratio: 1, offset: -10 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 20 }] }],
    },
  };
  let dir: string;
  let cleanup: () => Promise<void>;
  let allOff: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    allOff = path.join(dir, 'all-off.json');
    await writeFile(allOff, JSON.stringify(ALL_OFF));
  });
  afterAll(() => cleanup());

  it('loadEngineConfig for a command that runs strategies: ConfigError "no strategy is enabled", naming the file and every strategy', async () => {
    let err: unknown;
    try {
      await loadEngineConfig(allOff, undefined, { runsStrategies: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toMatch(/^no strategy is enabled: /);
    expect(msg).toContain(allOff);
    for (const name of ['single', 'vertical', 'fly', 'bwb']) expect(msg).toContain(name);
    expect(msg).toContain('--strategies');
  });

  it('--strategies still selects from a config that disables everything; record (topology only) still loads it', async () => {
    const picked = await loadEngineConfig(allOff, 'fly', { runsStrategies: true });
    expect(picked.strategies.fly.enabled).toBe(true);
    const forRecording = await loadEngineConfig(allOff, undefined);
    expect(forRecording.topology).toEqual(validateConfig({}).topology);
  });

  it('replay exits 2 with the message and writes no NDJSON', async () => {
    const r = await runCli(['replay', 'fixtures/closed-30m', '--config', allOff, '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no strategy is enabled: ');
    expect(r.stdout).toBe('');
  });

  it('verify exits 2 with the message', async () => {
    const r = await runCli(['verify', 'fixtures/closed-30m', '--config', allOff]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no strategy is enabled: ');
  });

  it('live exits 2 with the message before it connects anywhere', async () => {
    const r = await runCli(['live', '--config', allOff, '--rest-url', 'http://127.0.0.1:9', '--ws-url', 'ws://127.0.0.1:9', '--duration', '2s'], { env: { MASSIVE_API_KEY: 'test-key' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no strategy is enabled: ');
  });

  it('replay --config ALL_OFF --strategies single runs (exit 0)', async () => {
    const r = await runCli(['replay', 'fixtures/closed-30m', '--config', allOff, '--strategies', 'single', '--no-progress']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"type":"summary"');
  });
});
