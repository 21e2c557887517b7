import { cp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planWorkers } from '../src/replay/parallel-replay.js';
import { ROOT, runCli, tempDir } from './helpers/cli.js';

// `replay --jobs N` splits the strategies over worker threads and merges their lines back in the
// engine's own order: the stream must be byte-identical to the in-process replay's, whatever N.

const DAMAGED = path.join(ROOT, 'fixtures', 'damaged-1m'); // gaps, bad lines, a torn tail
const OPEN = path.join(ROOT, 'fixtures', 'open-3m');

let work: { dir: string; cleanup: () => Promise<void> };
let busyConfig: string;
let gappy: string;
let onTicks: string;
let tickConfig: string;

beforeAll(async () => {
  work = await tempDir();
  // the damaged fixture plus two recorded gaps in the index stream
  gappy = path.join(work.dir, 'gappy');
  await cp(DAMAGED, gappy, { recursive: true });
  const idx = path.join(gappy, 'indices.ndjson.gz');
  const lines = gunzipSync(await readFile(idx)).toString('utf8').split('\n');
  for (const at of [40, 25]) {
    const recv = (JSON.parse(lines[at]!) as { recv_us: number }).recv_us;
    const gap = { stream: 'indices', from_us: recv - 3_000_000, to_us: recv, reason: 'disconnect' };
    lines.splice(at + 1, 0, JSON.stringify({ recv_us: recv, gap }));
  }
  await writeFile(idx, gzipSync(lines.join('\n')));
  // the open fixture with every receive time moved down onto the 100 ms tick grid: inputs then fall
  // on tick times, where a tick's versions come before the input's (DESIGN §2.1)
  onTicks = path.join(work.dir, 'on-ticks');
  await cp(OPEN, onTicks, { recursive: true });
  for (const f of ['chain', 'options', 'indices']) {
    const file = path.join(onTicks, `${f}.ndjson.gz`);
    const text = gunzipSync(await readFile(file)).toString('utf8');
    await writeFile(file, gzipSync(text.replace(/^\{"recv_us":(\d+)/gm, (_m, us: string) => `{"recv_us":${Math.floor(Number(us) / 100_000) * 100_000}`)));
  }
  tickConfig = path.join(work.dir, 'ticks.json');
  const off = { min_changed: null, min_changed_pct: null, min_score_delta: null };
  await writeFile(
    tickConfig,
    JSON.stringify({
      tick_ms: 100,
      strategies: {
        single: { publish: { ...off, min_changed: 1, max_interval_ms: null, min_interval_ms: 0 } },
        vertical: { publish: { ...off, max_interval_ms: 200, min_interval_ms: 0 } },
        fly: { publish: { ...off, max_interval_ms: 100, min_interval_ms: 0 } },
      },
    }),
  );
  busyConfig = path.join(work.dir, 'busy.json');
  // Publish on every change and on every tick: versions of different strategies interleave at
  // ticks, after inputs and at the same engine time, so the merge order is exercised hard.
  const publish = { min_changed: 1, min_changed_pct: null, max_interval_ms: 100, min_interval_ms: 0 };
  await writeFile(
    busyConfig,
    JSON.stringify({
      tick_ms: 100,
      strategies: {
        single: { publish },
        vertical: { publish },
        fly: { publish },
        custom: [
          { name: 'bwb', right: 'C', legs: [{ ratio: 1, offset: -10 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 20 }], publish },
          { name: 'putfly', right: 'P', legs: [{ ratio: 1, offset: -5 }, { ratio: -2, offset: 0 }, { ratio: 1, offset: 5 }] },
        ],
      },
    }),
  );
});

afterAll(async () => {
  await work.cleanup();
});

describe('planWorkers', () => {
  it('puts the heaviest strategies on the least loaded worker, each group in evaluation order', () => {
    expect(planWorkers(['single', 'vertical', 'fly'], 2)).toEqual([['single', 'vertical'], ['fly']]);
    expect(planWorkers(['single', 'vertical', 'fly'], 3)).toEqual([['vertical'], ['fly'], ['single']]);
    expect(planWorkers(['single', 'vertical', 'fly', 'bwb'], 2)).toEqual([['vertical', 'bwb'], ['single', 'fly']]);
  });

  it('never makes more workers than strategies, nor fewer than one', () => {
    expect(planWorkers(['fly'], 4)).toEqual([['fly']]);
    expect(planWorkers(['single', 'fly'], 0)).toEqual([['single', 'fly']]);
    const groups = planWorkers(['single', 'vertical', 'fly', 'a', 'b'], 8);
    expect(groups).toHaveLength(5);
    expect(groups.flat().sort()).toEqual(['a', 'b', 'fly', 'single', 'vertical']);
  });
});

describe('heatmap replay --jobs', () => {
  it('writes the same bytes with 1, 2, 3 and 5 workers (gaps, bad lines, keyframes, custom strategies)', async () => {
    const args = ['replay', gappy, '--config', busyConfig, '--keyframes', '7', '--no-progress'];
    const one = await runCli([...args, '--jobs', '1']);
    expect(one.code, one.stderr).toBe(0);
    const lines = one.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; strategy?: string; at_us?: number });
    // the fixture and config really produce what the merge has to order
    const types = new Set(lines.map((l) => l.type));
    expect([...types].sort()).toEqual(['gap', 'snapshot', 'summary', 'version']);
    const strategies = new Set(lines.filter((l) => l.type === 'version').map((l) => l.strategy));
    expect([...strategies].sort()).toEqual(['bwb', 'fly', 'putfly', 'single', 'vertical']);
    // the workers' lines really interleave: strategies go back to an earlier one many times, and the
    // gaps sit between versions
    let descents = 0;
    const rank = ['single', 'vertical', 'fly', 'bwb', 'putfly'];
    for (let i = 1; i < lines.length; i++) {
      const a = lines[i - 1]!;
      const b = lines[i]!;
      if (a.type === 'version' && b.type === 'version' && rank.indexOf(b.strategy!) < rank.indexOf(a.strategy!)) descents++;
    }
    expect(descents).toBeGreaterThan(100);
    const firstGap = lines.findIndex((l) => l.type === 'gap');
    expect(lines.slice(firstGap).some((l) => l.type === 'version' && l.strategy === 'single')).toBe(true);
    for (const jobs of ['2', '3', '5']) {
      const many = await runCli([...args, '--jobs', jobs]);
      expect(many.code, many.stderr).toBe(0);
      expect(many.stdout === one.stdout, `--jobs ${jobs} differs from --jobs 1`).toBe(true);
      expect(many.stderr.replace(/ in [\d.]+ s/, '')).toBe(one.stderr.replace(/ in [\d.]+ s/, ''));
    }
  }, 120_000);

  it('orders the versions of a tick before those of an input at the same time, as in-process', async () => {
    const args = ['replay', onTicks, '--config', tickConfig, '--no-progress'];
    const one = await runCli([...args, '--jobs', '1']);
    expect(one.code, one.stderr).toBe(0);
    const versions = one.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; strategy?: string; at_us?: number; reasons?: string[] })
      .filter((l) => l.type === 'version');
    // fly publishes on the tick (time), then single after the input at the same microsecond (value)
    let tickThenInput = 0;
    for (let i = 1; i < versions.length; i++) {
      const a = versions[i - 1]!;
      const b = versions[i]!;
      if (a.strategy === 'fly' && b.strategy === 'single' && a.at_us === b.at_us) tickThenInput++;
    }
    expect(tickThenInput).toBeGreaterThan(10);
    for (const jobs of ['2', '3']) {
      const many = await runCli([...args, '--jobs', jobs]);
      expect(many.code, many.stderr).toBe(0);
      expect(many.stdout === one.stdout, `--jobs ${jobs} differs from --jobs 1`).toBe(true);
    }
  }, 60_000);

  it('reports the workers it used in --run-info, and runs in-process when pacing', async () => {
    const par = await runCli(['replay', OPEN, '--jobs', '2', '--run-info', '--no-progress']);
    expect(par.code, par.stderr).toBe(0);
    const summary = JSON.parse(par.stdout.trim().split('\n').at(-1)!) as { run: { jobs: number } };
    expect(summary.run.jobs).toBe(2);
    const paced = await runCli(['replay', OPEN, '--jobs', '2', '--speed', '1000', '--run-info', '--no-progress']);
    expect(paced.code, paced.stderr).toBe(0);
    const pacedSummary = JSON.parse(paced.stdout.trim().split('\n').at(-1)!) as { run: { jobs: number } };
    expect(pacedSummary.run.jobs).toBe(1);
    const strip = (s: string) => s.trim().split('\n').slice(0, -1).join('\n');
    expect(strip(paced.stdout) === strip(par.stdout)).toBe(true);
  }, 60_000);

  it('runs a single strategy in a worker of its own by default (this thread reads), and in this thread with --jobs 1', async () => {
    const runOf = (out: string) => (JSON.parse(out.trim().split('\n').at(-1)!) as { run: { jobs: number; workers: number } }).run;
    const strip = (s: string) => s.trim().split('\n').slice(0, -1).join('\n');
    const args = ['replay', gappy, '--strategies', 'fly', '--keyframes', '5', '--run-info', '--no-progress'];
    const one = await runCli([...args, '--jobs', '1']);
    expect(one.code, one.stderr).toBe(0);
    expect(runOf(one.stdout).workers).toBe(0);
    expect(one.stdout).toMatch(/"type":"gap"/); // the worker's gap lines are merged in too
    const auto = await runCli(args);
    expect(auto.code, auto.stderr).toBe(0);
    expect(runOf(auto.stdout).workers).toBe(availableParallelism() > 1 ? 1 : 0);
    const three = await runCli([...args, '--jobs', '3']);
    expect(three.code, three.stderr).toBe(0);
    expect(runOf(three.stdout).workers).toBe(1); // at most one per strategy
    expect(strip(auto.stdout) === strip(one.stdout), 'default differs from --jobs 1').toBe(true);
    expect(strip(three.stdout) === strip(one.stdout), '--jobs 3 differs from --jobs 1').toBe(true);
  }, 60_000);

  it('stops with the same message and exit code as the in-process replay when a stream file cannot be read', async () => {
    const rec = path.join(work.dir, 'broken');
    await cp(OPEN, rec, { recursive: true });
    await rm(path.join(rec, 'indices.ndjson.gz'));
    await symlink(path.join(work.dir, 'nowhere'), path.join(rec, 'indices.ndjson.gz'));
    const one = await runCli(['replay', rec, '--jobs', '1', '--no-progress']);
    const two = await runCli(['replay', rec, '--jobs', '2', '--no-progress']);
    expect(one.code).toBe(2);
    expect(two.code).toBe(2);
    expect(two.stderr).toBe(one.stderr);
    expect(two.stderr).toMatch(/^heatmap: cannot read recording file .*indices\.ndjson\.gz/);
    expect(two.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('rejects a --jobs that is not a positive integer', async () => {
    for (const bad of ['0', 'two', '-1']) {
      const r = await runCli(['replay', OPEN, '--jobs', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--jobs/);
    }
  });
});
