import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/engine/config.js';
import { replayRecording } from '../src/replay/replay.js';
import { ROOT, runCli } from './helpers/cli.js';

// Golden hashes: every committed fixture must replay to exactly the version hashes recorded in its
// expect file. A change that alters any published version fails here until the fixtures are
// regenerated on purpose (fixtures/make-fixtures.sh) and the diff reviewed.

const FIXTURES = path.join(ROOT, 'fixtures');

interface Expect {
  strategies: Record<string, { versions: number; final_hash: string; hashes: string[] }>;
}

const names = (await readdir(FIXTURES, { withFileTypes: true })).filter((d) => d.isDirectory() && d.name !== 'flatfiles').map((d) => d.name).sort();

describe('fixtures replay to their committed hashes', () => {
  it('there are fixtures to check (open, closed, damaged)', () => {
    expect(names).toEqual(expect.arrayContaining(['open-3m', 'closed-30m', 'damaged-1m']));
  });

  for (const name of names) {
    for (const format of [1, 2] as const) {
    it(`${name} (format ${format}, in-process)`, async () => {
      const file = JSON.parse(await readFile(path.join(FIXTURES, `${name}.expect.json`), 'utf8')) as Expect & { format2: Expect };
      const want = format === 1 ? file : file.format2;
      const got = new Map<string, string[]>();
      const r = await replayRecording({
        dir: path.join(FIXTURES, name),
        config: defaultConfig(),
        format,
        onOutput: (out) => {
          if (out.type !== 'version') return;
          const list = got.get(out.strategy) ?? [];
          list.push(out.hash);
          got.set(out.strategy, list);
        },
      });
      expect(Object.keys(r.summary.strategies)).toEqual(Object.keys(want.strategies));
      for (const [strategy, w] of Object.entries(want.strategies)) {
        const hashes = got.get(strategy) ?? [];
        expect(hashes.map((h) => h.slice(0, 16)), `${name}/${strategy}`).toEqual(w.hashes);
        expect(hashes.length).toBe(w.versions);
        expect(r.summary.strategies[strategy]!.final_hash).toBe(w.final_hash);
      }
    });
    }
  }

  // Through the CLI as users run it: `verify` replays flat out in worker threads and paced in one
  // thread, compares both, and checks the expect file (this is what CI relies on).
  // Format 2 (the default) on every fixture; format 1 through the CLI on the smallest (the
  // in-process tests above check every fixture's format 1 chain).
  for (const [name, format] of [...names.map((n) => [n, '2'] as const), ['closed-30m', '1'] as const]) {
    {
      it(`heatmap verify ${name} --format ${format} --expect ${name}.expect.json`, async () => {
        const r = await runCli(['verify', path.join('fixtures', name), '--format', format, '--expect', path.join('fixtures', `${name}.expect.json`)]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`(format ${format})`);
        expect(r.stdout).toMatch(/✓ deterministic: \d+ output lines identical in both runs, final hashes match/);
      });
    }
  }

  it('the expect files hold both hash chains, and they differ (format 2 has its own chain)', async () => {
    for (const name of names) {
      const e = JSON.parse(await readFile(path.join(FIXTURES, `${name}.expect.json`), 'utf8')) as Expect & { format2: Expect };
      expect(Object.keys(e.format2.strategies)).toEqual(Object.keys(e.strategies));
      for (const [s, w] of Object.entries(e.strategies)) {
        expect(e.format2.strategies[s]!.versions).toBe(w.versions);
        expect(e.format2.strategies[s]!.final_hash).not.toBe(w.final_hash);
      }
    }
  });

  it('the closed market publishes exactly once per strategy', async () => {
    const want = JSON.parse(await readFile(path.join(FIXTURES, 'closed-30m.expect.json'), 'utf8')) as Expect;
    for (const s of Object.values(want.strategies)) expect(s.versions).toBe(1);
  });

  it('the damaged recording still publishes, with its bad lines counted and its cut reported', async () => {
    const r = await replayRecording({ dir: path.join(FIXTURES, 'damaged-1m'), config: defaultConfig(), onOutput: () => undefined });
    expect(r.bad.count('bad_json')).toBe(2);
    expect(r.bad.count('no_recv_us')).toBe(1);
    // The NaN index line was inserted 2 s ahead of its neighbours: a receive-time outlier, dropped
    // whole (before, it reordered the index stream and its value was rejected as ws_bad_value).
    expect(r.bad.count('recv_us_ahead')).toBe(1);
    expect(r.bad.count('ws_bad_value')).toBe(0);
    expect(r.cuts).toHaveLength(1);
    expect(r.cuts[0]!.file).toMatch(/options/);
    for (const s of Object.values(r.summary.strategies)) expect(s.versions).toBeGreaterThan(0);
  });
});
