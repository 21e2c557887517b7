/**
 * One bad line costs one line: hostile or damaged lines are counted under a clean reason and
 * skipped, never abort the run, and give the same output in one thread and in workers.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tally } from '../src/engine/tally.js';
import type { RawLine } from '../src/recording/reader.js';
import { LineDecoder } from '../src/replay/decode.js';
import { parseNdjson, ROOT, runCli, tempDir } from './helpers/cli.js';

const raw = (stream: RawLine['stream'], text: string): RawLine => ({ stream, file: `${stream}.ndjson`, line_no: 7, recv_us: 1_763_735_400_000_000, text });

describe('the decoder on hostile lines', () => {
  it('a chain line with a huge or odd status counts under one bounded reason key', () => {
    const bad = new Tally();
    const d = new LineDecoder('I:SPX', bad);
    const envelope = (status: string) => `{"recv_us":1,"snapshot":1,"page":0,"last":true,"status":${status},"body":{}}`;
    expect(d.decode(raw('chain', envelope(JSON.stringify('x'.repeat(1_000_000)))))).toBeUndefined();
    expect(d.decode(raw('chain', envelope('{"a":1}')))).toBeUndefined();
    expect(d.decode(raw('chain', envelope('429')))).toBeUndefined();
    expect(bad.toJSON()).toEqual({ chain_bad_status: 2, chain_http_429: 1 });
  });

  it('a gap whose from_us is after its to_us is a bad line, not a gap', () => {
    const bad = new Tally();
    const d = new LineDecoder('I:SPX', bad);
    expect(d.decode(raw('options', '{"recv_us":5,"gap":{"stream":"options","from_us":200,"to_us":100,"reason":"disconnect"}}'))).toBeUndefined();
    expect(d.decode(raw('options', '{"recv_us":5,"gap":{"stream":"options","from_us":100,"to_us":200,"reason":"disconnect"}}'))).toMatchObject({ type: 'gap', from_us: 100, to_us: 200 });
    expect(bad.toJSON()).toEqual({ bad_gap: 1 });
  });

  it('a frame nested 100,000 deep is one bad event, and its sample stays short', () => {
    const bad = new Tally();
    const d = new LineDecoder('I:SPX', bad);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const out = d.decode(raw('options', `{"recv_us":1,"frame":[${deep}]}`));
    expect(out).toMatchObject({ type: 'facts', facts: [] });
    expect(Object.values(bad.toJSON()).reduce((a, b) => a + b, 0)).toBe(1);
    for (const samples of Object.values(bad.sampleDetails())) for (const s of samples) expect(s.length).toBeLessThanOrEqual(60);
  });
});

describe('a recording with a deeply nested line', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('heatmap-deep-'));
    await fsp.cp(path.join(ROOT, 'fixtures/open-3m'), path.join(dir, 'rec'), { recursive: true });
    const file = path.join(dir, 'rec/options.ndjson.gz');
    const lines = gunzipSync(await fsp.readFile(file)).toString('utf8').split('\n');
    const recv = /^\{"recv_us":(\d+)/.exec(lines[100]!)![1];
    lines.splice(100, 0, `{"recv_us":${recv},"frame":[${'['.repeat(20_000)}${']'.repeat(20_000)}]}`);
    await fsp.writeFile(file, gzipSync(lines.join('\n')));
  }, 60_000);
  afterAll(() => cleanup());

  it('replays to the end with exit 0, the same stream in one thread and in workers, the line counted', async () => {
    const one = await runCli(['replay', path.join(dir, 'rec'), '--jobs', '1', '--no-progress']);
    const two = await runCli(['replay', path.join(dir, 'rec'), '--jobs', '2', '--no-progress']);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    expect(one.stdout).toBe(two.stdout);
    const summary = parseNdjson(one.stdout).at(-1) as { type: string; bad: { total: number } };
    expect(summary.type).toBe('summary');
    expect(summary.bad.total).toBe(1);
    expect(one.stderr).not.toMatch(/Maximum call stack|RangeError/);
  });
});

describe('--max-line-mib', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('heatmap-longline-'));
    await fsp.cp(path.join(ROOT, 'fixtures/open-3m'), path.join(dir, 'rec'), { recursive: true });
    const file = path.join(dir, 'rec/options.ndjson.gz');
    const lines = gunzipSync(await fsp.readFile(file)).toString('utf8').split('\n');
    const recv = /^\{"recv_us":(\d+)/.exec(lines[100]!)![1];
    // A valid 2 MiB line: a frame with one huge (ignored) field.
    lines.splice(100, 0, `{"recv_us":${recv},"frame":[],"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`);
    await fsp.writeFile(file, gzipSync(lines.join('\n')));
  }, 60_000);
  afterAll(() => cleanup());

  it('replay, verify and inspect skip and count a line over the bound; the default bound keeps it', async () => {
    const rec = path.join(dir, 'rec');
    const bounded = await runCli(['replay', rec, '--max-line-mib', '1', '--no-progress']);
    expect(bounded.code, bounded.stderr).toBe(0);
    expect((parseNdjson(bounded.stdout).at(-1) as { bad: { reasons: Record<string, number> } }).bad.reasons).toEqual({ line_too_long: 1 });
    const plain = await runCli(['replay', rec, '--no-progress']);
    expect((parseNdjson(plain.stdout).at(-1) as { bad: { total: number } }).bad.total).toBe(0);
    const inspect = await runCli(['inspect', rec, '--json', '--max-line-mib', '1']);
    expect((JSON.parse(inspect.stdout) as { bad_lines: { reasons: Record<string, number> } }).bad_lines.reasons).toEqual({ line_too_long: 1 });
    const verify = await runCli(['verify', rec, '--max-line-mib', '1']);
    expect(verify.code, verify.stderr).toBe(0);
    const bad = await runCli(['replay', rec, '--max-line-mib', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-line-mib/);
  });
});
