/**
 * The library API (DESIGN §7), imported by package name as a user would, and the README's
 * backtest example run as it is shipped (so it cannot rot).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, parseNdjson, runCli, runNode, tempDir } from './helpers/cli.js';

interface Api {
  replay: (dir: string, o?: { format?: 1 | 2; config?: unknown }) => AsyncIterable<{ type: string; strategy?: string; version?: number; hash?: string; upserts?: { key: string; value: number; score: number | null }[] }>;
  simulate: (dir: string, p: Record<string, unknown>) => Promise<{ trades: number }>;
  fold2to1: (lines: Iterable<string>) => AsyncIterable<string>;
  outputBytes: (out: unknown) => Buffer;
}
// By package name (self-reference through package.json "exports"), from the built dist/.
const api = (await import('heatmap' as string)) as Api;

describe("import { … } from 'heatmap'", () => {
  it('replay() yields the CLI stream as records: the same version lines (format 2 by default), then the summary', async () => {
    for (const format of [2] as const) {
      const lines: string[] = [];
      let last: { type: string } | undefined;
      for await (const out of api.replay('fixtures/open-3m', { format })) {
        if (out.type === 'version' || out.type === 'gap') lines.push(api.outputBytes(out).toString('utf8'));
        last = out;
      }
      expect(last?.type).toBe('summary');
      const cli = await runCli(['replay', 'fixtures/open-3m', '--format', String(format), '--no-progress']);
      expect(lines).toEqual(cli.stdout.split('\n').filter((l) => l.startsWith('{"type":"version"') || l.startsWith('{"type":"gap"')));
    }
  });

  it('breaking out of replay() stops it early', async () => {
    let n = 0;
    for await (const out of api.replay('fixtures/open-3m')) if (out.type === 'version' && ++n === 5) break;
    expect(n).toBe(5);
  });

  it('simulate() writes the recording `heatmap sim` writes, byte for byte', async () => {
    const { dir, cleanup } = await tempDir('heatmap-api-sim-');
    try {
      const stats = await api.simulate(path.join(dir, 'lib'), { seed: 5, duration_ms: 20_000 });
      expect(stats.trades).toBeGreaterThan(100);
      const cli = await runCli(['sim', '--out', path.join(dir, 'cli'), '--seed', '5', '--duration', '20s', '--no-progress']);
      expect(cli.code, cli.stderr).toBe(0);
      for (const f of ['manifest.json', 'chain.ndjson.gz', 'options.ndjson.gz', 'indices.ndjson.gz']) {
        expect((await readFile(path.join(dir, 'lib', f))).equals(await readFile(path.join(dir, 'cli', f))), f).toBe(true);
      }
    } finally {
      await cleanup();
    }
  });
});

describe('the README backtest example', () => {
  it('is in the README verbatim, runs, and picks what the fly stream says (checked against the CLI stream)', async () => {
    const code = await readFile(path.join(ROOT, 'examples/backtest.mjs'), 'utf8');
    expect(await readFile(path.join(ROOT, 'README.md'), 'utf8')).toContain(code.trim());
    const r = await runNode(['examples/backtest.mjs', 'fixtures/open-3m']);
    expect(r.code, r.stderr).toBe(0);
    const out = parseNdjson(r.stdout);
    const picks = out.slice(0, -1) as { key: string; entry: number; exit: number | null }[];
    expect(out.at(-1)).toMatchObject({ picks: picks.length });
    expect(picks.length).toBe(3); // a 3-minute session: a pick at the first fly version, then one a minute
    // Independently: the first pick is the best-scored fly of the first fly version of the CLI stream.
    const cli = await runCli(['replay', 'fixtures/open-3m', '--format', '1', '--strategies', 'fly', '--no-progress']);
    const first = parseNdjson(cli.stdout).find((o) => o.type === 'version') as { upserts: { key: string; value: number; score: number }[] };
    const best = first.upserts.reduce((a, b) => (b.score > a.score ? b : a));
    expect(picks[0]).toMatchObject({ key: best.key, entry: best.value });
    expect(picks.at(-1)!.exit).toBeNull(); // less than a minute left after the last pick
  });
});
