/**
 * `sim --quotes N`: WS option quote events for the N contracts nearest the start spot, replayed
 * through the engine's quote-mid path. With no trades, the single tiles of the quoted contracts are
 * marked by the mids of those events (source `ws_quote`) and every other tile by the snapshots.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../src/api/replay.js';
import { simulate } from '../src/api/simulate.js';
import { defaultConfig } from '../src/engine/config.js';
import type { PublishedTile } from '../src/engine/types.js';
import type { SimStats } from '../src/sim/generate.js';
import { simParams } from '../src/sim/params.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-sim-quotes-'));
afterAll(() => fsp.rm(root, { recursive: true, force: true }));

const N = 12;
const params = simParams({ seed: 4, duration_ms: 20_000, snapshot_every_ms: 10_000, trade_rate: 0, quotes: N });
const dir = path.join(root, 'rec');
let stats: SimStats;
beforeAll(async () => {
  stats = await simulate(dir, params);
});

async function linesOf(stream: string): Promise<Json[]> {
  const text = zlib.gunzipSync(await fsp.readFile(path.join(dir, `${stream}.ndjson.gz`))).toString('utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Json);
}

describe('sim --quotes', () => {
  it('sends Q events for the N contracts nearest the start spot, in Massive\'s shape, each time a quote moves', async () => {
    const chain = await linesOf('chain');
    const contracts = chain.filter((l) => l.snapshot === 0).flatMap((l) => l.body.results.map((r: Json) => r.details));
    // Nearest strike to 5900 first, ties by ticker (the recorder's --quotes rule).
    const nearest = [...contracts]
      .sort((a, b) => Math.abs(a.strike_price - 5900) - Math.abs(b.strike_price - 5900) || (a.ticker < b.ticker ? -1 : 1))
      .slice(0, N)
      .map((d) => d.ticker as string);
    const events = (await linesOf('options')).flatMap((l) => l.frame as Json[]);
    expect(events.length).toBe(stats.quotes);
    expect(new Set(events.map((e) => e.sym))).toEqual(new Set(nearest));
    const last = new Map<string, Json>();
    let prevQ = 0;
    for (const e of events) {
      expect(Object.keys(e)).toEqual(['ev', 'sym', 'bx', 'ax', 'bp', 'ap', 'bs', 'as', 't', 'q']);
      expect(e).toMatchObject({ ev: 'Q', bx: 302, ax: 302 });
      expect((e.t * 1000 - params.start_us) % 250_000).toBe(0); // stamped at a 250 ms quote boundary
      expect(e.ap).toBeGreaterThan(e.bp);
      expect(e.q).toBeGreaterThan(prevQ);
      prevQ = e.q;
      const before = last.get(e.sym);
      if (before) expect([before.bp, before.ap]).not.toEqual([e.bp, e.ap]); // only changes are sent
      last.set(e.sym, e);
    }
    // The first boundary quotes every contract; 20 s hold 80 boundaries.
    expect(events.filter((e) => e.t * 1000 === params.start_us)).toHaveLength(N);
    expect(stats.quotes).toBeGreaterThan(N * 10);
    expect(stats.trades).toBe(0);
  });

  it('replays with quote-mid marks for the quoted contracts and snapshot marks for the rest', async () => {
    const quotes = new Map<string, Json[]>();
    for (const e of (await linesOf('options')).flatMap((l) => l.frame as Json[])) quotes.set(e.sym, [...(quotes.get(e.sym) ?? []), e]);
    const tiles = new Map<string, PublishedTile>();
    for await (const out of replay(dir, { config: defaultConfig(), format: 1 })) {
      if (out.type === 'version' && out.strategy === 'single') for (const t of out.upserts) tiles.set(t.key, t);
    }
    let quoted = 0;
    for (const tile of tiles.values()) {
      const leg = tile.legs[0]!;
      const events = quotes.get(leg.ticker);
      if (events === undefined) {
        expect(['rest_quote', 'rest_trade']).toContain(leg.source);
        continue;
      }
      quoted++;
      expect(leg.source).toBe('ws_quote');
      // The mark is the mid of the Q event it came from (same ms), and its confidence that quote's.
      const e = events.find((ev) => ev.t * 1000 === leg.ts_us)!;
      expect(e).toBeDefined();
      expect(leg.price).toBe((e.bp + e.ap) / 2);
      expect(tile.confidence).toBe(Math.round((1 - (e.ap - e.bp) / (e.ap + e.bp)) * 1e4) / 1e4);
    }
    expect(quoted).toBe(N); // every quoted contract is inside the default band (± 50 points, 0–2 DTE)
  });
});
