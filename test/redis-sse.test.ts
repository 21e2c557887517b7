/**
 * `heatmap sse --redis` (DESIGN §6): SSE served from the strategy streams. Two processes serve
 * identical events; the snapshot is the state `replay --keyframes` computes in one process; diffs
 * are the replay's lines byte for byte; `Last-Event-ID` resumes from the history loaded from Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startCli, type BackgroundCli } from './helpers/background-cli.js';
import { startRedisServer, type RedisTestServer } from './helpers/redis-server.js';
import { SseTestClient, freePort, httpGet } from './helpers/sse-client.js';

const REC = 'fixtures/open-3m';

let redis: RedisTestServer;
const servers: BackgroundCli[] = [];
let urls: string[] = [];
/** `replay REC` fly lines (format 2), and its keyframe after the last version. */
let flyLines: string[];
let finalKeyframe: string;
/** A client connected while the pipeline was publishing. */
let early: SseTestClient;

beforeAll(async () => {
  redis = await startRedisServer();
  const replay = await runCli(['replay', REC, '--strategies', 'fly', '--keyframes', '360']);
  expect(replay.code).toBe(0);
  const lines = replay.stdout.trim().split('\n');
  flyLines = lines.filter((l) => l.startsWith('{"type":"version"'));
  expect(flyLines.length).toBe(360);
  finalKeyframe = lines.find((l) => l.startsWith('{"type":"snapshot"'))!;

  // Two SSE processes, started before anything is published: they find the streams as they appear.
  const ports = [await freePort(), await freePort()];
  for (const port of ports) servers.push(startCli(['sse', '--redis', redis.url, '--redis-prefix', 'web', '--port', String(port)]));
  urls = ports.map((p) => `http://127.0.0.1:${p}`);
  for (const s of servers) await s.waitForStderr('sse: serving web:heatmap:*');
  // A paced feed (~9 s of input) that the pipeline follows: the early client joins mid-run.
  const feed = runCli(['feed', REC, '--redis', redis.url, '--redis-prefix', 'web', '--speed', '20']);
  const pipeline = startCli(['pipeline', '--redis', redis.url, '--redis-prefix', 'web', '--strategies', 'fly', '--snapshot-every', '50']);
  await servers[0]!.waitForStderr('sse: fly from web:heatmap:fly');
  early = await SseTestClient.connect(`${urls[0]}/sse/heatmap/fly`);
  expect((await feed).code).toBe(0);
  expect(await pipeline.exited).toBe(0);
  await early.until((c) => c.events.some((e) => e.id === '360'), 'version 360 on the early client', 60_000);
  for (const s of servers) await s.waitForStderr('sse: fly from web:heatmap:fly');
}, 180_000);

afterAll(async () => {
  for (const s of servers) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
  await redis?.stop();
});

describe('heatmap sse --redis', () => {
  it('a client connected mid-run gets a snapshot, then every later version as the replay\'s own line', () => {
    const [first, ...rest] = early.events.filter((e) => e.event === 'snapshot' || e.event === 'diff');
    expect(first!.event).toBe('snapshot');
    const k = Number(first!.id);
    expect(k).toBeLessThan(360); // it did join before the end
    const snap = JSON.parse(first!.data) as { version: number; hash: string };
    expect(snap.version).toBe(k);
    if (k > 0) expect(snap.hash).toBe((JSON.parse(flyLines[k - 1]!) as { hash: string }).hash);
    expect(rest.map((e) => e.event)).toEqual(rest.map(() => 'diff'));
    expect(rest.map((e) => Number(e.id))).toEqual(Array.from({ length: 360 - k }, (_, i) => k + 1 + i));
    expect(rest.map((e) => e.data)).toEqual(flyLines.slice(k));
  });

  it('two processes serve the same snapshot: the state replay --keyframes computes, in format 2', async () => {
    const snaps: string[] = [];
    for (const url of urls) {
      const c = await SseTestClient.connect(`${url}/sse/heatmap/fly`);
      await c.until((x) => x.events.length > 0, 'the snapshot');
      expect([c.events[0]!.event, c.events[0]!.id]).toEqual(['snapshot', '360']);
      snaps.push(c.events[0]!.data);
      c.close();
    }
    expect(snaps[1]).toBe(snaps[0]);
    expect(`{"type":"snapshot",${snaps[0]!.slice(1)}`).toBe(finalKeyframe);
  });

  it('Last-Event-ID resumes with the missed diffs on either process, identical bytes', async () => {
    const got: string[][] = [];
    for (const url of urls) {
      const c = await SseTestClient.connect(`${url}/sse/heatmap/fly`, { lastEventId: '340' });
      await c.until((x) => x.events.filter((e) => e.event === 'diff').length >= 20, 'diffs 341..360');
      got.push(c.events.filter((e) => e.event === 'diff').map((e) => `${e.id} ${e.data}`));
      expect(c.events.some((e) => e.event === 'snapshot')).toBe(false);
      c.close();
    }
    expect(got[1]).toEqual(got[0]);
    expect(got[0]).toEqual(flyLines.slice(340).map((l, i) => `${341 + i} ${l}`));
  });

  it('serves the web view at / (the same page as replay --sse)', async () => {
    const page = await httpGet(`${urls[0]}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="web/app.js"></script>');
  });

  it('lists the strategies it found and answers 404 with the valid names for others', async () => {
    const list = JSON.parse((await httpGet(`${urls[1]}/sse/heatmap`)).body) as { strategies: { name: string; version: number }[] };
    expect(list.strategies.map((s) => [s.name, s.version])).toEqual([['fly', 360]]);
    const missing = await httpGet(`${urls[1]}/sse/heatmap/single`);
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('valid: fly');
  });
});
