/**
 * Last-Event-ID at the edges of the retained history (DESIGN §3, SSE), over a real SSE server on
 * loopback with a history of 3 versions: versions 1..5 published, so 3, 4 and 5 are retained.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VersionRecord } from '../src/engine/types.js';
import { SseServer } from '../src/sinks/sse.js';
import { SseTestClient } from './helpers/sse-client.js';

const T0 = 1_763_735_400_000_000;

/** Version v of a one-tile stream: the tile's price is v. */
function version(v: number): VersionRecord {
  const tile = {
    key: 'SPXW:2025-11-21:single:C:5900',
    root: 'SPXW',
    expiration: '2025-11-21',
    strategy: 'single',
    right: 'C' as const,
    strikes: [5900],
    legs: [{ ticker: 'O:SPXW251121C05900000', ratio: 1, price: v, ts_us: T0 + v, source: 'ws' as const }],
    value: v,
    score: v,
    ts_us: T0 + v,
    confidence: 1,
    source: 'ws' as const,
  };
  return { type: 'version', strategy: 'single', version: v, at_us: T0 + v, reasons: ['value'], prev_hash: `h${v - 1}`, hash: `h${v}`, upserts: [tile], removes: [], stats: { slots: 1, populated: 1, changed: 1 } };
}

let server: SseServer;
beforeAll(async () => {
  server = await SseServer.start({ strategies: ['single'], port: 0, historyVersions: 3 });
  for (let v = 1; v <= 5; v++) server.publish(version(v));
});
afterAll(async () => {
  await server.close('test over', 200);
});

async function resume(lastEventId: number): Promise<SseTestClient> {
  const c = await SseTestClient.connect(`${server.url}/sse/heatmap/single`, { lastEventId: String(lastEventId) });
  await c.until((x) => x.events.some((e) => e.id === '5'), 'version 5');
  return c;
}

describe('SSE resume at the edge of the retained history', () => {
  it('Last-Event-ID 2 (the version just before the oldest retained) gets exactly the diffs 3, 4, 5', async () => {
    const c = await resume(2);
    expect(c.named('snapshot')).toHaveLength(0);
    expect(c.named('diff').map((d) => d.id)).toEqual(['3', '4', '5']);
    expect(c.named('diff').map((d) => (JSON.parse(d.data) as { version: number }).version)).toEqual([3, 4, 5]);
    c.close();
  });

  it('Last-Event-ID 1 (diff 2 no longer retained) gets a snapshot of version 5 instead', async () => {
    const c = await resume(1);
    expect(c.named('diff')).toHaveLength(0);
    const snaps = c.named('snapshot');
    expect(snaps.map((s) => s.id)).toEqual(['5']);
    expect((JSON.parse(snaps[0]!.data) as { tiles: { value: number }[] }).tiles.map((t) => t.value)).toEqual([5]);
    c.close();
  });

  it('Last-Event-ID 4 gets only diff 5', async () => {
    const c = await resume(4);
    expect(c.named('snapshot')).toHaveLength(0);
    expect(c.named('diff').map((d) => d.id)).toEqual(['5']);
    c.close();
  });
});
