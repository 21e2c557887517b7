/**
 * Redis going away mid-run (DESIGN §6): redis-server is stopped and started again (with its
 * append-only file on, so the data survives) while a paced feed, a pipeline and an SSE process run.
 * Each reconnects with backoff and loses nothing: the streams end equal to the replay's lines, no
 * entry twice, and an SSE client connected throughout gets every version once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startCli } from './helpers/background-cli.js';
import { startRedisServer, type RedisTestServer } from './helpers/redis-server.js';
import { SseTestClient, freePort } from './helpers/sse-client.js';
import { closeRedis, connectRedis, retrying } from '../src/redis/connection.js';
import { parseRedisTarget } from '../src/redis/target.js';

const REC = 'fixtures/open-3m';

let redis: RedisTestServer;
beforeAll(async () => {
  redis = await startRedisServer({ persist: true });
});
afterAll(async () => {
  await redis?.stop();
});

describe('redis-server restarted mid-run', () => {
  it('feed, pipeline and sse reconnect and lose nothing', async () => {
    const replay = await runCli(['replay', REC]);
    const lines = replay.stdout.trim().split('\n');
    const expected = (s: string): string[] => lines.filter((l) => l.includes(`"strategy":"${s}"`) && !l.startsWith('{"type":"summary"'));

    const args = ['--redis', redis.url, '--redis-prefix', 'fault'];
    const port = await freePort();
    const sse = startCli(['sse', ...args, '--port', String(port), '--strategies', 'fly']);
    const pipeline = startCli(['pipeline', ...args]);
    const started = [sse, pipeline];
    try {
      await pipeline.waitForStderr('waiting for fault:raw');
      const feed = startCli(['feed', REC, ...args, '--speed', '15']); // ~12 s of input
      started.push(feed);
      await sse.waitForStderr('sse: fly from fault:heatmap:fly', 60_000);
      const client = await SseTestClient.connect(`http://127.0.0.1:${port}/sse/heatmap/fly`);
      const flyLength = async (): Promise<number> => (await redis.client.xLen('fault:heatmap:fly').catch(() => 0)) as number;

      // Stop the feed once a sixth of the versions are out (it continues where it stopped, later).
      while ((await flyLength()) < 60) {
        if (pipeline.child.exitCode !== null) throw new Error(`pipeline ended early:\n${pipeline.stderr()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      feed.child.kill('SIGINT');
      expect(await feed.exited, feed.stderr()).toBe(0);
      expect(feed.stderr()).toContain('stopped early: no end marker');
      // The pipeline and the SSE process have caught up and wait in a blocking read: take Redis away
      // under them for a second.
      const caughtUp = await flyLength();
      await client.until((c) => c.events.some((e) => e.id === String(caughtUp)), `version ${caughtUp} on the client`, 30_000);
      await redis.kill();
      await new Promise((r) => setTimeout(r, 1000));
      await redis.start();
      // The rest of the input, flat out; Redis goes away again while it is being written.
      const rest = startCli(['feed', REC, ...args]);
      started.push(rest);
      const rawLength = async (): Promise<number> => (await redis.client.xLen('fault:raw').catch(() => 0)) as number;
      const stoppedAt = await rawLength();
      while ((await rawLength()) < stoppedAt + 1500 && rest.child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      await redis.kill();
      await new Promise((r) => setTimeout(r, 500));
      await redis.start();

      expect(await rest.exited, rest.stderr()).toBe(0);
      // It skipped what the first feed wrote (and what its own lost replies had written).
      const [, added, there] = /(\d+) added, (\d+) already there/.exec(rest.stderr()) ?? [];
      expect(Number(added) + Number(there)).toBe(6449);
      expect(Number(there)).toBeGreaterThanOrEqual(stoppedAt);
      expect(await pipeline.exited, pipeline.stderr()).toBe(0);
      for (const p of [pipeline, sse]) {
        expect(p.stderr()).toContain('connection lost');
        expect(p.stderr()).toContain('reconnected');
      }
      expect(await redis.client.xLen('fault:raw')).toBe(6449);
      for (const s of ['single', 'vertical', 'fly']) {
        const got = ((await redis.client.xRange(`fault:heatmap:${s}`, '-', '+'))!).map((e) => String(e.message['line']));
        expect(got.length, s).toBe(expected(s).length);
        expect(got).toEqual(expected(s));
      }

      // The SSE client saw every version after its snapshot exactly once, as the replay's lines.
      await client.until((c) => c.events.some((e) => e.id === '360'), 'version 360', 60_000);
      const [snap, ...diffs] = client.events.filter((e) => e.event === 'snapshot' || e.event === 'diff');
      const k = Number(snap!.id);
      expect(diffs.map((d) => Number(d.id))).toEqual(Array.from({ length: 360 - k }, (_, i) => k + 1 + i));
      expect(diffs.map((d) => d.data)).toEqual(expected('fly').slice(k));
      client.close();
      sse.child.kill('SIGTERM');
      expect(await sse.exited).toBe(0);
    } finally {
      for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  }, 180_000);

  it('with Redis gone for good, Ctrl-C / SIGTERM still ends sse and pipeline processes (exit 0)', async () => {
    const gone = await startRedisServer();
    const args = ['--redis', gone.url];
    const sse = startCli(['sse', ...args, '--port', String(await freePort())]);
    const pipeline = startCli(['pipeline', ...args]);
    try {
      await sse.waitForStderr('sse: serving');
      await pipeline.waitForStderr('waiting for massive:raw');
      await gone.stop();
      await sse.waitForStderr('connection lost');
      await pipeline.waitForStderr('connection lost');
      sse.child.kill('SIGTERM');
      pipeline.child.kill('SIGINT');
      expect(await sse.exited, sse.stderr()).toBe(0);
      expect(await pipeline.exited, pipeline.stderr()).toBe(0);
    } finally {
      for (const p of [sse, pipeline]) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('a command in flight when the connection drops', () => {
  // Redis is paused (CLIENT PAUSE) so the commands are certainly sent and unanswered when the
  // server goes away; it comes back with its data (append-only file) and the paused state gone.
  it('is sent again by retrying() once Redis is back; a bare command fails', async () => {
    const server = await startRedisServer({ persist: true });
    const logged: string[] = [];
    const client = await connectRedis(parseRedisTarget(server.url), { role: 'test', log: (l) => logged.push(l) });
    try {
      await client.set('k', 'before');
      await server.client.sendCommand(['CLIENT', 'PAUSE', '60000', 'ALL']);
      const bare = client.get('k').then(
        () => 'answered',
        (err: Error) => err.constructor.name,
      );
      const retried = retrying(() => client.set('k', 'after'));
      const read = retrying(() => client.get('k'));
      await new Promise((r) => setTimeout(r, 200)); // the three commands are on the wire
      await server.kill();
      expect(await bare).toBe('SocketClosedUnexpectedlyError');
      await server.start();
      expect(await retried).toBe('OK');
      expect(await read).not.toBeNull();
      expect(await client.get('k')).toBe('after');
      expect(logged.some((l) => l.includes('connection lost'))).toBe(true);
    } finally {
      await closeRedis(client);
      await server.stop();
    }
  }, 120_000);
});
