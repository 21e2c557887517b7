/**
 * `heatmap feed --live` (DESIGN §6): a live session (the recorder against `heatmap serve` on
 * loopback) into Redis, with its clock lines; a pipeline on the other side publishes exactly what a
 * replay of the session's recording publishes, and massive:raw holds exactly the recording's lines.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { runCli } from './helpers/cli.js';
import { startCli } from './helpers/background-cli.js';
import { startRedisServer, type RedisTestServer } from './helpers/redis-server.js';
import { writeMarket } from './helpers/sse-market.js';

let dir: string;
let massive: RunningServer;
let redis: RedisTestServer;
let config: string;
let marketRec: string;

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-redis-live-'));
  const market = await writeMarket(dir, { seconds: 12, chainAtMs: -100 });
  config = market.config;
  marketRec = market.rec;
  massive = await startServer({ dir: market.rec, port: 0, speed: 4, hold: 'client', log: () => undefined });
  redis = await startRedisServer();
});

afterAll(async () => {
  await massive?.close();
  await redis?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('feed --live', () => {
  it('a pipeline publishes what a replay of the session\'s recording publishes; raw holds the recording\'s lines, clock lines included', async () => {
    const redisArgs = ['--redis', redis.url, '--redis-prefix', 'live'];
    const pipeline = startCli(['pipeline', ...redisArgs, '--config', config]);
    await pipeline.waitForStderr('waiting for live:raw');
    const rec = path.join(dir, 'session');
    const feed = await runCli([
      'feed', '--live', ...redisArgs, '--rest-url', massive.restUrl, '--ws-url', massive.wsUrl, '--api-key', 'loopback-key',
      '--config', config, '--record', rec, '--duration', '4s', '--status-interval', '0s',
    ]);
    expect(feed.code, feed.stderr).toBe(0);
    expect(feed.stderr).toContain('end marked');
    expect(await pipeline.exited, pipeline.stderr()).toBe(0);

    const replay = await runCli(['replay', rec, '--config', config]);
    expect(replay.code).toBe(0);
    const lines = replay.stdout.trim().split('\n').filter((l) => !l.startsWith('{"type":"summary"'));
    let versions = 0;
    for (const s of ['single', 'vertical', 'fly']) {
      const want = lines.filter((l) => l.includes(`"strategy":"${s}"`) || l.startsWith('{"type":"gap"'));
      const got = ((await redis.client.xRange(`live:heatmap:${s}`, '-', '+'))!).map((e) => String(e.message['line']));
      expect(got).toEqual(want);
      versions += want.length;
    }
    expect(versions).toBeGreaterThan(20);

    // massive:raw holds the recording's lines, in replay order: the same count per stream.
    const manifest = JSON.parse(await fsp.readFile(path.join(rec, 'manifest.json'), 'utf8')) as { streams: Record<string, { lines: number }> };
    const raw = (await redis.client.xRange('live:raw', '-', '+'))!;
    const perStream: Record<string, number> = {};
    for (const e of raw) perStream[String(e.message['stream'])] = (perStream[String(e.message['stream'])] ?? 0) + 1;
    expect(perStream).toEqual(Object.fromEntries(Object.entries(manifest.streams).map(([k, v]) => [k, v.lines])));
    expect(perStream['clock']).toBeGreaterThan(0);
  }, 120_000);

  it('live --redis publishes into the strategy streams what a replay of its recording publishes', async () => {
    const own = await startServer({ dir: marketRec, port: 0, speed: 4, hold: 'client', log: () => undefined });
    try {
      const rec = path.join(dir, 'live-session');
      const live = await runCli([
        'live', '--redis', redis.url, '--redis-prefix', 'direct-live', '--rest-url', own.restUrl, '--ws-url', own.wsUrl, '--api-key', 'loopback-key',
        '--config', config, '--record', rec, '--duration', '4s', '--status-interval', '0s', '--out', '/dev/null',
      ]);
      expect(live.code, live.stderr).toBe(0);
      const replay = await runCli(['replay', rec, '--config', config]);
      const lines = replay.stdout.trim().split('\n').filter((l) => !l.startsWith('{"type":"summary"'));
      let n = 0;
      for (const s of ['single', 'vertical', 'fly']) {
        const want = lines.filter((l) => l.includes(`"strategy":"${s}"`) || l.startsWith('{"type":"gap"'));
        const got = (await redis.client.xRange(`direct-live:heatmap:${s}`, '-', '+'))!.map((e) => String(e.message['line']));
        expect(got).toEqual(want);
        n += got.length;
      }
      expect(n).toBeGreaterThan(20);
    } finally {
      await own.close();
    }
  }, 120_000);
});
