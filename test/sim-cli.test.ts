import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { parseSimFlags, simCommand, type SimCliOptions } from '../src/cli/sim.js';
import { readManifest } from '../src/recording/manifest.js';

const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-sim-cli-'));
afterAll(() => fsp.rm(root, { recursive: true, force: true }));

function usageMessage(opts: SimCliOptions): string {
  try {
    parseSimFlags(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

/** Runs `heatmap sim ARGS…` in-process (the action throws typed errors; main maps them to exit codes). */
async function runSim(args: string[]): Promise<void> {
  await simCommand().exitOverride().parseAsync(args, { from: 'user' });
}

describe('parseSimFlags', () => {
  it('applies the documented defaults', () => {
    const { params, gzip, force, progress } = parseSimFlags({ out: 'x' });
    expect(params).toMatchObject({
      seed: 1,
      underlying: 'I:SPX',
      duration_ms: 600_000,
      spot: 5900,
      start_us: Date.parse('2025-11-21T14:30:00Z') * 1000,
      max_dte: 2,
      chain_range: 200,
      strike_step: 5,
      snapshot_every_ms: 60_000,
      index_every_ms: 1000,
      trade_rate: 64,
      quotes: 0,
      vol: 0.15,
      jumps_per_hour: 0.5,
      closed: false,
    });
    expect({ gzip, force, progress }).toEqual({ gzip: true, force: false, progress: undefined });
  });

  it('takes per-underlying defaults and explicit values', () => {
    const { params } = parseSimFlags({ out: 'x', underlying: 'I:NDX', seed: '9', duration: '6h30m', tradeRate: '0', closed: true });
    expect(params).toMatchObject({ underlying: 'I:NDX', spot: 20500, strike_step: 10, seed: 9, duration_ms: 23_400_000, trade_rate: 0, closed: true });
  });

  it('rejects bad flags with messages that say what to do', () => {
    expect(usageMessage({})).toMatch(/--out DIR is required/);
    expect(usageMessage({ out: 'x', duration: '10 minutes' })).toMatch(/--duration "10 minutes" is not a duration — use forms like 90s, 10m/);
    expect(usageMessage({ out: 'x', duration: '500ms' })).toMatch(/--duration: must be between 1s/);
    expect(usageMessage({ out: 'x', underlying: 'SPY' })).toMatch(/not supported .*I:SPX, I:NDX, I:RUT/);
    expect(usageMessage({ out: 'x', underlying: 'SPX' })).toMatch(/I: prefix: I:SPX/);
    expect(usageMessage({ out: 'x', seed: '-3' })).toMatch(/--seed "-3" must be a non-negative integer/);
    expect(usageMessage({ out: 'x', tradeRate: 'lots' })).toMatch(/--trade-rate "lots" must be a number ≥ 0/);
    expect(usageMessage({ out: 'x', start: 'tomorrow' })).toMatch(/--start "tomorrow" is not an ISO-8601 time/);
    expect(usageMessage({ out: 'x', snapshotEvery: '200ms' })).toMatch(/--snapshot-every: must be at least 1s/);
    expect(usageMessage({ out: 'x', chainRange: '6000' })).toMatch(/--chain-range/);
    expect(usageMessage({ out: 'x', vol: '15' })).toMatch(/--vol: 15 must be in \(0.01, 2\]/);
    expect(usageMessage({ out: 'x', quotes: '1001' })).toMatch(/--quotes: 1001 must be an integer 0..1000 \(Massive serves quotes for at most 1000 contracts/);
    expect(usageMessage({ out: 'x', quotes: 'all' })).toMatch(/--quotes "all"/);
  });
});

describe('heatmap sim', () => {
  it('explains --quotes in --help', () => {
    const help = simCommand().helpInformation().replace(/\s+/g, ' '); // commander wraps descriptions
    expect(help).toContain('--quotes <n> also write WS option quotes (Q events) for the n contracts nearest the start spot, 0..1000 (default: 0 = none)');
  });

  it('writes a recording, and refuses a non-empty directory unless --force', async () => {
    const out = path.join(root, 'rec');
    await runSim(['--out', out, '--duration', '30s', '--seed', '3', '--no-progress', '--no-gzip']);
    const m = await readManifest(out);
    expect(m.source).toBe('sim');
    expect(m.sim?.seed).toBe(3);
    expect((await fsp.readdir(out)).sort()).toEqual(['chain.ndjson', 'indices.ndjson', 'manifest.json', 'options.ndjson']);
    const first = await fsp.readFile(path.join(out, 'options.ndjson'));

    await expect(runSim(['--out', out, '--duration', '30s', '--no-progress'])).rejects.toThrow(/is not empty .*--force/);
    await runSim(['--out', out, '--duration', '30s', '--seed', '3', '--no-progress', '--no-gzip', '--force']);
    expect((await fsp.readFile(path.join(out, 'options.ndjson'))).equals(first)).toBe(true);
  });

  it('reports flag errors as UsageError before touching the disk', async () => {
    const out = path.join(root, 'never');
    await expect(runSim(['--out', out, '--duration', 'soon'])).rejects.toBeInstanceOf(UsageError);
    await expect(runSim(['--duration', '1m'])).rejects.toThrow(/--out DIR is required/);
    await expect(fsp.stat(out)).rejects.toThrow(/ENOENT/);
  });
});
