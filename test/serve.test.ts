/**
 * `heatmap serve` over a small recording, spoken to with real HTTP requests and real WebSocket
 * clients on loopback: pagination and filters on the chain endpoint (items served verbatim), the
 * connected → auth → subscribe flow, frames filtered by subscription, key checks, the end of the
 * recording, and the recorder recording from it.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/engine/config.js';
import { chainLine, gapLine, wsLine } from '../src/recording/lines.js';
import { newReadReport, readRecording } from '../src/recording/reader.js';
import { runRecorder } from '../src/recorder/recorder.js';
import { RecordingWriter } from '../src/recording/writer.js';
import { startServer, type RunningServer, type ServeOptions } from '../src/serve/server.js';
import { chainItem, makeContracts, tickerOf } from './helpers/massive-test-server.js';

const T0 = 1763740800000000; // 2025-11-21T16:00:00Z
const HOUR = 3_600_000_000;
const CONTRACTS = makeContracts('SPXW', ['2025-11-21'], [5890, 5895, 5900]).concat(makeContracts('SPXW', ['2025-11-24'], [5900]));
const ITEMS = CONTRACTS.map((c) => chainItem(c, 5900));
const ITEMS_LATER = CONTRACTS.map((c) => chainItem(c, 5910, 1763744411123456789n));
const [A, B] = [tickerOf(CONTRACTS[0]!), tickerOf(CONTRACTS[1]!)];
const TRADE_A = `{"ev":"T","sym":"${A}","x":302,"p":12.5,"s":1,"c":[209],"t":1763740802000,"q":11}`;
const TRADE_B = `{"ev":"T","sym":"${B}","x":302,"p":9.25,"s":2,"t":1763740802001,"q":12}`;
const V1 = '[{"ev":"V","val":5900.25,"T":"I:SPX","t":1763740801000}]';

let recDir: string;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

beforeAll(async () => {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-serve-'));
  recDir = path.join(base, 'rec');
  const w = await RecordingWriter.create(recDir, { underlying: 'I:SPX', source: 'sim', created_us: T0, flushIntervalMs: 0 });
  // Snapshot 0: two pages (5 + 3 items), complete at T0 + 200 ms.
  const page = (snapshot: number, n: number, last: boolean, items: string[], recv: number): string =>
    chainLine({ recv_us: recv, req_us: recv - 100, snapshot, page: n, last, url: '/v3/snapshot/options/I:SPX?limit=250', status: 200 }, `{"results":[${items.join(',')}],"status":"OK","request_id":"r"}`);
  w.writeLine('chain', page(0, 0, false, ITEMS.slice(0, 5), T0 + 100_000));
  w.writeLine('chain', page(0, 1, true, ITEMS.slice(5), T0 + 200_000));
  w.writeLine('indices', wsLine(T0 + 1_000_000, V1));
  w.writeLine('options', wsLine(T0 + 2_000_000, `[${TRADE_A},${TRADE_B}]`));
  w.writeLine('options', wsLine(T0 + 2_500_000, '[{"ev":"status","status":"success","message":"subscribed to: T.x"}]'));
  w.writeLine('options', gapLine(T0 + 3_000_000, { stream: 'options', from_us: T0 + 2_600_000, to_us: T0 + 3_000_000, reason: 'disconnect' }));
  w.writeLine('options', wsLine(T0 + 3_500_000, `[${TRADE_B}]`));
  // A failed page and snapshot 1 an hour later (one page).
  w.writeLine('chain', chainLine({ recv_us: T0 + HOUR - 1, req_us: T0 + HOUR - 2, snapshot: 1, page: 0, last: false, url: '/x', status: 200 }, '{"results":[]}'));
  w.writeLine('chain', page(2, 0, true, ITEMS_LATER, T0 + HOUR));
  await w.close();
  return async () => fsp.rm(base, { recursive: true, force: true });
});

async function serve(o: Partial<ServeOptions> = {}): Promise<RunningServer> {
  const logs: string[] = [];
  // Speed 4: frames 0.5 s of recording apart arrive ~125 ms apart; tests wait on frames, not on time.
  const s = await startServer({ dir: recDir, port: 0, speed: 4, hold: 'manual', log: (m) => logs.push(m), ...o });
  cleanup.push(() => s.close());
  return s;
}

async function getJson(url: string, key: string | null = 'any'): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(url, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

/** A WS client that records every frame and can wait for one matching a predicate. */
async function connect(url: string): Promise<{ ws: WebSocket; frames: string[]; next: (pred: (f: string) => boolean) => Promise<string> }> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  const waiters: { pred: (f: string) => boolean; resolve: (f: string) => void }[] = [];
  ws.on('message', (d) => {
    const f = d.toString();
    frames.push(f);
    for (const w of [...waiters]) if (w.pred(f)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(f);
    }
  });
  cleanup.push(async () => void ws.terminate());
  const next = (pred: (f: string) => boolean): Promise<string> => {
    const seen = frames.find(pred);
    if (seen !== undefined) {
      frames.splice(frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve) => waiters.push({ pred, resolve: (f) => (frames.splice(frames.indexOf(f), 1), resolve(f)) }));
  };
  return { ws, frames, next };
}

const hasStatus = (status: string) => (f: string) => f.includes(`"status":"${status}"`);

describe('serve: REST chain snapshot', () => {
  it('paginates the snapshot current at replay time with next_url + cursor, items verbatim', async () => {
    const s = await serve();
    const first = await getJson(`${s.restUrl}/v3/snapshot/options/I:SPX?limit=3`);
    expect(first.status).toBe(200);
    expect(first.json.status).toBe('OK');
    expect(first.json.results).toHaveLength(3);
    expect(first.json.next_url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${s.port}/v3/snapshot/options/I:SPX\\?cursor=`));
    const raws: string[] = [];
    let url: string | undefined = `${s.restUrl}/v3/snapshot/options/I:SPX?limit=3`;
    for (let i = 0; url !== undefined && i < 10; i++) {
      const page = await getJson(url);
      // Items are the recorded bytes: 19-digit ns stamps survive.
      for (const it of page.json.results as unknown[]) raws.push(JSON.stringify(it));
      expect(ITEMS.some((raw) => page.text.includes(raw))).toBe(true);
      url = page.json.next_url as string | undefined;
    }
    expect(raws).toHaveLength(ITEMS.length);
    expect(new Set(raws.map((r) => JSON.parse(r).details.ticker))).toEqual(new Set(CONTRACTS.map(tickerOf)));
    const all = await getJson(`${s.restUrl}/v3/snapshot/options/I:SPX?limit=250`);
    expect(all.text).toContain(ITEMS[0]);
    expect(all.json.next_url).toBeUndefined();
  });

  it('applies expiration, strike and type filters; the cursor carries them', async () => {
    const s = await serve();
    const q = await getJson(`${s.restUrl}/v3/snapshot/options/I:SPX?expiration_date.lte=2025-11-21&strike_price.gte=5895&contract_type=call&limit=1`);
    expect(q.json.results.map((r: any) => r.details.ticker)).toEqual([tickerOf({ root: 'SPXW', expiration: '2025-11-21', right: 'C', strike: 5895 })]);
    const q2 = await getJson(q.json.next_url as string);
    expect(q2.json.results.map((r: any) => r.details.ticker)).toEqual([tickerOf({ root: 'SPXW', expiration: '2025-11-21', right: 'C', strike: 5900 })]);
    expect(q2.json.next_url).toBeUndefined();
    expect((await getJson(`${s.restUrl}/v3/snapshot/options/I:NDX`)).json.results).toEqual([]);
    expect((await getJson(`${s.restUrl}/v3/snapshot/options/I:SPX?cursor=garbage`)).status).toBe(400);
    expect((await getJson(`${s.restUrl}/v3/snapshot/options/I:SPX?limit=abc`)).status).toBe(400);
    expect((await getJson(`${s.restUrl}/v3/other`)).status).toBe(404);
  });

  it('requires a key; with apiKey only that key', async () => {
    const open = await serve();
    expect((await getJson(`${open.restUrl}/v3/snapshot/options/I:SPX`, null)).status).toBe(401);
    expect((await getJson(`${open.restUrl}/v3/snapshot/options/I:SPX?apiKey=whatever`, null)).status).toBe(200);
    const locked = await serve({ apiKey: 'the-key' });
    const bad = await getJson(`${locked.restUrl}/v3/snapshot/options/I:SPX`, 'wrong');
    expect(bad.status).toBe(401);
    expect(bad.json.error).toBe('Unknown API Key');
    expect((await getJson(`${locked.restUrl}/v3/snapshot/options/I:SPX`, 'the-key')).status).toBe(200);
  });

  it('at the end of the recording serves its last complete snapshot', async () => {
    const s = await serve({ speed: 1e6, hold: undefined });
    const pass = await s.ended;
    expect(pass.lines).toBe(9);
    const all = await getJson(`${s.restUrl}/v3/snapshot/options/I:SPX?limit=250`);
    expect(all.text).toContain(ITEMS_LATER[0]);
    expect(all.json.results).toHaveLength(ITEMS_LATER.length);
  });
});

describe('serve: replay clock', () => {
  it('--loop starts over at the end of the recording', async () => {
    const s = await serve({ speed: 1e5, loop: true });
    const c = await connect(`${s.wsUrl}/options`);
    await c.next(hasStatus('connected'));
    c.ws.send(JSON.stringify({ action: 'auth', params: 'k' }));
    await c.next(hasStatus('auth_success'));
    c.ws.send(JSON.stringify({ action: 'subscribe', params: `T.${A}` }));
    await c.next(hasStatus('success'));
    s.release();
    // TRADE_A is once in the recording: seeing it twice means a second pass.
    await c.next((f) => f === `[${TRADE_A}]`);
    await c.next((f) => f === `[${TRADE_A}]`);
  });

  it('a recording without a chain is paced from its first line', async () => {
    const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-serve-nochain-'));
    cleanup.push(() => fsp.rm(base, { recursive: true, force: true }));
    const w = await RecordingWriter.create(path.join(base, 'rec'), { underlying: 'I:SPX', source: 'sim', created_us: T0, flushIntervalMs: 0 });
    w.writeLine('indices', wsLine(T0, V1));
    w.writeLine('indices', wsLine(T0 + HOUR, V1.replace('5900.25', '5901')));
    await w.close();
    const s = await serve({ dir: path.join(base, 'rec'), speed: 1, hold: undefined });
    const idx = await connect(`${s.wsUrl}/indices`);
    await idx.next(hasStatus('connected'));
    expect((await getJson(`${s.restUrl}/v3/snapshot/options/I:SPX`)).json.results).toEqual([]);
    // serve() returned at all: with a pre-roll it would wait for a snapshot that never comes and blast
    // the recording. Paced, the replay is now waiting an hour for the second value.
    const state = await Promise.race([s.ended.then(() => 'ended'), new Promise((r) => setImmediate(() => r('running')))]);
    expect(state).toBe('running');
  });
});

describe('serve: WebSocket clusters', () => {
  it('connected → auth → subscribe, then only the subscribed events, at the recorded pace', async () => {
    const s = await serve();
    const opt = await connect(`${s.wsUrl}/options`);
    const idx = await connect(`${s.wsUrl}/indices`);
    expect(await opt.next(hasStatus('connected'))).toBe('[{"ev":"status","status":"connected","message":"Connected Successfully"}]');
    await idx.next(hasStatus('connected'));
    opt.ws.send(JSON.stringify({ action: 'subscribe', params: `T.${A}` }));
    await opt.next(hasStatus('auth_required'));
    for (const c of [opt, idx]) {
      c.ws.send(JSON.stringify({ action: 'auth', params: 'anything' }));
      expect(await c.next(hasStatus('auth_success'))).toBe('[{"ev":"status","status":"auth_success","message":"authenticated"}]');
    }
    opt.ws.send(JSON.stringify({ action: 'subscribe', params: `T.${A}` }));
    expect(JSON.parse(await opt.next(hasStatus('success')))).toEqual([{ ev: 'status', status: 'success', message: `subscribed to: T.${A}` }]);
    idx.ws.send(JSON.stringify({ action: 'subscribe', params: 'V.I:SPX' }));
    await idx.next(hasStatus('success'));
    s.release();
    expect(await idx.next((f) => f.includes('"ev":"V"'))).toBe(V1);
    // The recorded frame held A and B: only A's event, cut verbatim from the recorded text.
    expect(await opt.next((f) => f.includes('"ev":"T"'))).toBe(`[${TRADE_A}]`);
    // Subscribing B later: the next frame (B only) comes whole; recorded status events are never replayed.
    opt.ws.send(JSON.stringify({ action: 'subscribe', params: `T.${B}` }));
    await opt.next(hasStatus('success'));
    expect(await opt.next((f) => f.includes('"ev":"T"'))).toBe(`[${TRADE_B}]`);
    expect(opt.frames.filter((f) => f.includes('subscribed to: T.x'))).toEqual([]);
  });

  it('T.* receives every trade; a wrong key gets auth_failed and a close', async () => {
    const s = await serve({ apiKey: 'the-key' });
    const bad = await connect(`${s.wsUrl}/options`);
    await bad.next(hasStatus('connected'));
    const closed = new Promise<number>((r) => bad.ws.once('close', (code) => r(code)));
    bad.ws.send(JSON.stringify({ action: 'auth', params: 'wrong' }));
    expect(await bad.next(hasStatus('auth_failed'))).toBe('[{"ev":"status","status":"auth_failed","message":"authentication failed"}]');
    expect(await closed).toBe(1008);
    const all = await connect(`${s.wsUrl}/options`);
    await all.next(hasStatus('connected'));
    all.ws.send(JSON.stringify({ action: 'auth', params: 'the-key' }));
    await all.next(hasStatus('auth_success'));
    all.ws.send(JSON.stringify({ action: 'subscribe', params: 'T.*' }));
    await all.next(hasStatus('success'));
    s.release();
    expect(await all.next((f) => f.includes('"ev":"T"'))).toBe(`[${TRADE_A},${TRADE_B}]`);
  });

  it('answers an unknown cluster path with an error status and a close', async () => {
    const s = await serve();
    const c = await connect(`${s.wsUrl}/forex`);
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)));
    expect(JSON.parse(await c.next(hasStatus('error')))).toEqual([{ ev: 'status', status: 'error', message: expect.stringContaining('/forex') }]);
    expect(await closed).toBe(1008);
  });
});

it('the recorder records from serve (REST pages + subscribed frames)', async () => {
  // Speed 0.5: the recorder has ~2 s between the index value (which lets it take its first snapshot
  // and subscribe) and the first trade frame.
  const s = await serve({ hold: 'client', speed: 0.5 });
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-serve-rec-'));
  cleanup.push(() => fsp.rm(base, { recursive: true, force: true }));
  const ctl = new AbortController();
  const seen: string[] = [];
  const run = runRecorder({
    underlying: 'I:SPX',
    restUrl: s.restUrl,
    wsUrl: s.wsUrl,
    apiKey: 'k',
    config: validateConfig({ topology: { expirations: ['2025-11-21', '2025-11-24'], strike_band_points: 50 } }),
    outDir: path.join(base, 'rec'),
    signal: ctl.signal,
    log: () => undefined,
    onLine: (_s, line) => {
      seen.push(line);
      if (seen.some((l) => l.includes(TRADE_A)) && seen.some((l) => l.includes('"ev":"V"'))) ctl.abort();
    },
    statusIntervalMs: 0,
    snapshotFloorMs: 50,
    spotWaitMs: 10_000,
  });
  const summary = await run;
  expect(summary.topology).toMatchObject({ spot: 5900.25, spotSource: 'index' });
  expect(summary.topology!.contracts).toBe(CONTRACTS.length);
  const lines: string[] = [];
  for await (const l of readRecording(path.join(base, 'rec'), {}, newReadReport())) lines.push(l.text);
  expect(lines.some((l) => l.includes(ITEMS[0]!))).toBe(true);
  expect(lines.some((l) => l.endsWith(`"frame":[${TRADE_A},${TRADE_B}]}`))).toBe(true);
});
