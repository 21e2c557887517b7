/**
 * `heatmap serve` as Massive's twin, on a real loopback server: the single-contract snapshot
 * (`GET /v3/snapshot/options/{underlying}/{contract}`, what client-js `getOptionContract` and Python
 * `get_snapshot_option` call), 404s in Massive's error shape, WS answers to unserved clusters and
 * malformed topics (status `error`), and `--hold` delivering the frames recorded before the first
 * complete chain snapshot (the pre-roll).
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveCommand } from '../src/cli/serve.js';
import { chainLine, wsLine } from '../src/recording/lines.js';
import { RecordingWriter } from '../src/recording/writer.js';
import { startServer, type RunningServer, type ServeOptions } from '../src/serve/server.js';
import { chainItem, makeContracts, tickerOf } from './helpers/massive-test-server.js';

const T0 = 1763740800000000; // 2025-11-21T16:00:00Z
const CONTRACTS = makeContracts('SPXW', ['2025-11-21'], [5890, 5900]);
const ITEMS = CONTRACTS.map((c) => chainItem(c, 5900));
const [A, B] = [tickerOf(CONTRACTS[0]!), tickerOf(CONTRACTS[1]!)];
// Recorded before the first complete snapshot (pre-roll) …
const EARLY_TRADE = `[{"ev":"T","sym":"${A}","x":302,"p":12.5,"s":1,"t":1763740800050,"q":1}]`;
const EARLY_V = '[{"ev":"V","val":5899.5,"T":"I:SPX","t":1763740800060}]';
// … and after it.
const LATE_TRADE = `[{"ev":"T","sym":"${B}","x":302,"p":9.25,"s":2,"t":1763740802000,"q":2}]`;
const CHAIN = '/v3/snapshot/options/I:SPX';
const ERROR_BODY = { status: 'ERROR', request_id: expect.stringMatching(/^serve-[0-9a-f]{8}$/), error: expect.any(String) };

let base: string;
let recDir: string;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  base = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-serve-twin-'));
  recDir = path.join(base, 'rec');
  const w = await RecordingWriter.create(recDir, { underlying: 'I:SPX', source: 'sim', created_us: T0, flushIntervalMs: 0 });
  const page = (n: number, last: boolean, items: string[], recv: number): string =>
    chainLine({ recv_us: recv, req_us: recv - 100, snapshot: 0, page: n, last, url: `${CHAIN}?limit=250`, status: 200 }, `{"results":[${items.join(',')}],"status":"OK","request_id":"r"}`);
  w.writeLine('options', wsLine(T0 + 50_000, EARLY_TRADE));
  w.writeLine('indices', wsLine(T0 + 60_000, EARLY_V));
  w.writeLine('chain', page(0, false, ITEMS.slice(0, 2), T0 + 100_000));
  w.writeLine('chain', page(1, true, ITEMS.slice(2), T0 + 200_000));
  w.writeLine('options', wsLine(T0 + 2_000_000, LATE_TRADE));
  await w.close();
});

afterAll(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function serve(o: Partial<ServeOptions> = {}): Promise<RunningServer> {
  const s = await startServer({ dir: recDir, port: 0, speed: 4, hold: 'manual', log: () => undefined, ...o });
  cleanup.push(() => s.close());
  return s;
}

async function get(url: string, key: string | null = 'any'): Promise<{ status: number; text: string; json: any; requestId: string | null }> {
  const res = await fetch(url, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text), requestId: res.headers.get('x-request-id') };
}

/** A WS client keeping every frame and its close; `next` waits for a frame matching `pred`. */
function client(url: string): { ws: WebSocket; frames: string[]; next: (pred: (f: string) => boolean) => Promise<string>; closed: Promise<{ code: number; reason: string }> } {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  const waiters: { pred: (f: string) => boolean; resolve: (f: string) => void }[] = [];
  ws.on('error', () => undefined);
  ws.on('message', (d) => {
    const f = d.toString();
    frames.push(f);
    for (const w of [...waiters]) if (w.pred(f)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(f);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  cleanup.push(async () => void ws.terminate());
  const next = (pred: (f: string) => boolean): Promise<string> => {
    const seen = frames.find(pred);
    return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ pred, resolve }));
  };
  return { ws, frames, next, closed };
}

const hasStatus = (status: string) => (f: string) => f.includes(`"status":"${status}"`);

async function authed(url: string): Promise<ReturnType<typeof client>> {
  const c = client(url);
  await c.next(hasStatus('connected'));
  c.ws.send(JSON.stringify({ action: 'auth', params: 'k' }));
  await c.next(hasStatus('auth_success'));
  return c;
}

describe('serve twin: single-contract snapshot', () => {
  it('GET /v3/snapshot/options/{underlying}/{contract} answers the contract as one object, verbatim', async () => {
    const s = await serve();
    const r = await get(`${s.restUrl}${CHAIN}/${A}`);
    expect(r.status).toBe(200);
    // `results` is the recorded item itself (an object, not an array), 19-digit ns stamps intact.
    expect(r.text).toBe(`{"results":${ITEMS[0]},"status":"OK","request_id":"${r.requestId}"}`);
    expect(r.json.results.details.ticker).toBe(A);
    // Percent-encoded contract and underlying (what URL-encoding clients send).
    const enc = await get(`${s.restUrl}/v3/snapshot/options/I%3ASPX/${encodeURIComponent(B)}?apiKey=x`, null);
    expect(enc.status).toBe(200);
    expect(enc.json.results.details.ticker).toBe(B);
    expect(enc.text).toContain(`"results":${ITEMS[1]}`);
  });

  it('an unknown contract or underlying is a 404 in Massive error shape; keys as on the chain endpoint', async () => {
    const s = await serve({ apiKey: 'the-key' });
    const unknown = await get(`${s.restUrl}${CHAIN}/O:SPXW251121C07000000`, 'the-key');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual(ERROR_BODY);
    const otherUnderlying = await get(`${s.restUrl}/v3/snapshot/options/I:NDX/${A}`, 'the-key');
    expect(otherUnderlying.status).toBe(404);
    expect(otherUnderlying.json).toEqual(ERROR_BODY);
    const noKey = await get(`${s.restUrl}${CHAIN}/${A}`, null);
    expect(noKey.status).toBe(401);
    expect(noKey.json).toEqual({ ...ERROR_BODY, error: 'API Key was not provided' });
    const wrong = await get(`${s.restUrl}${CHAIN}/${A}`, 'wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toBe('Unknown API Key');
    expect((await get(`${s.restUrl}${CHAIN}/${A}?apiKey=the-key`, null)).status).toBe(200);
    const badPct = await get(`${s.restUrl}${CHAIN}/O%ZZ`, 'the-key');
    expect(badPct.status).toBe(400);
    expect(badPct.json).toEqual(ERROR_BODY);
  });
});

describe('serve twin: REST 404s', () => {
  it('an unknown path answers 404 {"status":"ERROR","request_id":…,"error":…}', async () => {
    const s = await serve();
    for (const target of ['/v3/other', '/', `${CHAIN}/${A}/extra`, '/v2/snapshot/locale/us/markets/stocks/tickers/AAPL']) {
      const r = await get(`${s.restUrl}${target}`);
      expect(r.status, target).toBe(404);
      expect(r.json, target).toEqual(ERROR_BODY);
      expect(r.json.request_id).toBe(r.requestId);
    }
    const post = await fetch(`${s.restUrl}${CHAIN}`, { method: 'POST', headers: { authorization: 'Bearer k' } });
    expect(post.status).toBe(404);
    expect(JSON.parse(await post.text())).toEqual(ERROR_BODY);
  });
});

describe('serve twin: WS unknown clusters and topics', () => {
  it('an upgrade to an unserved cluster (/crypto) gets a WS error status, then a close', async () => {
    const s = await serve();
    for (const p of ['/crypto', '/forex', '/futures/cme', '/nope']) {
      const c = client(`${s.wsUrl}${p}`);
      const frame = await c.next(() => true);
      const msg = JSON.parse(frame) as { ev: string; status: string; message: string }[];
      expect(msg, p).toEqual([{ ev: 'status', status: 'error', message: expect.stringContaining(p) }]);
      expect((await c.closed).code, p).toBe(1008);
    }
    // The served clusters still work.
    await authed(`${s.wsUrl}/options`);
  });

  it('a malformed or foreign topic gets an error status; the valid ones in the same message succeed', async () => {
    const s = await serve();
    const opt = await authed(`${s.wsUrl}/options`);
    opt.ws.send(JSON.stringify({ action: 'subscribe', params: `bogus,T.${A},V.I:SPX,T.,XX.${A}` }));
    const reply = JSON.parse(await opt.next((f) => f.includes('subscribed to') || f.includes('"error"'))) as { status: string; message: string }[];
    expect(reply.map((r) => r.status)).toEqual(['error', 'success', 'error', 'error', 'error']);
    expect(reply[1]!.message).toBe(`subscribed to: T.${A}`);
    expect(reply[0]!.message).toContain('bogus');
    expect(reply[2]!.message).toContain('V.I:SPX');
    const idx = await authed(`${s.wsUrl}/indices`);
    idx.ws.send(JSON.stringify({ action: 'subscribe', params: 'V.I:SPX,V.*,T.I:SPX' }));
    const r2 = JSON.parse(await idx.next((f) => f.includes('subscribed to'))) as { status: string }[];
    expect(r2.map((r) => r.status)).toEqual(['success', 'success', 'error']);
    // The connection stays open and serves the valid subscription.
    s.release();
    expect(await opt.next((f) => f.includes('"ev":"T"'))).toBe(EARLY_TRADE);
  });
});

describe('serve twin: pre-roll', () => {
  it('--hold delivers the trades and index values recorded before the first complete snapshot', async () => {
    const s = await serve({ hold: 'manual' });
    // The chain is servable while held.
    expect((await get(`${s.restUrl}${CHAIN}?limit=250`)).json.results).toHaveLength(ITEMS.length);
    const opt = await authed(`${s.wsUrl}/options`);
    const idx = await authed(`${s.wsUrl}/indices`);
    opt.ws.send(JSON.stringify({ action: 'subscribe', params: 'T.*' }));
    idx.ws.send(JSON.stringify({ action: 'subscribe', params: 'V.I:SPX' }));
    await opt.next(hasStatus('success'));
    await idx.next(hasStatus('success'));
    s.release();
    expect(await idx.next((f) => f.includes('"ev":"V"'))).toBe(EARLY_V);
    expect(await opt.next((f) => f.includes('"ev":"T"'))).toBe(EARLY_TRADE);
    await opt.next((f) => f === LATE_TRADE);
    expect(opt.frames.filter((f) => f.includes('"ev":"T"'))).toEqual([EARLY_TRADE, LATE_TRADE]);
    const pass = await s.ended;
    // Every line once: the pre-roll's chain pages are not counted twice.
    expect(pass).toMatchObject({ lines: 5, frames: 3, pages: 2, first_us: T0 + 50_000, last_us: T0 + 2_000_000 });
  });

  it('serve --help says that without --hold frames before the first complete snapshot are skipped', () => {
    let help = '';
    const cmd = serveCommand().configureOutput({ writeOut: (t) => void (help += t), writeErr: (t) => void (help += t) });
    cmd.outputHelp();
    expect(help.replace(/\s+/g, ' ')).toMatch(/without --hold, .*frames recorded before the first complete chain snapshot are skipped/i);
  });
});
