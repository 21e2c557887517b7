/**
 * Slow and stuck SSE clients over real loopback HTTP: a client that never reads does not stall the
 * publisher or any other client (of its strategy or another); it is resynced with a snapshot once
 * it reads again, or dropped — and counted either way.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { PublishedTile, VersionRecord } from '../src/engine/types.js';
import { SseServer } from '../src/sinks/sse.js';
import type { SlowClientPolicy } from '../src/sinks/sse-channel.js';
import { SseTestClient } from './helpers/sse-client.js';

const TILES_PER_VERSION = 400;

/** A version of `strategy` with 400 tiles (≈ 150 KB of JSON) whose values depend on `v`. */
function bigVersion(strategy: string, v: number): VersionRecord {
  const upserts: PublishedTile[] = [];
  for (let i = 0; i < TILES_PER_VERSION; i++) {
    const k = 5000 + ((v * 7 + i) % 800) * 5;
    // Digits that vary from tile to tile, so that the JSON does not compress far better than real diffs.
    const price = ((v * 7919 + i * 104_729) % 1_000_003) / 1000;
    upserts.push({
      key: `SPXW:2025-11-21:${strategy}:C:${k}`,
      root: 'SPXW',
      expiration: '2025-11-21',
      strategy,
      right: 'C',
      strikes: [k],
      legs: [{ ticker: `O:SPXW251121C0${k}000`, ratio: 1, price, ts_us: 1_763_735_400_000_000 + v, source: 'ws' }],
      value: price,
      score: Math.round(price * 7),
      ts_us: 1_763_735_400_000_000 + v,
      confidence: 1,
      source: 'ws',
    });
  }
  upserts.sort((a, b) => (a.key < b.key ? -1 : 1));
  const at_us = 1_763_735_400_000_000 + v * 1000;
  return { type: 'version', strategy, version: v, at_us, reasons: ['value'], prev_hash: `h${v - 1}`, hash: `h${v}`, upserts, removes: [], stats: { slots: 800, populated: 800, changed: TILES_PER_VERSION } };
}

/** The fold of versions 1..n of the synthetic stream. */
function expectedTiles(strategy: string, n: number): PublishedTile[] {
  const m = new Map<string, PublishedTile>();
  for (let v = 1; v <= n; v++) for (const t of bigVersion(strategy, v).upserts) m.set(t.key, t);
  return [...m.keys()].sort().map((k) => m.get(k)!);
}

let server: SseServer | undefined;
afterEach(async () => {
  await server?.close('test over', 200);
  server = undefined;
});

/**
 * Publishes fly and single versions until the stuck fly client is caught by the bound (plus a few
 * more). Each version waits until the reading clients have it — so they are never behind, and the
 * only client that can trip the bound is the one that never reads.
 */
async function runWithStuckClient(policy: SlowClientPolicy, gzip = false) {
  // gzip makes these versions ~3× smaller on the wire: a smaller bound trips as soon.
  const maxBufferBytes = gzip ? 64 * 1024 : 256 * 1024;
  server = await SseServer.start({ strategies: ['single', 'fly'], port: 0, maxBufferBytes, slowClient: policy, historyBytes: 4 * 1024 * 1024 });
  const s = server;
  const stuck = await SseTestClient.connect(`${s.url}/sse/heatmap/fly`, { paused: true, gzip });
  const flyReader = await SseTestClient.connect(`${s.url}/sse/heatmap/fly`, { gzip });
  const singleReader = await SseTestClient.connect(`${s.url}/sse/heatmap/single`);
  const caught = (): boolean => {
    const fly = s.status().find((x) => x.name === 'fly')!;
    return fly.resyncs + fly.drops > 0;
  };
  let v = 0;
  let extra = 0;
  // 1000 versions ≈ 150 MB: far beyond any loopback socket buffer, so the bound must trip.
  while (v < 1000 && extra < 5) {
    v++;
    s.publish(bigVersion('fly', v)); // synchronous: the publisher never waits for a client
    s.publish(bigVersion('single', v));
    await turn();
    await flyReader.untilId(v);
    await singleReader.untilId(v);
    if (caught()) extra++;
  }
  return { stuck, flyReader, singleReader, last: v, status: s.status() };
}

describe.each([
  ['uncompressed', false],
  ['gzip', true],
])('a client that never reads (%s)', (_, gzip) => {
  it('does not stall the others; it is resynced with a snapshot when it reads again (policy resync)', async () => {
    const { stuck, flyReader, singleReader, last, status } = await runWithStuckClient('resync', gzip);
    expect(stuck.isGzip).toBe(gzip);
    const fly = status.find((x) => x.name === 'fly')!;
    const single = status.find((x) => x.name === 'single')!;
    expect(fly.resyncs).toBe(1);
    expect(fly.drops).toBe(0);
    expect(single.resyncs + single.drops).toBe(0);
    expect(last).toBeLessThan(1000);
    // Readers got every version, in order, as diffs (one snapshot at connect, nothing skipped).
    expect(flyReader.named('diff').map((e) => e.id)).toEqual(Array.from({ length: last }, (_, i) => String(i + 1)));
    expect(singleReader.named('diff')).toHaveLength(last);
    expect(flyReader.named('snapshot')).toHaveLength(1);
    // The stuck client reads again: what it was sent, then a snapshot of the current version.
    stuck.resume();
    await stuck.untilId(last, 30_000);
    const snaps = stuck.named('snapshot');
    expect(snaps).toHaveLength(2);
    const resync = JSON.parse(snaps[1]!.data) as { version: number; tiles: PublishedTile[] };
    expect(resync.version).toBe(last);
    expect(resync.tiles).toEqual(expectedTiles('fly', last));
    const diffs = stuck.named('diff').map((e) => Number(e.id));
    expect(diffs).toEqual(Array.from({ length: diffs.length }, (_, i) => i + 1)); // a prefix, in order
    expect(diffs.length).toBeLessThan(last);
    expect(stuck.comments).toContain('resync: this client fell behind');
    // gzip: the stream it reads — pieces before the bound, then the resync's — inflates whole.
    await server!.close('test over', 5000);
    await stuck.ended;
    expect(stuck.events.at(-1)?.event).toBe('end');
    expect(stuck.decodeError).toBeUndefined();
  }, 120_000);

  it('is disconnected and counted (policy drop); the others go on', async () => {
    const { stuck, flyReader, singleReader, last, status } = await runWithStuckClient('drop', gzip);
    const fly = status.find((x) => x.name === 'fly')!;
    expect(fly.drops).toBe(1);
    expect(fly.resyncs).toBe(0);
    expect(fly.clients).toBe(1);
    stuck.resume(); // it sees what it was sent, then the end of the connection
    await stuck.ended;
    expect(stuck.named('diff').length).toBeLessThan(last);
    expect(flyReader.named('diff')).toHaveLength(last);
    expect(singleReader.named('diff')).toHaveLength(last);
    expect(flyReader.isClosed).toBe(false);
  }, 120_000);
});
