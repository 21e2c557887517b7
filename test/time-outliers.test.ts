/**
 * One line with a wrong receive time costs that line only (issue: "one bad line must cost one
 * line"): a recording with an outlier publishes exactly the versions of the same recording without
 * that line, for every --jobs, and paced replay and verify finish on it.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tally } from '../src/engine/tally.js';
import type { RawLine } from '../src/recording/reader.js';
import { dropTimeOutlierBatches, dropTimeOutliers } from '../src/recording/time-outliers.js';
import { parseNdjson, runCli, tempDir } from './helpers/cli.js';

const YEAR_US = 365 * 24 * 3_600_000_000;
let dir: string;
let cleanup: () => Promise<void>;

/** Copies recording `from` to `to`, editing the lines of `stream` with `edit`. */
async function copyEdited(from: string, to: string, stream: string, edit: (lines: string[]) => string[]): Promise<void> {
  await fsp.cp(from, to, { recursive: true });
  const file = path.join(to, `${stream}.ndjson.gz`);
  const lines = gunzipSync(await fsp.readFile(file)).toString('utf8').split('\n').filter((l) => l !== '');
  await fsp.writeFile(file, gzipSync(edit(lines).join('\n') + '\n'));
}

/** Version and gap lines of a replay (the summary differs: it counts the outlier). */
async function versionLines(rec: string, ...extra: string[]): Promise<string[]> {
  const r = await runCli(['replay', rec, '--no-progress', ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l.startsWith('{"type":"version"') || l.startsWith('{"type":"gap"'));
}

const shift = (line: string, by: number): string => line.replace(/^\{"recv_us":(\d+)/, (_, d: string) => `{"recv_us":${Number(d) + by}`);

let base: string;
let ahead: string;
let without: string;
let brokenAhead: string;
let behind: string;
let withoutBehind: string;
const AT = 200; // an options line in the middle of the session

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('heatmap-outliers-'));
  base = path.join(dir, 'base');
  const sim = await runCli(['sim', '--out', base, '--duration', '45s', '--seed', '11', '--no-progress']);
  expect(sim.code, sim.stderr).toBe(0);
  ahead = path.join(dir, 'ahead');
  without = path.join(dir, 'without');
  brokenAhead = path.join(dir, 'broken-ahead');
  behind = path.join(dir, 'behind');
  withoutBehind = path.join(dir, 'without-behind');
  // A valid line stamped one year ahead.
  await copyEdited(base, ahead, 'options', (ls) => ls.map((l, i) => (i === AT ? shift(l, YEAR_US) : l)));
  await copyEdited(base, without, 'options', (ls) => ls.filter((_, i) => i !== AT));
  // A line one year ahead whose JSON is then broken (rejected by the decoder, must not move time).
  await copyEdited(base, brokenAhead, 'options', (ls) => ls.map((l, i) => (i === AT ? shift(l, YEAR_US).slice(0, 60) : l)));
  // A line stamped one hour in the past (a clock that jumped back).
  await copyEdited(base, behind, 'indices', (ls) => ls.map((l, i) => (i === 40 ? shift(l, -3_600_000_000) : l)));
  await copyEdited(base, withoutBehind, 'indices', (ls) => ls.filter((_, i) => i !== 40));
}, 120_000);
afterAll(() => cleanup());

describe('receive-time outliers', () => {
  it('a line one year ahead: the same versions as without that line, for --jobs 1 and 2; counted as recv_us_ahead', async () => {
    const expected = await versionLines(without, '--jobs', '1');
    expect(expected.length).toBeGreaterThan(100);
    expect(await versionLines(ahead, '--jobs', '1')).toEqual(expected);
    expect(await versionLines(ahead, '--jobs', '2')).toEqual(expected);
    const r = await runCli(['replay', ahead, '--no-progress']);
    const summary = parseNdjson(r.stdout).at(-1) as { bad: { reasons: Record<string, number> }; skipped: Record<string, number> };
    expect(summary.bad.reasons).toEqual({ recv_us_ahead: 1 });
    expect(summary.skipped['recv_time_went_back']).toBeUndefined();
    expect(r.stderr).toMatch(/recv_us_ahead: e\.g\. options\.ndjson\.gz:201/);
  });

  it('a broken line one year ahead does not move time either', async () => {
    expect(await versionLines(brokenAhead, '--jobs', '1')).toEqual(await versionLines(without, '--jobs', '1'));
  });

  it('a line one hour behind is dropped alone (recv_us_behind)', async () => {
    expect(await versionLines(behind, '--jobs', '1')).toEqual(await versionLines(withoutBehind, '--jobs', '1'));
  });

  it('paced replay and verify finish on the recording with the outlier', async () => {
    const paced = await versionLines(ahead, '--speed', '200', '--jobs', '1');
    expect(paced).toEqual(await versionLines(without, '--jobs', '1'));
    const v = await runCli(['verify', ahead]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/✓ deterministic/);
  });
});

describe('the per-stream rule on hand-made sequences', () => {
  const run = async (times: number[]): Promise<{ kept: number[]; bad: Record<string, number> }> => {
    async function* src(): AsyncGenerator<RawLine> {
      for (const [i, t] of times.entries()) yield { stream: 'options', file: 'options.ndjson', line_no: i + 1, recv_us: t, text: '' };
    }
    const bad = new Tally();
    const kept: number[] = [];
    for await (const l of dropTimeOutliers(src(), bad)) kept.push(l.recv_us);
    // The batch form (what the reader uses) keeps the same lines, whatever the batching.
    for (const size of [1, 2, 3, 5, 100]) {
      async function* batches(): AsyncGenerator<RawLine[]> {
        const all = times.map((t, i): RawLine => ({ stream: 'options', file: 'options.ndjson', line_no: i + 1, recv_us: t, text: '' }));
        for (let i = 0; i < all.length; i += size) yield all.slice(i, i + size);
      }
      const badB = new Tally();
      const keptB: number[] = [];
      for await (const b of dropTimeOutlierBatches(batches(), badB)) {
        expect(b.length).toBeGreaterThan(0);
        keptB.push(...b.map((l) => l.recv_us));
      }
      expect({ kept: keptB, bad: badB.toJSON() }, `batches of ${size}`).toEqual({ kept, bad: bad.toJSON() });
    }
    return { kept, bad: bad.toJSON() };
  };

  it('monotonic input passes unchanged, equal times included', async () => {
    expect(await run([1, 2, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18])).toEqual({ kept: [1, 2, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18], bad: {} });
  });

  it('a run of three lines ahead is dropped whole; a single line behind is dropped alone', async () => {
    expect(await run([1, 2, 900, 901, 902, 3, 4, 5, 6, 7])).toEqual({ kept: [1, 2, 3, 4, 5, 6, 7], bad: { recv_us_ahead: 3 } });
    expect(await run([10, 11, 12, 1, 13, 14, 15])).toEqual({ kept: [10, 11, 12, 13, 14, 15], bad: { recv_us_behind: 1 } });
  });

  it('a jump confirmed by the lines after it is kept (an overnight pause); an unconfirmed last line an hour ahead is not', async () => {
    const night = 17 * 3_600_000_000;
    expect((await run([1, 2, 3, night, night + 1, night + 2])).kept).toEqual([1, 2, 3, night, night + 1, night + 2]);
    expect(await run([1, 2, 3, night])).toEqual({ kept: [1, 2, 3], bad: { recv_us_ahead: 1 } });
    expect((await run([1, 2, 3, 60_000_000])).kept).toEqual([1, 2, 3, 60_000_000]);
  });
});

describe('split files whose contents are out of name order', () => {
  it('are read in receive-time order: the same versions as the unsplit recording, and a note on stderr', async () => {
    const { dir: d, cleanup: done } = await tempDir('heatmap-split-');
    try {
      const rec = path.join(d, 'rec');
      await fsp.cp(base, rec, { recursive: true });
      const file = path.join(rec, 'options.ndjson.gz');
      const lines = gunzipSync(await fsp.readFile(file)).toString('utf8').split('\n').filter((l) => l !== '');
      const half = Math.floor(lines.length / 2);
      await fsp.rm(file);
      // The later half gets the lower number.
      await fsp.writeFile(path.join(rec, 'options.0001.ndjson.gz'), gzipSync(lines.slice(half).join('\n') + '\n'));
      await fsp.writeFile(path.join(rec, 'options.0002.ndjson.gz'), gzipSync(lines.slice(0, half).join('\n') + '\n'));
      const expected = await versionLines(base, '--jobs', '1');
      expect(await versionLines(rec, '--jobs', '1')).toEqual(expected);
      expect(await versionLines(rec, '--jobs', '2')).toEqual(expected);
      const r = await runCli(['replay', rec, '--jobs', '1', '--no-progress']);
      expect(r.stderr).toContain('options: split files read in receive-time order, not name order: options.0002.ndjson.gz, options.0001.ndjson.gz');
      expect((parseNdjson(r.stdout).at(-1) as { bad: { total: number } }).bad.total).toBe(0);
    } finally {
      await done();
    }
  });
});
