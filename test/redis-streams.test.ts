/**
 * Scale-out on Redis Streams (DESIGN §6) against a real redis-server: `feed` + `pipeline` processes
 * publish exactly the lines of `heatmap replay` per strategy, whatever the number of processes and
 * their start order; re-feeding and restarting add nothing; another history is refused.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startCli } from './helpers/background-cli.js';
import { startRedisServer, type RedisTestServer } from './helpers/redis-server.js';
import { singleLike } from './helpers/modules.js';

const REC = 'fixtures/open-3m';
const STRATEGIES = ['single', 'vertical', 'fly'] as const;

let redis: RedisTestServer;
/** `heatmap replay REC` (format 2), per strategy: its version lines and the gap lines, in order. */
const expected = new Map<string, string[]>();

beforeAll(async () => {
  redis = await startRedisServer();
  const replay = await runCli(['replay', REC]);
  expect(replay.code).toBe(0);
  const lines = replay.stdout.trim().split('\n');
  for (const s of STRATEGIES) {
    expected.set(s, lines.filter((l) => {
      const o = JSON.parse(l) as { type: string; strategy?: string };
      return o.type !== 'summary' && (o.strategy === s || o.type === 'gap');
    }));
  }
  // The fixture publishes hundreds of versions per strategy: the comparison below has teeth.
  for (const s of STRATEGIES) expect(expected.get(s)!.length).toBeGreaterThan(300);
});

afterAll(async () => {
  await redis?.stop();
});

async function streamLines(prefix: string, strategy: string): Promise<{ ids: string[]; lines: string[] }> {
  const entries = (await redis.client.xRange(`${prefix}:heatmap:${strategy}`, '-', '+'))!;
  return { ids: entries.map((e) => e.id), lines: entries.map((e) => String(e.message['line'])) };
}

async function expectSameAsReplay(prefix: string): Promise<void> {
  for (const s of STRATEGIES) {
    const got = await streamLines(prefix, s);
    const want = expected.get(s)!;
    expect(got.lines.length, `${prefix}:heatmap:${s} entries`).toBe(want.length);
    for (let i = 0; i < want.length; i++) if (got.lines[i] !== want[i]) expect(got.lines[i], `${s} entry ${i}`).toBe(want[i]);
    // IDs: <version>-0 for version lines (this fixture has no gap or error lines).
    expect(got.ids.every((id, i) => id === `${(JSON.parse(want[i]!) as { version: number }).version}-0`)).toBe(true);
  }
}

const redisArgs = (prefix: string): string[] => ['--redis', redis.url, '--redis-prefix', prefix];

describe('feed + pipeline on Redis equal the single-process replay, byte for byte', () => {
  it('one pipeline process after the feed', async () => {
    const feed = await runCli(['feed', REC, ...redisArgs('one')]);
    expect(feed.stderr).toContain('6449 added, 0 already there');
    expect(feed.code).toBe(0);
    const pipe = await runCli(['pipeline', ...redisArgs('one')]);
    expect(pipe.code, pipe.stderr).toBe(0);
    await expectSameAsReplay('one');
    // The snapshot key is the state of the last version (format 2 body, as SSE's snapshot event).
    const lastFly = JSON.parse(expected.get('fly')!.at(-1)!) as { version: number; hash: string };
    const snap = JSON.parse((await redis.client.get('one:heatmap:fly:snapshot'))!) as { format: number; version: number; hash: string; tiles: unknown[] };
    expect([snap.format, snap.version, snap.hash]).toEqual([2, lastFly.version, lastFly.hash]);
    expect(snap.tiles.length).toBe(540); // every fly slot of the fixture is populated at the end
  });

  it('two pipeline processes started before the feed, then three started in another order around it', async () => {
    const a = startCli(['pipeline', ...redisArgs('two'), '--strategies', 'single,fly']);
    const b = startCli(['pipeline', ...redisArgs('two'), '--strategies', 'vertical']);
    await a.waitForStderr('waiting for two:raw');
    await b.waitForStderr('waiting for two:raw');
    expect((await runCli(['feed', REC, ...redisArgs('two')])).code).toBe(0);
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    await expectSameAsReplay('two');

    const fly = startCli(['pipeline', ...redisArgs('three'), '--strategies', 'fly']);
    await fly.waitForStderr('waiting for three:raw');
    const feed = runCli(['feed', REC, ...redisArgs('three'), '--speed', '60']);
    const single = startCli(['pipeline', ...redisArgs('three'), '--strategies', 'single']);
    expect((await feed).code).toBe(0);
    const vertical = startCli(['pipeline', ...redisArgs('three'), '--strategies', 'vertical']);
    expect([await fly.exited, await single.exited, await vertical.exited]).toEqual([0, 0, 0]);
    await expectSameAsReplay('three');
  });

  it('feeding again adds nothing; a rerun pipeline checks every entry and adds nothing', async () => {
    expect((await runCli(['feed', REC, ...redisArgs('again')])).code).toBe(0);
    expect((await runCli(['pipeline', ...redisArgs('again')])).code).toBe(0);
    const refeed = await runCli(['feed', REC, ...redisArgs('again')]);
    expect(refeed.code).toBe(0);
    expect(refeed.stderr).toContain('0 added, 6449 already there');
    expect(await redis.client.xLen('again:raw')).toBe(6449);
    const rerun = await runCli(['pipeline', ...redisArgs('again'), '--strategies', 'fly']);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(`fly: version 360, 0 added, 360 already there`);
    await expectSameAsReplay('again');
  });

  it('a pipeline killed with SIGKILL mid-run and restarted: no gap, no duplicate, the same lines as the replay', async () => {
    const feed = runCli(['feed', REC, ...redisArgs('kill'), '--speed', '30']); // ~6 s of input
    const first = startCli(['pipeline', ...redisArgs('kill')]);
    // Kill it once it has published some versions but not all.
    for (;;) {
      const n = await redis.client.xLen('kill:heatmap:fly');
      if (n >= 40) break;
      if (first.child.exitCode !== null) throw new Error(`pipeline ended before the kill:\n${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const before = await redis.client.xLen('kill:heatmap:fly');
    expect(before).toBeLessThan(360);
    const second = await runCli(['pipeline', ...redisArgs('kill')]);
    expect(second.code, second.stderr).toBe(0);
    expect((await feed).code).toBe(0);
    // It checked what the killed one wrote (equal), and wrote only the rest.
    const verified = Number(/fly: version 360, (\d+) added, (\d+) already there/.exec(second.stderr)?.[2]);
    expect(verified).toBeGreaterThanOrEqual(before);
    await expectSameAsReplay('kill');
  });
});

describe('replay --redis publishes directly', () => {
  it('the same entries as feed + pipeline (a pipeline on the same keys only checks them), in one thread and with --sse worker pipelines', async () => {
    const direct = await runCli(['replay', REC, ...redisArgs('direct'), '--out', '/dev/null']);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).toContain('redis: 1080 entries added');
    await expectSameAsReplay('direct');
    expect((await runCli(['feed', REC, ...redisArgs('direct')])).code).toBe(0);
    const check = await runCli(['pipeline', ...redisArgs('direct')]);
    expect(check.code).toBe(0);
    for (const s of STRATEGIES) expect(check.stderr).toContain(`${s}: version 360, 0 added, 360 already there`);

    const withSse = await runCli(['replay', REC, ...redisArgs('direct-sse'), '--sse', '0', '--sse-exit', '--out', '/dev/null']);
    expect(withSse.code, withSse.stderr).toBe(0);
    await expectSameAsReplay('direct-sse');
  });
});

describe('a strategy that stalls in a pipeline process', () => {
  it('gets an error line (reason "stalled") as the last entry of its stream; the other strategies of the process publish everything', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'heatmap-redis-spin-'));
    try {
      const module = path.join(dir, 'spin.mjs');
      // Prices single contracts; from its 3000th score on it never returns.
      await writeFile(module, singleLike('spin', 'if (++calls > 3000) for (;;) {} return value;', 'let calls = 0;'));
      expect((await runCli(['feed', REC, ...redisArgs('spin')])).code).toBe(0);
      const pipe = await runCli(['pipeline', ...redisArgs('spin'), '--strategy-module', module, '--stall-timeout', '2s']);
      expect(pipe.code, pipe.stderr).toBe(0);
      expect(pipe.stderr).toMatch(/spin: version \d+, \d+ added, 0 already there — FAILED: stalled/);
      await expectSameAsReplay('spin');
      const spin = await streamLines('spin', 'spin');
      const last = JSON.parse(spin.lines.at(-1)!) as { type: string; strategy: string; reason: string };
      expect(last).toMatchObject({ type: 'error', strategy: 'spin', reason: 'stalled' });
      const versions = spin.lines.length - 1;
      expect(versions).toBeGreaterThan(5);
      expect(spin.ids.at(-1)).toBe(`${versions}-1`); // the line after its last version
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('trimming (--redis-maxlen)', () => {
  it('keeps about the newest N entries, equal to the replay\'s tail; a restart checks what is left and adds nothing', async () => {
    expect((await runCli(['feed', REC, ...redisArgs('trim')])).code).toBe(0);
    const first = await runCli(['pipeline', ...redisArgs('trim'), '--strategies', 'single', '--redis-maxlen', '100']);
    expect(first.code).toBe(0);
    const got = await streamLines('trim', 'single');
    const want = expected.get('single')!;
    // MAXLEN ~ trims whole macro nodes: at least 100 entries stay, never all 360.
    expect(got.lines.length).toBeGreaterThanOrEqual(100);
    expect(got.lines.length).toBeLessThan(360);
    expect(got.lines).toEqual(want.slice(want.length - got.lines.length));
    const rerun = await runCli(['pipeline', ...redisArgs('trim'), '--strategies', 'single', '--redis-maxlen', '100']);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(`single: version 360, 0 added, ${got.lines.length} already there, ${360 - got.lines.length} trimmed before the check`);
    // An entry removed from the middle of what is left is not trimming: another history.
    await redis.client.xDel('trim:heatmap:single', got.ids[got.ids.length - 10]!);
    const holed = await runCli(['pipeline', ...redisArgs('trim'), '--strategies', 'single', '--redis-maxlen', '100']);
    expect(holed.code).toBe(2);
    expect(holed.stderr).toContain(`trim:heatmap:single already holds a different history (entry ${got.ids[got.ids.length - 10]} is missing from it)`);
  });
});

describe('another history under the same keys is refused with exit 2 naming --redis-prefix', () => {
  it('feeding another recording', async () => {
    expect((await runCli(['feed', REC, ...redisArgs('hist')])).code).toBe(0);
    const other = await runCli(['feed', 'fixtures/closed-30m', ...redisArgs('hist')]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/^heatmap: hist:raw already holds a different history .*--redis-prefix/m);
    expect(await redis.client.xLen('hist:raw')).toBe(6449); // nothing was added
  });

  it('a pipeline whose stream holds another line at one of its IDs', async () => {
    expect((await runCli(['feed', REC, ...redisArgs('tamper')])).code).toBe(0);
    expect((await runCli(['pipeline', ...redisArgs('tamper'), '--strategies', 'single'])).code).toBe(0);
    // Rewrite entry 5-0 of the stream with another line (a different history, as another config would make).
    const entries = (await redis.client.xRange('tamper:heatmap:single', '-', '+'))!;
    await redis.client.del('tamper:heatmap:single');
    for (const e of entries) await redis.client.xAdd('tamper:heatmap:single', e.id, { line: e.id === '5-0' ? e.message['line']!.replace('"version":5', '"version":5 ') : e.message['line']! });
    const rerun = await runCli(['pipeline', ...redisArgs('tamper'), '--strategies', 'single']);
    expect(rerun.code).toBe(2);
    expect(rerun.stderr).toContain('tamper:heatmap:single already holds a different history (entry 5-0 is not the line this pipeline computes)');
    expect(rerun.stderr).toContain('--redis-prefix');
  });
});

describe('keys of another type under the prefix are refused (exit 2, naming the key), not waited on for ever', () => {
  it('a raw key that is not a stream, a meta key that is not a string, an end marker that is not a string', async () => {
    await redis.client.set('wrongraw:raw', 'not a stream');
    const raw = await runCli(['pipeline', ...redisArgs('wrongraw')]);
    expect(raw.code, raw.stderr).toBe(2);
    expect(raw.stderr).toMatch(/^heatmap: Redis refused to read wrongraw:raw:meta or wrongraw:raw: WRONGTYPE .*--redis-prefix/m);

    await redis.client.hSet('wrongmeta:raw:meta', 'underlying', 'I:SPX');
    const meta = await runCli(['pipeline', ...redisArgs('wrongmeta')]);
    expect(meta.code, meta.stderr).toBe(2);
    expect(meta.stderr).toMatch(/^heatmap: Redis refused to read wrongmeta:raw:meta or wrongmeta:raw: WRONGTYPE/m);

    expect((await runCli(['feed', REC, ...redisArgs('wrongend')])).code).toBe(0);
    const end = (await redis.client.get('wrongend:raw:end'))!;
    await redis.client.del('wrongend:raw:end');
    await redis.client.hSet('wrongend:raw:end', 'id', end);
    const tail = await runCli(['pipeline', ...redisArgs('wrongend'), '--strategies', 'single']);
    expect(tail.code, tail.stderr).toBe(2);
    expect(tail.stderr).toMatch(/^heatmap: Redis refused to read wrongend:raw:end: WRONGTYPE/m);
    expect(tail.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('Redis unreachable or protected', () => {
  it('exit 1 with a clear message, and the URL password never printed', async () => {
    const port = redis.port + 1 === 65536 ? redis.port - 1 : redis.port + 1; // nothing listens next door (checked below)
    const url = `redis://:hunter2-secret@127.0.0.1:${port}`;
    for (const args of [['feed', REC, '--redis', url], ['pipeline', '--redis', url], ['sse', '--redis', url, '--port', '0']]) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`heatmap: cannot reach Redis at redis://***@127.0.0.1:${port} (ECONNREFUSED)`);
      expect(r.stderr + r.stdout).not.toContain('hunter2');
    }
  });

  it('a wrong password: exit 1, password not shown; the right one works and is not shown either', async () => {
    const secured = await startRedisServer({ password: 'right-horse-battery' });
    try {
      const wrong = await runCli(['feed', REC, '--redis', `redis://:wrong-horse-staple@127.0.0.1:${secured.port}`]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+ \(.*(WRONGPASS|invalid).*\)/);
      expect(wrong.stderr).not.toContain('wrong-horse-staple');
      const right = await runCli(['feed', REC, '--redis', secured.url]);
      expect(right.code, right.stderr).toBe(0);
      expect(right.stderr).not.toContain('right-horse-battery');
      expect(right.stderr).toContain('redis://***@127.0.0.1');
    } finally {
      await secured.stop();
    }
  });

  it('bad flags: exit 2', async () => {
    const notUrl = await runCli(['feed', REC, '--redis', 'localhost:6379']);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toContain('--redis: "localhost:6379" must start with redis://, rediss:// or unix://');
    const prefix = await runCli(['pipeline', '--redis', redis.url, '--redis-prefix', 'a b']);
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toContain('--redis-prefix: "a b" must be');
    const neither = await runCli(['feed', '--redis', redis.url]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('feed needs a recording directory, or --live');
  });
});
