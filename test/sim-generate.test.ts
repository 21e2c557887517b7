import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tally } from '../src/engine/tally.js';
import { parseOptionTicker } from '../src/massive/ticker.js';
import { LineDecoder } from '../src/replay/decode.js';
import { readManifest } from '../src/recording/manifest.js';
import { newReadReport, readRecording } from '../src/recording/reader.js';
import { RecordingWriter } from '../src/recording/writer.js';
import { generateSim, type SimStats } from '../src/sim/generate.js';
import { buildMarket, quoteAt } from '../src/sim/market.js';
import { manifestSimParams, simParams, type SimParams } from '../src/sim/params.js';

const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-sim-'));
afterAll(() => fsp.rm(root, { recursive: true, force: true }));

/** Writes a simulated recording the way `heatmap sim` does. */
async function simulate(name: string, overrides: Partial<SimParams>): Promise<{ dir: string; params: SimParams; stats: SimStats }> {
  const params = simParams({ duration_ms: 120_000, snapshot_every_ms: 30_000, ...overrides });
  const dir = path.join(root, name);
  const writer = await RecordingWriter.create(dir, {
    underlying: params.underlying,
    source: 'sim',
    created_us: params.start_us,
    sim: { seed: params.seed, params: manifestSimParams(params) },
    flushIntervalMs: 0,
  });
  const stats = await generateSim(params, writer);
  await writer.close();
  return { dir, params, stats };
}

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of (await fsp.readdir(dir)).sort()) out.set(f, await fsp.readFile(path.join(dir, f)));
  return out;
}

async function linesOf(dir: string, stream: string): Promise<string[]> {
  const file = path.join(dir, `${stream}.ndjson.gz`);
  const text = zlib.gunzipSync(await fsp.readFile(file)).toString('utf8');
  return text.split('\n').filter((l) => l !== '');
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let open: Awaited<ReturnType<typeof simulate>>;
beforeAll(async () => {
  open = await simulate('open', { seed: 7 });
});

describe('determinism', () => {
  it('gives byte-identical files for the same seed and params, different ones for another seed', async () => {
    const again = await simulate('again', { seed: 7 });
    const other = await simulate('other', { seed: 8 });
    const a = await filesOf(open.dir);
    const b = await filesOf(again.dir);
    expect([...a.keys()]).toEqual(['chain.ndjson.gz', 'indices.ndjson.gz', 'manifest.json', 'options.ndjson.gz']);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, bytes] of a) expect(bytes.equals(b.get(name)!), name).toBe(true);
    const c = await filesOf(other.dir);
    for (const name of ['chain.ndjson.gz', 'indices.ndjson.gz', 'options.ndjson.gz']) {
      expect(c.get(name)!.equals(a.get(name)!), name).toBe(false);
    }
  });

  it('records source, simulated start and every parameter in the manifest', async () => {
    const m = await readManifest(open.dir);
    expect(m.source).toBe('sim');
    expect(m.underlying).toBe('I:SPX');
    expect(m.created_us).toBe(open.params.start_us);
    expect(m.sim?.seed).toBe(7);
    expect(m.sim?.params).toMatchObject({ duration_ms: 120_000, spot: 5900, closed: false, start: '2025-11-21T14:30:00.000Z' });
    expect(m.streams['options']?.lines).toBe(open.stats.lines.options);
  });
});

describe('chain stream', () => {
  it('pages each snapshot like Massive: ≤250 results sorted by ticker, cursors, last flag, 19-digit ns', async () => {
    const lines = await linesOf(open.dir, 'chain');
    expect(open.stats.snapshots).toBe(4); // every 30s of a 2-minute session
    let prevRecv = 0;
    const bySnapshot = new Map<number, Json[]>();
    for (const text of lines) {
      const line = JSON.parse(text) as Json;
      expect(line.recv_us).toBeGreaterThan(prevRecv);
      expect(line.recv_us).toBeGreaterThan(line.req_us);
      prevRecv = line.recv_us;
      bySnapshot.set(line.snapshot, [...(bySnapshot.get(line.snapshot) ?? []), line]);
      // ns stamps are 19-digit integer literals in the raw text; quote stamps have sub-ms digits.
      for (const m of text.matchAll(/"(last_updated|sip_timestamp)":(-?[\d.eE+]+)/g)) expect(m[2]).toMatch(/^\d{19}$/);
      for (const m of text.matchAll(/"last_quote":\{[^}]*"last_updated":(\d{19})/g)) expect(m[1]!.slice(13)).not.toBe('000000');
      // Prices have at most 4 decimals and never an exponent.
      for (const m of text.matchAll(/"(ask|bid|midpoint|price|close|open|high|low|vwap|value|previous_close|change)":(-?[\d.eE+-]+)/g)) {
        expect(m[2]).toMatch(/^-?\d+(\.\d{1,4})?$/);
      }
    }
    expect([...bySnapshot.keys()]).toEqual([0, 1, 2, 3]);
    for (const [n, pages] of bySnapshot) {
      expect(pages[0]!.req_us).toBe(open.params.start_us + n * 30_000_000);
      const tickers: string[] = [];
      pages.forEach((page, k) => {
        expect(page.page).toBe(k);
        expect(page.status).toBe(200);
        expect(page.last).toBe(k === pages.length - 1);
        expect(page.body.status).toBe('OK');
        expect(page.body.request_id).toMatch(/^[0-9a-f]{32}$/);
        expect(page.body.results.length).toBeLessThanOrEqual(250);
        if (k === 0) expect(page.url).toBe('/v3/snapshot/options/I:SPX?limit=250');
        else expect(pages[k - 1]!.body.next_url).toBe(`https://api.massive.com${page.url}`);
        if (page.last) expect(page.body.next_url).toBeUndefined();
        else expect(page.body.next_url).toMatch(/^https:\/\/api\.massive\.com\/v3\/snapshot\/options\/I:SPX\?cursor=[A-Za-z0-9_-]+$/);
        for (const r of page.body.results) tickers.push(r.details.ticker);
      });
      expect(tickers).toHaveLength(486);
      expect([...tickers].sort()).toEqual(tickers);
    }
  });

  it('quotes arbitrage-free chains: verticals and flies of mids within [0, width] for widths 5..50', async () => {
    const lines = await linesOf(open.dir, 'chain');
    const market = buildMarket(open.params);
    const byTicker = new Map(market.contracts.map((c) => [c.ticker, c]));
    const groups = new Map<string, Map<number, number>>(); // snapshot|root|exp|right → strike → mid
    let checked = 0;
    for (const text of lines) {
      const line = JSON.parse(text) as Json;
      for (const r of line.body.results) {
        const q = r.last_quote;
        expect(q.ask).toBeGreaterThan(q.bid);
        // The snapshot quote is exactly quoteAt at its own last_updated (µs, truncated).
        const c = byTicker.get(r.details.ticker)!;
        const again = quoteAt(market, c, Math.floor(Number(q.last_updated) / 1000));
        expect({ bid: q.bid, ask: q.ask }).toEqual({ bid: again.bid, ask: again.ask });
        expect(r.underlying_asset).toEqual({
          change_to_break_even: r.underlying_asset.change_to_break_even,
          last_updated: open.params.start_us * 1000,
          value: 5900,
          ticker: 'I:SPX',
          timeframe: 'REAL-TIME',
        });
        if (!(q.bid > 0)) continue;
        const key = `${line.snapshot}|${r.details.ticker.slice(2, -15)}|${r.details.expiration_date}|${r.details.contract_type}`;
        const g = groups.get(key) ?? new Map<number, number>();
        g.set(r.details.strike_price, (q.bid + q.ask) / 2);
        groups.set(key, g);
      }
    }
    const eps = 1e-9;
    for (const [key, mids] of groups) {
      const isCall = key.endsWith('call');
      for (const [K, m] of mids) {
        for (let w = 5; w <= 50; w += 5) {
          const up = mids.get(K + w);
          const down = mids.get(K - w);
          if (up !== undefined) {
            const vertical = isCall ? m - up : up - m; // the debit spread's value
            expect(vertical, `${key} ${K}/${K + w}`).toBeGreaterThanOrEqual(-eps);
            expect(vertical).toBeLessThanOrEqual(w + eps);
          }
          if (up !== undefined && down !== undefined) {
            const fly = down - 2 * m + up;
            expect(fly, `${key} fly ${K}±${w}`).toBeGreaterThanOrEqual(-eps);
            expect(fly).toBeLessThanOrEqual(w + eps);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});

describe('chain items as the official Massive JS client types them', () => {
  // @massive.com/client-js GetOptionsChain200ResponseResultsInner and its parts: the fields it
  // declares required (`day`'s only once the contract traded today; `last_trade` when present).
  const REQUIRED = {
    item: ['break_even_price', 'day', 'details', 'last_quote', 'open_interest', 'underlying_asset'],
    details: ['contract_type', 'exercise_style', 'expiration_date', 'shares_per_contract', 'strike_price', 'ticker'],
    last_quote: ['ask', 'ask_size', 'bid', 'bid_size', 'midpoint'],
    last_trade: ['exchange', 'price', 'sip_timestamp', 'size'],
    underlying_asset: ['change_to_break_even', 'ticker'],
    day: ['change', 'change_percent', 'close', 'high', 'low', 'open', 'previous_close', 'volume', 'vwap'],
  } as const;

  /** Today's prints per contract from the options stream: [t_ms, price, size, conditions]. */
  async function printsByTicker(): Promise<Map<string, [number, number, number, number[]][]>> {
    const out = new Map<string, [number, number, number, number[]][]>();
    for (const text of await linesOf(open.dir, 'options')) {
      for (const ev of (JSON.parse(text) as Json).frame) {
        const list = out.get(ev.sym) ?? [];
        list.push([ev.t, ev.p, ev.s, ev.c]);
        out.set(ev.sym, list);
      }
    }
    return out;
  }

  it('carries every required field, and break-even, midpoint, day bar and last trade agree with the quotes and the WS prints', async () => {
    const prints = await printsByTicker();
    const previousClose = new Map<string, number>(); // snapshot 0 is taken before any print of today
    let traded = 0;
    let reqMs = 0;
    for (const text of await linesOf(open.dir, 'chain')) {
      const line = JSON.parse(text) as Json;
      if (line.page === 0) reqMs = line.req_us / 1000; // every page shows the trades before the first request
      for (const r of line.body.results) {
        const t = r.details.ticker as string;
        for (const k of REQUIRED.item) expect(r[k], `${t} ${k}`).toBeDefined();
        for (const part of ['details', 'last_quote', 'last_trade', 'underlying_asset'] as const) {
          for (const k of REQUIRED[part]) expect(r[part][k], `${t} ${part}.${k}`).toBeDefined();
        }
        for (const k of ['break_even_price', 'open_interest'] as const) expect(typeof r[k]).toBe('number');
        for (const k of REQUIRED.last_quote) expect(typeof r.last_quote[k]).toBe('number');
        expect(typeof r.underlying_asset.change_to_break_even).toBe('number');

        const q = r.last_quote;
        const isCall = r.details.contract_type === 'call';
        expect(q.midpoint).toBeCloseTo((q.bid + q.ask) / 2, 9);
        expect(r.break_even_price).toBeCloseTo(r.details.strike_price + (isCall ? q.midpoint : -q.midpoint), 9);
        expect(r.underlying_asset.change_to_break_even).toBeCloseTo(r.break_even_price - r.underlying_asset.value, 9);

        if (line.snapshot === 0) previousClose.set(t, r.last_trade.price);
        expect(r.day.previous_close, t).toBe(previousClose.get(t));
        const today = (prints.get(t) ?? []).filter(([tMs]) => tMs < reqMs);
        if (today.length === 0) {
          expect(r.day.volume).toBeUndefined();
          expect(BigInt(r.last_trade.sip_timestamp)).toBeLessThan(BigInt(open.params.start_us) * 1000n);
          continue;
        }
        traded++;
        for (const k of REQUIRED.day) expect(typeof r.day[k], `${t} day.${k}`).toBe('number');
        const prices = today.map((p) => p[1]);
        const volume = today.reduce((sum, p) => sum + p[2], 0);
        const notional = today.reduce((sum, p) => sum + p[1] * p[2], 0);
        expect(r.day).toMatchObject({ open: prices[0], close: prices[prices.length - 1], high: Math.max(...prices), low: Math.min(...prices), volume });
        expect(Math.abs(r.day.vwap - notional / volume)).toBeLessThanOrEqual(0.00005 + 1e-9); // 4 decimals
        expect(r.day.change).toBeCloseTo(r.day.close - r.day.previous_close, 9);
        const pct = ((r.day.close - r.day.previous_close) / r.day.previous_close) * 100;
        expect(Math.abs(r.day.change_percent - pct)).toBeLessThanOrEqual(0.0005 + 1e-9); // 3 decimals
        const [lastMs, lastPrice, lastSize, lastConditions] = today[today.length - 1]!;
        expect(Math.floor(Number(BigInt(r.last_trade.sip_timestamp) / 1_000_000n))).toBe(lastMs);
        expect(r.last_trade).toMatchObject({ price: lastPrice, size: lastSize, conditions: lastConditions, exchange: 302 });
      }
    }
    expect(previousClose.size).toBe(486);
    expect(traded).toBeGreaterThan(500);
  });

  it('gives the hand-checked values of two contracts in the snapshot at 09:31:00', async () => {
    const items = new Map<string, Json>();
    for (const text of await linesOf(open.dir, 'chain')) {
      const line = JSON.parse(text) as Json;
      if (line.snapshot === 2) for (const r of line.body.results) items.set(r.details.ticker, r);
    }
    // The 5900 call: quoted 23.80 / 24.10, so midpoint 23.95 and break-even 5900 + 23.95 = 5923.95,
    // 23.95 above the (frozen) index value 5900. Last print today 23.81 (a spread leg, in cents)
    // against yesterday's close 22.70: change +1.11, +4.890 % (1.11 / 22.7 = 4.8899 %).
    const call = items.get('O:SPXW251121C05900000')!;
    expect(call.last_quote).toMatchObject({ bid: 23.8, ask: 24.1, midpoint: 23.95 });
    expect(call.break_even_price).toBe(5923.95);
    expect(call.underlying_asset.change_to_break_even).toBe(23.95);
    expect(call.last_trade).toMatchObject({ price: 23.81, conditions: [232] });
    expect(call.day).toMatchObject({ close: 23.81, previous_close: 22.7, change: 1.11, change_percent: 4.89 });
    // The 5880 put: 13.00 / 13.30, midpoint 13.15, break-even 5880 − 13.15 = 5866.85, which is 33.15
    // below 5900. Last print 12.90 (single-leg, on the 0.10 grid) against 14.00: −1.10, −7.857 %.
    const put = items.get('O:SPXW251121P05880000')!;
    expect(put.last_quote).toMatchObject({ bid: 13, ask: 13.3, midpoint: 13.15 });
    expect(put.break_even_price).toBe(5866.85);
    expect(put.underlying_asset.change_to_break_even).toBe(-33.15);
    expect(put.last_trade).toMatchObject({ price: 12.9, conditions: [209] });
    expect(put.day).toMatchObject({ close: 12.9, previous_close: 14, change: -1.1, change_percent: -7.857 });
  });
});

describe('options stream', () => {
  it('writes WS trade frames in receive order: well-formed T events, ms times, increasing q, prices inside the quote', async () => {
    const lines = await linesOf(open.dir, 'options');
    const market = buildMarket(open.params);
    const byTicker = new Map(market.contracts.map((c) => [c.ticker, c]));
    const startMs = open.params.start_us / 1000;
    let prevRecv = 0;
    let prevQ = 0;
    let trades = 0;
    let multi = 0;
    for (const text of lines) {
      const line = JSON.parse(text) as Json;
      expect(line.recv_us).toBeGreaterThan(prevRecv);
      prevRecv = line.recv_us;
      expect(Array.isArray(line.frame) && line.frame.length > 0).toBe(true);
      if (line.frame.length > 1) multi++;
      for (const ev of line.frame) {
        expect(Object.keys(ev)).toEqual(['ev', 'sym', 'x', 'p', 's', 'c', 't', 'q']);
        expect(ev.ev).toBe('T');
        expect(parseOptionTicker(ev.sym).ok).toBe(true);
        expect(ev.x).toBe(302);
        // 209 automatic execution (single-leg orders), 232 multi-leg auto-electronic (spread and fly legs).
        expect([[209], [232]]).toContainEqual(ev.c);
        expect(Number.isInteger(ev.s) && ev.s > 0).toBe(true);
        expect(Number.isInteger(ev.t) && ev.t >= startMs && ev.t < startMs + 120_000).toBe(true);
        expect(ev.t * 1000).toBeLessThan(line.recv_us);
        expect(line.recv_us - ev.t * 1000).toBeLessThan(32_000);
        expect(ev.q).toBeGreaterThan(prevQ);
        prevQ = ev.q;
        expect(ev.p).toBeGreaterThan(0);
        expect(Math.round(ev.p * 100) / 100).toBe(ev.p);
        const q = quoteAt(market, byTicker.get(ev.sym)!, ev.t * 1000);
        expect(ev.p).toBeGreaterThanOrEqual(Math.max(0.01, Math.ceil(q.bid * 100 - 1e-6) / 100));
        expect(ev.p).toBeLessThanOrEqual(Math.max(0.01, q.ask));
        trades++;
      }
    }
    expect(trades).toBe(open.stats.trades);
    // ~64 trades/s for 120 s
    expect(trades).toBeGreaterThan(6500);
    expect(trades).toBeLessThan(9000);
    expect(multi).toBeGreaterThan(lines.length / 5);
  });
});

describe('indices stream', () => {
  it('sends one V event a second, value = the spot that prices the quotes', async () => {
    const lines = await linesOf(open.dir, 'indices');
    expect(lines).toHaveLength(120);
    const startMs = open.params.start_us / 1000;
    let prevRecv = 0;
    lines.forEach((text, k) => {
      const line = JSON.parse(text) as Json;
      expect(line.recv_us).toBeGreaterThan(prevRecv);
      prevRecv = line.recv_us;
      expect(line.frame).toHaveLength(1);
      const [ev] = line.frame;
      expect(Object.keys(ev)).toEqual(['ev', 'val', 'T', 't']);
      expect(ev).toMatchObject({ ev: 'V', T: 'I:SPX', t: startMs + k * 1000 });
      expect(text).toMatch(/"val":\d+(\.\d{1,2})?,/);
    });
    expect(JSON.parse(lines[0]!).frame[0].val).toBe(5900);
  });
});

describe('the recording as the engine reads it', () => {
  it('reads back in replay order and decodes without a bad line', async () => {
    const report = newReadReport();
    const bad = new Tally();
    const decoder = new LineDecoder('I:SPX', bad);
    let n = 0;
    let prev = 0;
    for await (const line of readRecording(open.dir, {}, report)) {
      expect(line.recv_us).toBeGreaterThanOrEqual(prev);
      prev = line.recv_us;
      expect(decoder.decode(line)).toBeDefined();
      n++;
    }
    expect(n).toBe(open.stats.lines.chain + open.stats.lines.indices + open.stats.lines.options);
    expect(report.cuts).toEqual([]);
    expect(report.bad.total).toBe(0);
    // Far out-of-the-money quotes show a zero bid: counted as "no mid", the only reason allowed.
    expect(Object.keys(bad.toJSON())).toEqual(['chain_quote_no_mid']);
  });
});

describe('--closed', () => {
  it('writes one snapshot, no trades, and a constant index value every 60 s', async () => {
    const closed = await simulate('closed', { seed: 7, closed: true, duration_ms: 180_000 });
    expect(closed.stats.trades).toBe(0);
    expect(closed.stats.snapshots).toBe(1);
    const files = await filesOf(closed.dir);
    expect(files.has('options.ndjson.gz')).toBe(false);
    const chain = (await linesOf(closed.dir, 'chain')).map((l) => JSON.parse(l) as Json);
    expect(new Set(chain.map((l) => l.snapshot))).toEqual(new Set([0]));
    for (const page of chain) {
      for (const r of page.body.results) {
        expect(r.day.volume).toBeUndefined(); // nothing traded today
        expect(r.last_trade.sip_timestamp).toBeLessThan(closed.params.start_us * 1000);
      }
    }
    const index = (await linesOf(closed.dir, 'indices')).map((l) => JSON.parse(l) as Json);
    expect(index.map((l) => l.frame[0].t - closed.params.start_us / 1000)).toEqual([0, 60_000, 120_000]);
    expect(new Set(index.map((l) => l.frame[0].val))).toEqual(new Set([5900]));
  });
});
