/**
 * The SSE server fed by a real replay, read by a real SSE client over HTTP on 127.0.0.1:
 * snapshot then ordered diffs whose fold equals the NDJSON stream; Last-Event-ID resumption;
 * the listing, health and error endpoints; graceful shutdown. Every stream is read twice, by a
 * client that takes gzip (as browsers do) and one that does not: the events must be the same.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig, type EngineConfig } from '../src/engine/config.js';
import type { PublishedTile, VersionRecord } from '../src/engine/types.js';
import { replayRecording } from '../src/replay/replay.js';
import { outputBytes } from '../src/engine/output-lines.js';
import { SseServer } from '../src/sinks/sse.js';
import { SseTestClient, httpGet, type SseEvent } from './helpers/sse-client.js';
import { MARKET_CONFIG, writeMarket } from './helpers/sse-market.js';

interface Snapshot {
  strategy: string;
  version: number;
  at_us: number | null;
  hash: string;
  tiles: PublishedTile[];
}

/** Folds a client's events (snapshots replace, diffs upsert) into tiles by key + the version held. */
function fold(events: readonly SseEvent[]): { version: number; hash: string; tiles: Map<string, PublishedTile> } {
  let tiles = new Map<string, PublishedTile>();
  let version = -1;
  let hash = '';
  for (const e of events) {
    if (e.event === 'snapshot') {
      const s = JSON.parse(e.data) as Snapshot;
      tiles = new Map(s.tiles.map((t) => [t.key, t]));
      version = s.version;
      hash = s.hash;
    } else if (e.event === 'diff') {
      const v = JSON.parse(e.data) as VersionRecord;
      expect(v.version, 'diffs arrive in order, without gaps').toBe(version + 1);
      for (const k of v.removes) tiles.delete(k);
      for (const t of v.upserts) tiles.set(t.key, t);
      version = v.version;
      hash = v.hash;
    }
  }
  return { version, hash, tiles };
}

/** Folds NDJSON version lines of one strategy. */
function foldLines(lines: readonly string[]): Map<string, PublishedTile> {
  const tiles = new Map<string, PublishedTile>();
  for (const l of lines) for (const t of (JSON.parse(l) as VersionRecord).upserts) tiles.set(t.key, t);
  return tiles;
}

const sorted = (m: Map<string, PublishedTile>): PublishedTile[] => [...m.keys()].sort().map((k) => m.get(k)!);

describe('SSE over a replay', () => {
  let dir: string;
  let server: SseServer;
  let config: EngineConfig;
  const ndjson: string[] = [];
  const byStrategy = new Map<string, string[]>();
  const finalVersion = new Map<string, number>();
  let early: Map<string, SseTestClient>;
  let earlyGzip: Map<string, SseTestClient>;
  let midway: SseTestClient;
  let midwayGzip: SseTestClient;
  let midwayAfter = 0;
  let canonical: Map<string, PublishedTile[]>;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-sse-'));
    const { rec } = await writeMarket(dir, { seconds: 20 });
    config = validateConfig(MARKET_CONFIG);
    server = await SseServer.start({ strategies: ['single', 'vertical', 'fly'], port: 0, historyVersions: 50, heartbeatMs: 50 });
    // One client per strategy before the first input: it must see version 0, then every diff.
    early = new Map();
    earlyGzip = new Map();
    for (const s of ['single', 'vertical', 'fly']) {
      for (const [clients, gzip] of [[early, false], [earlyGzip, true]] as const) {
        const c = await SseTestClient.connect(`${server.url}/sse/heatmap/${s}`, { gzip });
        await c.until((x) => x.named('snapshot').length === 1, `${s} initial snapshot`);
        clients.set(s, c);
      }
    }
    let inputs = 0;
    await replayRecording({
      dir: rec,
      config,
      onOutput: (out) => {
        const line = outputBytes(out).toString('utf8');
        ndjson.push(line);
        if (out.type === 'version') {
          byStrategy.set(out.strategy, [...(byStrategy.get(out.strategy) ?? []), line]);
          finalVersion.set(out.strategy, out.version);
        }
        server.publish(out);
      },
      // Halfway through, a second fly client connects: it must start from a snapshot of that moment.
      drain: () => {
        if (++inputs !== 150) return undefined;
        midwayAfter = finalVersion.get('fly') ?? 0;
        return (async () => {
          midway = await SseTestClient.connect(`${server.url}/sse/heatmap/fly`);
          midwayGzip = await SseTestClient.connect(`${server.url}/sse/heatmap/fly`, { gzip: true });
          await midway.until((x) => x.named('snapshot').length === 1, 'midway snapshot');
          await midwayGzip.until((x) => x.named('snapshot').length === 1, 'midway snapshot (gzip)');
        })();
      },
    });
    // The canonical state, folded from the NDJSON lines themselves (last upsert per key, sorted by key).
    canonical = new Map(
      ['single', 'vertical', 'fly'].map((s) => {
        const tiles = new Map<string, PublishedTile>();
        for (const line of byStrategy.get(s) ?? []) for (const t of (JSON.parse(line) as { upserts: PublishedTile[] }).upserts) tiles.set(t.key, t);
        return [s, [...tiles.keys()].sort().map((k) => tiles.get(k)!)];
      }),
    );
    for (const [s, c] of [...early, ...earlyGzip]) await c.untilId(finalVersion.get(s)!);
    await midway.untilId(finalVersion.get('fly')!);
    await midwayGzip.untilId(finalVersion.get('fly')!);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('the replay publishes enough versions for the test to mean something', () => {
    for (const s of ['single', 'vertical', 'fly']) expect(finalVersion.get(s)).toBeGreaterThan(60);
    expect(midwayAfter).toBeGreaterThan(0);
  });

  it('a client connected from the start gets snapshot v0, then every diff = the NDJSON line, in order', () => {
    for (const [s, c] of early) {
      expect(c.status).toBe(200);
      expect(c.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(c.headers['access-control-allow-origin']).toBe('*');
      expect(c.retry).toBe(2000);
      const first = c.events[0]!;
      expect(first.event).toBe('snapshot');
      expect(first.id).toBe('0');
      expect(JSON.parse(first.data)).toEqual({ strategy: s, version: 0, at_us: null, hash: '', tiles: [] });
      const diffs = c.named('diff');
      expect(diffs.map((d) => d.data)).toEqual(byStrategy.get(s));
      expect(diffs.map((d) => d.id)).toEqual(diffs.map((_, i) => String(i + 1)));
      const f = fold(c.events);
      expect(sorted(f.tiles)).toEqual(sorted(foldLines(byStrategy.get(s)!)));
      expect(sorted(f.tiles)).toEqual(canonical.get(s));
    }
  });

  it('a client that takes gzip gets it, and the same events: compressed once per batch, much smaller on the wire', async () => {
    for (const [s, c] of earlyGzip) {
      expect(c.isGzip).toBe(true);
      expect(c.headers['vary']).toBe('Accept-Encoding');
      expect(early.get(s)!.isGzip).toBe(false);
      expect(early.get(s)!.headers['vary']).toBe('Accept-Encoding');
      expect(c.retry).toBe(2000);
      expect(c.events).toEqual(early.get(s)!.events);
      expect(c.events.length).toBeGreaterThan(60);
      // Independent pieces per batch cost some ratio; format 1 diffs still shrink far more than 3×.
      expect(c.wireBytes).toBeLessThan(early.get(s)!.wireBytes / 3);
      expect(c.decodeError).toBeUndefined();
    }
    expect(midwayGzip.events).toEqual(midway.events);
    const list = JSON.parse((await httpGet(`${server.url}/sse/heatmap`)).body) as { strategies: { name: string; clients: number; gzip_clients: number }[] };
    expect(list.strategies.map((x) => [x.name, x.clients, x.gzip_clients])).toEqual([['single', 2, 1], ['vertical', 2, 1], ['fly', 4, 2]]);
  });

  it('a client joining midway gets a snapshot of that version, then the following diffs; its fold equals the NDJSON fold', () => {
    const snap = midway.events[0]!;
    expect(snap.event).toBe('snapshot');
    const s = JSON.parse(snap.data) as Snapshot;
    expect(s.version).toBe(midwayAfter);
    expect(snap.id).toBe(String(midwayAfter));
    expect(s.tiles.map((t) => t.key)).toEqual([...s.tiles.map((t) => t.key)].sort());
    const lines = byStrategy.get('fly')!;
    expect(s.tiles).toEqual(sorted(foldLines(lines.slice(0, midwayAfter))));
    expect(s.hash).toBe((JSON.parse(lines[midwayAfter - 1]!) as VersionRecord).hash);
    expect(midway.named('diff').map((d) => d.data)).toEqual(lines.slice(midwayAfter));
    expect(sorted(fold(midway.events).tiles)).toEqual(canonical.get('fly'));
  });

  it('Last-Event-ID within the retained history resumes with exactly the missing diffs', async () => {
    const last = finalVersion.get('vertical')!;
    const c = await SseTestClient.connect(`${server.url}/sse/heatmap/vertical`, { lastEventId: String(last - 5) });
    await c.untilId(last);
    expect(c.named('snapshot')).toHaveLength(0);
    expect(c.named('diff').map((d) => d.data)).toEqual(byStrategy.get('vertical')!.slice(last - 5));
    c.close();
  });

  it('Last-Event-ID of the current version sends nothing to catch up; the query-string form works too', async () => {
    const last = finalVersion.get('single')!;
    const c = await SseTestClient.connect(`${server.url}/sse/heatmap/single?last_event_id=${last}`);
    await c.until((x) => x.comments.some((t) => t === `resumed at version ${last}`), 'resume comment');
    expect(c.events).toHaveLength(0);
    c.close();
  });

  it('Last-Event-ID older than the history, from the future or garbage gets a fresh snapshot', async () => {
    const last = finalVersion.get('single')!;
    for (const id of ['1', String(last + 100), 'abc']) {
      const c = await SseTestClient.connect(`${server.url}/sse/heatmap/single`, { lastEventId: id });
      await c.untilId(last);
      expect(c.events.map((e) => e.event)).toEqual(['snapshot']);
      expect((JSON.parse(c.events[0]!.data) as Snapshot).tiles).toEqual(canonical.get('single'));
      c.close();
    }
  });

  it('sends comment heartbeats', async () => {
    const c = await SseTestClient.connect(`${server.url}/sse/heatmap/fly`);
    await c.until((x) => x.comments.includes('heartbeat'), 'a heartbeat');
    c.close();
  });

  it('lists strategies with their versions; health; 404 for unknown strategies and paths; 405; CORS preflight', async () => {
    const list = await httpGet(`${server.url}/sse/heatmap`);
    expect(list.status).toBe(200);
    expect(list.headers['access-control-allow-origin']).toBe('*');
    const body = JSON.parse(list.body) as { strategies: { name: string; version: number; url: string }[] };
    expect(body.strategies.map((s) => [s.name, s.version, s.url])).toEqual(
      ['single', 'vertical', 'fly'].map((s) => [s, finalVersion.get(s), `/sse/heatmap/${s}`]),
    );
    const health = await httpGet(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    const unknown = await httpGet(`${server.url}/sse/heatmap/condor`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ strategies: ['single', 'vertical', 'fly'] });
    expect(JSON.parse(unknown.body).error).toContain('condor');
    expect((await httpGet(`${server.url}/nope`)).status).toBe(404);
    expect((await httpGet(`${server.url}/sse/heatmap/fly`, 'POST')).status).toBe(405);
    const pre = await httpGet(`${server.url}/sse/heatmap/fly`, 'OPTIONS');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-headers']).toContain('Last-Event-ID');
  });

  it('graceful shutdown: every client gets a final end event and the response ends', async () => {
    const c = await SseTestClient.connect(`${server.url}/sse/heatmap/fly`);
    await c.until((x) => x.events.length > 0, 'snapshot');
    const base = server.url;
    await server.close('shutdown');
    await c.ended;
    for (const client of [c, midway, midwayGzip, ...early.values(), ...earlyGzip.values()]) {
      await client.ended;
      const end = client.events.at(-1)!;
      expect(end.event).toBe('end');
      expect(end.id).toBeUndefined();
      expect(JSON.parse(end.data)).toMatchObject({ reason: 'shutdown' });
      // gzip: the stream ended with a whole trailer (CRC-32 and length of everything sent).
      expect(client.decodeError).toBeUndefined();
    }
    await expect(httpGet(`${base}/health`)).rejects.toThrow();
  });
});
