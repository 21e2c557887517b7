/**
 * Strategies are peers (DESIGN §2.4): with per-strategy outputs (`replay --sse`) every strategy
 * runs in a worker thread of its own. A strategy module that busy-loops, throws or allocates
 * without bound is reported — `{"type":"error",…,"reason":…}` in the NDJSON, SSE `event: failed` —
 * and stopped, and the other strategies' streams carry every one of their versions, byte for byte
 * what a run without the bad module publishes. Real files, real threads, a real SSE client.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLiveCommand } from '../src/cli/live-run.js';
import { startServer } from '../src/serve/server.js';
import { startCli } from './helpers/background-cli.js';
import { ROOT, parseNdjson, runCli, tempDirsPerTest } from './helpers/cli.js';
import { singleLike } from './helpers/modules.js';
import { SseTestClient, freePort, httpGet } from './helpers/sse-client.js';
import { writeMarket } from './helpers/sse-market.js';

const tmp = tempDirsPerTest('heatmap-isolation-');
const OPEN = path.join(ROOT, 'fixtures', 'open-3m');
const GOOD = ['single', 'vertical', 'fly'];

/**
 * A module whose strategy prices single contracts and, from its Nth score on, does `act` (the N-th
 * score call happens at the same input in every run: the engine is deterministic).
 */
function badModule(name: string, after: number, act: string): string {
  return singleLike(name, `if (++calls > ${after}) { ${act} } return value;`, 'let calls = 0;\nconst hoard = [];');
}

/** The version lines of one strategy in an NDJSON text. */
const linesOf = (text: string, strategy: string): string[] => text.split('\n').filter((l) => l.startsWith(`{"type":"version","format":2,"strategy":${JSON.stringify(strategy)},`));

/** The stream without the bad module: what every good strategy must publish, byte for byte. */
let reference: Promise<string> | undefined;
function referenceRun(): Promise<string> {
  reference ??= runCli(['replay', OPEN, '--no-progress']).then((r) => {
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  });
  return reference;
}

describe('replay --sse when nothing fails', () => {
  it('writes the one-thread replay\'s stream byte for byte: gap lines, bad lines, keyframes, format 1', async () => {
    const dir = await tmp();
    // the damaged fixture (bad lines, a torn tail) with two recorded gaps in the index stream
    const rec = path.join(dir, 'gappy');
    await cp(path.join(ROOT, 'fixtures', 'damaged-1m'), rec, { recursive: true });
    const idx = path.join(rec, 'indices.ndjson.gz');
    const lines = gunzipSync(await readFile(idx)).toString('utf8').split('\n');
    for (const at of [40, 25]) {
      // on the next tick after an index value: that tick runs (and publishes) before the gap's input
      const recv = Math.ceil(((JSON.parse(lines[at]!) as { recv_us: number }).recv_us + 1) / 100_000) * 100_000;
      lines.splice(at + 1, 0, JSON.stringify({ recv_us: recv, gap: { stream: 'indices', from_us: recv - 3_000_000, to_us: recv, reason: 'disconnect' } }));
    }
    await writeFile(idx, gzipSync(lines.join('\n')));
    // publish at ticks only (every 100 ms with a change): versions of every strategy come right
    // before each input, ahead of the input's own lines — a gap line among them is in its place
    const config = path.join(dir, 'ticks.json');
    const publish = { min_changed: null, min_changed_pct: null, max_interval_ms: 100, min_interval_ms: 0 };
    await writeFile(config, JSON.stringify({ strategies: { single: { publish }, vertical: { publish }, fly: { publish } } }));
    const piped = path.join(dir, 'sse.ndjson');
    const args = [rec, '--config', config, '--format', '1', '--keyframes', '5', '--no-progress'];
    const withSse = await runCli(['replay', ...args, '--sse', '0', '--sse-exit', '--out', piped]);
    expect(withSse.code, withSse.stderr).toBe(0);
    const inProcess = await runCli(['replay', ...args, '--jobs', '1']);
    const text = await readFile(piped, 'utf8');
    expect(text).toBe(inProcess.stdout);
    const out = parseNdjson(text);
    const gaps = out.flatMap((o, i) => (o.type === 'gap' ? [i] : []));
    expect(gaps).toHaveLength(2);
    for (const i of gaps) expect(out[i - 1], 'a tick\'s version at the gap\'s time, just before it').toMatchObject({ type: 'version', at_us: out[i]!.at_us });
    expect(out.filter((o) => o.type === 'snapshot').length).toBeGreaterThan(3);
    expect((out.at(-1) as { bad: { total: number } }).bad.total).toBeGreaterThan(0);
  });
});

describe('replay --sse with a strategy module that stops finishing its inputs', () => {
  it('the others\' SSE streams get every version before the watchdog even declares it; it gets `failed`; the NDJSON waits for it only until then', async () => {
    const dir = await tmp();
    const module = path.join(dir, 'spin.mjs');
    await writeFile(module, badModule('spin', 5000, 'for (;;) {}'));
    const merged = path.join(dir, 'merged.ndjson');
    const ref = await referenceRun();
    const lastVersion = (s: string): number => linesOf(ref, s).length;

    const bg = startCli(['replay', OPEN, '--sse', '0', '--strategy-module', module, '--stall-timeout', '15s', '--out', merged, '--no-progress']);
    try {
      await bg.waitForStderr(/SSE: serving 4 strategies on (http:\/\/\S+)\/sse\/heatmap/);
      const base = /SSE: serving 4 strategies on (http:\/\/\S+)\/sse\/heatmap/.exec(bg.stderr())![1]!;
      // Last-Event-ID 0: every diff from version 1 on, however early or late the client connects.
      const clients = new Map<string, SseTestClient>();
      for (const s of [...GOOD, 'spin']) clients.set(s, await SseTestClient.connect(`${base}/sse/heatmap/${s}`, { lastEventId: '0' }));
      const spin = clients.get('spin')!;
      await spin.until((c) => c.named('failed').length === 1, 'spin fails', 120_000);
      // When the watchdog declares it, the other strategies have already published all they ever will.
      for (const s of GOOD) expect(clients.get(s)!.named('diff').at(-1)?.id, `${s}: every version before spin's failure`).toBe(String(lastVersion(s)));

      await bg.waitForStderr('SSE: input ended'); // the replay is over, its NDJSON complete
      bg.child.kill('SIGINT');
      expect(await bg.exited).toBe(0);
      for (const c of clients.values()) await c.ended;

      const failed = JSON.parse(spin.named('failed')[0]!.data) as Record<string, unknown>;
      expect(failed).toMatchObject({ type: 'error', strategy: 'spin', reason: 'stalled', message: expect.stringMatching(/no input finished within 15 s/) });
      const text = await readFile(merged, 'utf8');
      for (const s of GOOD) {
        // every version as a diff, in order, byte for byte the line of a run without the module
        expect(clients.get(s)!.named('diff').map((e) => e.data), s).toEqual(linesOf(ref, s));
        expect(linesOf(text, s), s).toEqual(linesOf(ref, s));
      }
      // The stalled strategy: what it published before it stopped, the same on SSE and in the NDJSON.
      const spinDiffs = spin.named('diff').map((e) => e.data);
      expect(spinDiffs.length).toBeGreaterThan(10);
      expect(spinDiffs.length).toBeLessThan(lastVersion('single'));
      expect(linesOf(text, 'spin')).toEqual(spinDiffs);
      const kinds = spin.events.map((e) => e.event).filter((e) => e !== 'snapshot' && e !== 'message');
      expect(kinds.slice(-2)).toEqual(['failed', 'end']); // nothing of it after `failed`

      const out = parseNdjson(text);
      const errorAt = out.findIndex((o) => o.type === 'error');
      expect(out.filter((o) => o.type === 'error')).toEqual([failed]);
      // its error line sits in engine-time order among the others' lines, after its own last version
      const at = (o: Record<string, unknown>): number => o.at_us as number;
      expect(out.slice(0, errorAt).every((o) => o.type !== 'version' || at(o) <= at(failed))).toBe(true);
      expect(out.slice(errorAt + 1, -1).every((o) => at(o) >= at(failed))).toBe(true);
      expect(out.slice(errorAt + 1).some((o) => o.type === 'version' && o.strategy === 'spin')).toBe(false);
      const summary = out.at(-1) as { strategies: Record<string, { versions: number; error?: string }> };
      expect(summary.strategies.spin).toMatchObject({ versions: spinDiffs.length, error: expect.stringMatching(/^stalled: /) });
      for (const s of GOOD) expect(summary.strategies[s]!.versions).toBe(lastVersion(s));
      expect(bg.stderr()).toMatch(/spin .*FAILED: stalled/);
    } finally {
      bg.child.kill('SIGKILL');
      await bg.exited;
    }
  });
});

describe('replay --sse with a strategy module that throws', () => {
  it('its error line (reason "threw") and the others\' lines: the same stream as the in-process replay, byte for byte', async () => {
    const dir = await tmp();
    const module = path.join(dir, 'boom.mjs');
    await writeFile(module, badModule('boom', 5000, "throw new Error('the model diverged');"));
    // The built-ins publish after every input that moves a tile: lines of the others at the very
    // input where it throws, so the error line's place among them is pinned down.
    const config = path.join(dir, 'eager.json');
    const publish = { min_changed: 1, min_changed_pct: null, min_score_delta: null, max_interval_ms: null, min_interval_ms: 0 };
    await writeFile(config, JSON.stringify({ strategies: { single: { publish }, vertical: { publish }, fly: { publish } } }));
    const piped = path.join(dir, 'sse.ndjson');
    const withSse = await runCli(['replay', OPEN, '--config', config, '--sse', '0', '--sse-exit', '--strategy-module', module, '--out', piped, '--no-progress']);
    expect(withSse.code, withSse.stderr).toBe(0);
    const inProcess = await runCli(['replay', OPEN, '--config', config, '--jobs', '1', '--strategy-module', module, '--no-progress']);
    expect(await readFile(piped, 'utf8')).toBe(inProcess.stdout);
    const out = parseNdjson(inProcess.stdout);
    expect(out.filter((o) => o.type === 'error')).toEqual([{ type: 'error', strategy: 'boom', at_us: expect.any(Number), reason: 'threw', message: 'the model diverged' }]);
    // others publish at the input where it threw, after its error line
    const errorAt = out.findIndex((o) => o.type === 'error');
    expect(out[errorAt + 1]).toMatchObject({ type: 'version', at_us: out[errorAt]!.at_us });
    const ref = await runCli(['replay', OPEN, '--config', config, '--no-progress']);
    for (const s of GOOD) expect(linesOf(inProcess.stdout, s), s).toEqual(linesOf(ref.stdout, s));
    expect(withSse.stderr).toMatch(/boom .*FAILED: the model diverged/);
  });
});

describe('replay --sse with a strategy module that allocates without bound', () => {
  it('its thread reaches --pipeline-heap and is stopped (reason "out_of_memory"); the others publish everything', async () => {
    const dir = await tmp();
    const module = path.join(dir, 'hog.mjs');
    await writeFile(module, badModule('hog', 5000, 'for (;;) hoard.push(new Array(100000).fill(calls));'));
    const piped = path.join(dir, 'sse.ndjson');
    const r = await runCli(['replay', OPEN, '--sse', '0', '--sse-exit', '--strategy-module', module, '--pipeline-heap', '64', '--out', piped, '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const text = await readFile(piped, 'utf8');
    const out = parseNdjson(text);
    expect(out.filter((o) => o.type === 'error')).toEqual([
      { type: 'error', strategy: 'hog', at_us: expect.any(Number), reason: 'out_of_memory', message: 'ran out of memory (heap limit 64 MiB, --pipeline-heap) and was stopped' },
    ]);
    const ref = await referenceRun();
    for (const s of GOOD) expect(linesOf(text, s), s).toEqual(linesOf(ref, s));
    const summary = out.at(-1) as { strategies: Record<string, { versions: number; error?: string }> };
    expect(summary.strategies.hog!.error).toMatch(/^out_of_memory: /);
    expect(summary.strategies.hog!.versions).toBe(linesOf(text, 'hog').length);
    expect(r.stderr).toMatch(/hog .*FAILED: out_of_memory/);
  });
});

describe('live with a strategy module that stops finishing its inputs (the same worker pipelines)', () => {
  it('it is reported as stalled on SSE and in the NDJSON, and the other strategies keep publishing after that', async () => {
    const dir = await tmp();
    const module = path.join(dir, 'spin.mjs');
    await writeFile(module, badModule('spin', 200, 'for (;;) {}'));
    // A Massive-compatible server over a 30-second market, played at 4×: 7.5 s of feed.
    const { rec, config } = await writeMarket(dir, { seconds: 30, chainAtMs: -100 });
    const massive = await startServer({ dir: rec, port: 0, speed: 4, hold: 'client', log: () => undefined });
    const ssePort = await freePort();
    const out = path.join(dir, 'live.ndjson');
    try {
      const session = runLiveCommand({
        underlying: 'I:SPX',
        restUrl: massive.restUrl,
        wsUrl: massive.wsUrl,
        apiKey: 'loopback-key',
        config,
        strategyModule: [module],
        stallTimeout: '1s',
        out,
        sse: String(ssePort),
        duration: '6s',
        statusInterval: '0s',
      });
      const base = `http://127.0.0.1:${ssePort}`;
      for (let i = 0; i < 200 && (await httpGet(`${base}/health`).then((r) => r.status, () => 0)) !== 200; i++) await new Promise((r) => setTimeout(r, 25));
      const single = await SseTestClient.connect(`${base}/sse/heatmap/single`, { lastEventId: '0' });
      const spin = await SseTestClient.connect(`${base}/sse/heatmap/spin`, { lastEventId: '0' });
      await spin.until((c) => c.named('failed').length === 1, 'spin fails', 30_000);
      const singleAtFailure = single.named('diff').length;
      await session;
      await single.ended;
      // the feed went on after the watchdog stopped spin, and so did single's versions
      expect(single.named('diff').length).toBeGreaterThan(singleAtFailure);
      expect(JSON.parse(spin.named('failed')[0]!.data)).toMatchObject({ type: 'error', strategy: 'spin', reason: 'stalled' });
      const text = await readFile(out, 'utf8');
      expect(linesOf(text, 'single')).toEqual(single.named('diff').map((e) => e.data));
      const lines = parseNdjson(text);
      expect(lines.filter((o) => o.type === 'error')).toEqual([JSON.parse(spin.named('failed')[0]!.data)]);
      const summary = lines.at(-1) as { strategies: Record<string, { error?: string }> };
      expect(summary.strategies.spin!.error).toMatch(/^stalled: no input finished within 1 s/);
      expect(summary.strategies.single!.error).toBeUndefined();
    } finally {
      await massive.close();
    }
  });
});
