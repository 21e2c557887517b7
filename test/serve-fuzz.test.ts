/**
 * `heatmap serve` and the SSE server must outlive anything a client sends: WebSocket messages that
 * are not `{"action":…,"params":…}` objects (null, numbers, strings, arrays, wrong types), binary
 * frames, invalid UTF-8, oversize frames; URLs with malformed percent-encodings, `//`, absurd
 * lengths; garbage bytes instead of HTTP — each case with its expected answer, then a seeded fuzz
 * loop. After every batch the server must still serve the chain and a fresh WS client's auth +
 * subscribe.
 *
 * The servers run in this process, so a throw that would kill `heatmap serve` surfaces here as an
 * uncaught exception or unhandled rejection: the crash trap records those and every check asserts
 * it stayed empty.
 */
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chainLine, wsLine } from '../src/recording/lines.js';
import { RecordingWriter } from '../src/recording/writer.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { SseServer } from '../src/sinks/sse.js';
import { chainItem, makeContracts, tickerOf } from './helpers/massive-test-server.js';

const T0 = 1763740800000000; // 2025-11-21T16:00:00Z
const CONTRACTS = makeContracts('SPXW', ['2025-11-21'], [5890, 5895, 5900]);
const ITEMS = CONTRACTS.map((c) => chainItem(c, 5900));
const TRADE = `{"ev":"T","sym":"${tickerOf(CONTRACTS[0]!)}","x":302,"p":12.5,"s":1,"t":1763740802000,"q":11}`;
const SEED = 20251121;
const KEY = { authorization: 'Bearer k' };
const CHAIN = '/v3/snapshot/options/I:SPX';

const CONNECTED = '[{"ev":"status","status":"connected","message":"Connected Successfully"}]';
const AUTH_SUCCESS = '[{"ev":"status","status":"auth_success","message":"authenticated"}]';
const AUTH_FAILED = '[{"ev":"status","status":"auth_failed","message":"authentication failed"}]';

let base: string;
let recDir: string;
const crashes: unknown[] = [];
const trap = (err: unknown): void => void crashes.push(err);
const cleanup: (() => Promise<void>)[] = [];
/** Log lines of the serve servers: an `internal error` line means a handler threw (and was caught). */
const logs: string[] = [];

beforeAll(async () => {
  process.on('uncaughtException', trap);
  process.on('unhandledRejection', trap);
  base = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-serve-fuzz-'));
  recDir = path.join(base, 'rec');
  const w = await RecordingWriter.create(recDir, { underlying: 'I:SPX', source: 'sim', created_us: T0, flushIntervalMs: 0 });
  const body = `{"results":[${ITEMS.join(',')}],"status":"OK","request_id":"r"}`;
  w.writeLine('chain', chainLine({ recv_us: T0 + 100_000, req_us: T0, snapshot: 0, page: 0, last: true, url: '/v3/snapshot/options/I:SPX?limit=250', status: 200 }, body));
  w.writeLine('options', wsLine(T0 + 2_000_000, `[${TRADE}]`));
  await w.close();
});

afterAll(async () => {
  process.off('uncaughtException', trap);
  process.off('unhandledRejection', trap);
  await fsp.rm(base, { recursive: true, force: true });
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  // A crash belongs to the test that caused it; the next test starts clean.
  expect(crashes.splice(0).map(String)).toEqual([]);
  expect(logs.splice(0).filter((l) => l.includes('internal error'))).toEqual([]);
});

/** A serve server on loopback whose replay clock stays held (the chain snapshot is servable). */
async function serve(): Promise<RunningServer> {
  // A long auth timeout: a fuzzed connection can stay unauthenticated for a whole batch.
  const s = await startServer({ dir: recDir, port: 0, host: '127.0.0.1', hold: 'manual', authTimeoutMs: 120_000, log: (m) => logs.push(m) });
  cleanup.push(() => s.close());
  return s;
}

interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** One request with `target` sent as is (no URL normalisation by the client), on a fresh connection. */
function request(port: number, target: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method: opts.method ?? 'GET', headers: opts.headers ?? KEY, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${opts.method ?? 'GET'} ${target.slice(0, 200)} within 10 s`)));
    req.end();
  });
}

/** Writes `bytes` on a raw TCP connection and returns everything received until the server closes it. */
function rawExchange(port: number, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => sock.destroy(), 10_000);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (got += d));
    sock.on('error', () => undefined); // the server may reset while we still write: `got` tells what came back
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    sock.write(bytes);
  });
}

/** Status and JSON body of a raw HTTP/1.1 response (Content-Length or chunked). */
function parseRaw(raw: string): { status: number; body: any } {
  const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(raw);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(raw.slice(0, 200))}`);
  let body = m[3]!;
  if (/^transfer-encoding:\s*chunked/im.test(m[2]!)) {
    let out = '';
    for (let rest = body; ; ) {
      const nl = rest.indexOf('\r\n');
      const n = parseInt(rest.slice(0, nl), 16);
      if (!(n > 0)) break;
      out += rest.slice(nl + 2, nl + 2 + n);
      rest = rest.slice(nl + 2 + n + 2);
    }
    body = out;
  }
  return { status: Number(m[1]), body: JSON.parse(body) };
}

/** Massive's REST error shape (massive-wire.md §2.7): `{"status":"ERROR","request_id":…,"error":…}`. */
function expectMassiveError(body: unknown, error: RegExp = /./): void {
  expect(body).toEqual({ status: 'ERROR', request_id: expect.stringMatching(/^serve-[0-9a-f]{8}$/), error: expect.stringMatching(error) });
}

type WsEvent = { readonly frame: string } | { readonly close: number };

/** A WS client that queues every frame and its close, to take them one at a time. */
class WsProbe {
  private readonly events: WsEvent[] = [];
  private wake: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => this.push({ frame: d.toString() }));
    ws.on('close', (code) => this.push({ close: code }));
    ws.on('error', () => undefined); // a server close while we send can reset the socket; the close event tells
  }

  /** Connects and takes the `connected` status. */
  static async open(url: string): Promise<WsProbe> {
    const p = new WsProbe(new WebSocket(url));
    cleanup.push(async () => void p.ws.terminate());
    expect(await p.next('connecting')).toEqual({ frame: CONNECTED });
    return p;
  }

  /** The next frame or close; throws when nothing comes within `ms` (the server went silent). */
  async next(after: string, ms = 10_000): Promise<WsEvent> {
    const deadline = Date.now() + ms;
    while (this.events.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no WS frame or close within ${ms} ms after ${after}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.events.shift()!;
  }

  /** The next event as a parsed status array (fails on a close or a non-status frame). */
  async nextStatus(after: string): Promise<{ ev: string; status: string; message: string }[]> {
    const e = await this.next(after);
    if (!('frame' in e)) throw new Error(`closed (${e.close}) instead of answering ${after}`);
    return JSON.parse(e.frame) as { ev: string; status: string; message: string }[];
  }

  private push(e: WsEvent): void {
    this.events.push(e);
    this.wake?.();
  }
}

/** A status array with one `error` status. */
const ERROR_STATUS = [{ ev: 'status', status: 'error', message: expect.any(String) }];

/** The server still serves: no crash was trapped, the chain endpoint answers, a fresh WS client authenticates and subscribes. */
async function expectAlive(s: RunningServer): Promise<void> {
  expect(crashes.map(String)).toEqual([]);
  const chain = await request(s.port, `${CHAIN}?limit=250`);
  expect(chain.status).toBe(200);
  const body = JSON.parse(chain.text) as { status: string; results: unknown[] };
  expect(body.status).toBe('OK');
  expect(body.results).toHaveLength(ITEMS.length);
  const p = await WsProbe.open(`${s.wsUrl}/options`);
  p.ws.send(JSON.stringify({ action: 'auth', params: 'k' }));
  expect(await p.next('auth')).toEqual({ frame: AUTH_SUCCESS });
  p.ws.send(JSON.stringify({ action: 'subscribe', params: 'T.*' }));
  expect(await p.next('subscribe')).toEqual({ frame: '[{"ev":"status","status":"success","message":"subscribed to: T.*"}]' });
  p.ws.terminate();
}

describe('serve: WebSocket messages that are not Massive actions', () => {
  it('answers null, numbers, strings, arrays, wrong types and binary frames with a status; closes on bad auth, invalid UTF-8, 2 MB', async () => {
    const s = await serve();
    const p = await WsProbe.open(`${s.wsUrl}/options`);
    for (const text of ['null', '42', '"x"', '[]', '[{"action":"auth","params":"k"}]', 'true', '{"action":5}', '{"action":null}', '{"action":{"a":1}}', '{not json', '']) {
      p.ws.send(text);
      expect(await p.nextStatus(text), text).toEqual(ERROR_STATUS);
    }
    // Massive answers subscribe before auth with auth_required, whatever the params.
    p.ws.send('{"action":"subscribe","params":{}}');
    expect(await p.nextStatus('subscribe before auth')).toEqual([{ ev: 'status', status: 'auth_required', message: 'authentication required' }]);
    p.ws.send(Buffer.from('{"action":"auth","params":"k"}'), { binary: true });
    expect(await p.nextStatus('binary frame')).toEqual([{ ev: 'status', status: 'error', message: expect.stringMatching(/binary/i) }]);
    p.ws.send(JSON.stringify({ action: 'auth', params: 'k' }));
    expect(await p.next('auth')).toEqual({ frame: AUTH_SUCCESS });
    for (const text of ['null', '{"action":"subscribe","params":{}}', '{"action":"subscribe","params":5}', '{"action":"unsubscribe","params":["T.*"]}', '{"action":"subscribe"}', '{"action":"subscribe","params":" , "}']) {
      p.ws.send(text);
      expect(await p.nextStatus(text), text).toEqual(ERROR_STATUS);
    }
    // The connection is still usable.
    p.ws.send(JSON.stringify({ action: 'subscribe', params: 'T.*' }));
    expect(await p.nextStatus('subscribe')).toEqual([{ ev: 'status', status: 'success', message: 'subscribed to: T.*' }]);

    // An auth whose params is not a non-empty string fails like a wrong key: auth_failed, close 1008.
    for (const text of ['{"action":"auth","params":{}}', '{"action":"auth","params":5}', '{"action":"auth"}']) {
      const a = await WsProbe.open(`${s.wsUrl}/options`);
      a.ws.send(text);
      expect(await a.next(text), text).toEqual({ frame: AUTH_FAILED });
      expect(await a.next(text), text).toEqual({ close: 1008 });
    }
    const bad = await WsProbe.open(`${s.wsUrl}/options`);
    bad.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d]), { binary: false });
    expect(await bad.next('invalid UTF-8')).toEqual({ close: 1007 });
    const big = await WsProbe.open(`${s.wsUrl}/options`);
    big.ws.send(`{"action":"subscribe","params":"${'T.*,'.repeat(512 * 1024)}"}`);
    expect(await big.next('a 2 MB frame')).toEqual({ close: 1009 });
    await expectAlive(s);
  });

  it('seeded fuzz: 300 random JSON values, action objects, texts and byte frames each get a status or a close', async () => {
    const s = await serve();
    const json = fc.jsonValue({ maxDepth: 3 });
    type Payload = { readonly data: string | Buffer; readonly binary: boolean };
    const text = (t: string): Payload => ({ data: t, binary: false });
    const payload: fc.Arbitrary<Payload> = fc.oneof(
      json.map((v) => text(JSON.stringify(v))),
      fc
        .record({ action: fc.oneof(fc.constantFrom('auth', 'subscribe', 'unsubscribe'), json), params: fc.oneof(fc.string(), json) }, { requiredKeys: [] })
        .map((v) => text(JSON.stringify(v))),
      fc.record({ action: fc.constantFrom('subscribe', 'unsubscribe'), params: fc.string() }).map((v) => text(JSON.stringify(v))),
      fc.string({ unit: 'grapheme', maxLength: 40 }).map(text),
      fc.uint8Array({ maxLength: 64 }).map((b) => ({ data: Buffer.from(b), binary: true })),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ data: Buffer.from(b), binary: false })),
    );
    const payloads = fc.sample(payload, { seed: SEED, numRuns: 300 });
    const statuses = new Set(['error', 'auth_required', 'auth_success', 'auth_failed', 'success']);
    // Two lanes, so that messages reach both sides of the auth check: odd messages go to a client
    // that is authenticated again whenever it had to reconnect.
    const lane = async (authed: boolean): Promise<WsProbe> => {
      const p = await WsProbe.open(`${s.wsUrl}/options`);
      if (authed) {
        p.ws.send(JSON.stringify({ action: 'auth', params: 'k' }));
        expect(await p.next('auth')).toEqual({ frame: AUTH_SUCCESS });
      }
      return p;
    };
    const lanes = [await lane(false), await lane(true)];
    for (let batch = 0; batch < 3; batch++) {
      for (const [i, msg] of payloads.slice(batch * 100, batch * 100 + 100).entries()) {
        const p = lanes[i % 2]!;
        const what = `${msg.binary ? 'binary' : 'text'} ${JSON.stringify(typeof msg.data === 'string' ? msg.data : msg.data.toString('hex'))}`;
        p.ws.send(msg.data, { binary: msg.binary });
        const e = await p.next(what);
        if ('close' in e) {
          // Only invalid UTF-8 closes without a status.
          expect(e.close, what).toBe(1007);
        } else {
          const arr = JSON.parse(e.frame) as { ev: string; status: string }[];
          expect(arr.length, what).toBeGreaterThan(0);
          for (const st of arr) expect(st.ev === 'status' && statuses.has(st.status), `${what} → ${e.frame}`).toBe(true);
          if (arr[0]!.status !== 'auth_failed') continue;
          expect(await p.next(what), what).toEqual({ close: 1008 });
        }
        lanes[i % 2] = await lane(i % 2 === 1);
      }
      await expectAlive(s);
    }
  });
});

describe('serve: malformed URLs and requests', () => {
  it('answers bad percent-encodings in path or query with 400 in Massive error shape', async () => {
    const s = await serve();
    for (const target of [
      '/v3/snapshot/options/%ZZ',
      '/v3/snapshot/options/%',
      '/v3/snapshot/options/I%3ASPX%',
      '/v3/snapshot/options/%C3%28', // percent-encoded invalid UTF-8
      `${CHAIN}?limit=10&foo=%ZZ`,
      `${CHAIN}?%=1`,
      `${CHAIN}?apiKey=%E2%82`,
      '/%ZZ',
    ]) {
      const r = await request(s.port, target);
      expect(r.status, target).toBe(400);
      expect(r.headers['content-type']).toBe('application/json');
      expectMassiveError(JSON.parse(r.text), /percent-encoding/);
      expect(r.headers['x-request-id']).toBe(JSON.parse(r.text).request_id);
    }
    // A well-formed encoding of the underlying is still served.
    const encoded = await request(s.port, '/v3/snapshot/options/I%3ASPX?limit=250');
    expect(encoded.status).toBe(200);
    expect(JSON.parse(encoded.text).results).toHaveLength(ITEMS.length);
    await expectAlive(s);
  });

  it('answers an absurdly long URL with 400 (431 past the header limit), `//` and odd targets without throwing', async () => {
    const s = await serve();
    const long = await request(s.port, `${CHAIN}?x=${'a'.repeat(10_000)}`);
    expect(long.status).toBe(400);
    expectMassiveError(JSON.parse(long.text), /too long/);
    // Past Node's 16 KiB header limit the parser refuses the request before any handler runs.
    const huge = await rawExchange(s.port, `GET ${CHAIN}?x=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    if (huge !== '') {
      const r = parseRaw(huge);
      expect(r.status).toBe(431);
      expectMassiveError(r.body);
    }
    for (const target of ['//', '//x/v3/snapshot/options/I:SPX', '/v3//snapshot']) {
      const r = await request(s.port, target);
      expect(r.status, target).toBe(404);
      expectMassiveError(JSON.parse(r.text), /not found/i);
    }
    // Neither origin-form nor a URL: `*` (asterisk-form) and `http://[` (absolute-form that does not parse).
    for (const target of ['*', 'http://[', 'x']) {
      const r = await request(s.port, target);
      expect(r.status, target).toBe(400);
      expectMassiveError(JSON.parse(r.text));
    }
    const absolute = await request(s.port, `http://127.0.0.1:${s.port}${CHAIN}?limit=250`);
    expect(absolute.status).toBe(200);
    await expectAlive(s);
  });

  it('answers garbage bytes instead of HTTP with 400 in Massive error shape', async () => {
    const s = await serve();
    // A request line must start with a method: the 0x01 keeps random bytes that happen to begin one
    // from leaving the parser waiting for more.
    const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 512 }), { seed: SEED, numRuns: 20 }).map((b) => Buffer.concat([Buffer.from([0x01]), b, Buffer.from('\r\n\r\n')]));
    const handmade = ['\x00\x01\x02 / HTTP/1.1\r\n\r\n', 'GET / HTTP/9.9x\r\n\r\n', 'GET /\x00 HTTP/1.1\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'];
    for (const bytes of [...handmade.map((t) => Buffer.from(t, 'latin1')), ...garbage]) {
      const raw = await rawExchange(s.port, bytes);
      const r = parseRaw(raw);
      expect(r.status, bytes.toString('hex')).toBe(400);
      expectMassiveError(r.body, /malformed HTTP request/i);
    }
    await expectAlive(s);
  });

  it('seeded fuzz: 200 random request targets never throw and get 200/400/401/404 with a JSON body', async () => {
    const s = await serve();
    // http.request sends the target as is (characters 0x21–0xff); Node's parser refuses bytes
    // ≥ 0x7f before any handler runs, so only the `é` constant carries one: most targets reach
    // serve's own URL handling.
    const anyChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
    const urlChar = fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@/?%'.split(''));
    const piece = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('%', '%Z', '%ZZ', '%2', '%25', '%3A', '%C3%28', '%E2%82', '%FF', '%00', '%C3%A9', '\u00e9', '/', '//', '?', '&', '=', '+', '..', 'I:SPX', 'limit=', 'limit=300', 'cursor=', 'apiKey=', 'expiration_date.gte=2025-11-21', 'strike_price=', 'sort=strike_price', 'order=desc', 'contract_type=') },
      { weight: 4, arbitrary: fc.string({ unit: urlChar, maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: anyChar, maxLength: 4 }) },
    );
    const target = fc
      .tuple(fc.constantFrom('/v3/snapshot/options/', `${CHAIN}?`, `${CHAIN}?limit=1&`, '/', '//', 'x'), fc.array(piece, { maxLength: 12 }))
      .map(([head, rest]) => head + rest.join(''));
    const targets = fc.sample(target, { seed: SEED, numRuns: 200 });
    for (let batch = 0; batch < 4; batch++) {
      for (const [i, t] of targets.slice(batch * 50, batch * 50 + 50).entries()) {
        const r = await request(s.port, t, { headers: i % 10 === 9 ? {} : KEY });
        expect([200, 400, 401, 404], `${t} → ${r.status} ${r.text.slice(0, 200)}`).toContain(r.status);
        const body = JSON.parse(r.text) as { status: string };
        if (r.status === 200) expect(body.status, t).toBe('OK');
        else expectMassiveError(body);
      }
      await expectAlive(s);
    }
  });
});

describe('SSE server: HEAD and malformed paths', () => {
  async function sse(): Promise<SseServer> {
    const server = await SseServer.start({ strategies: ['single', 'fly'], port: 0, heartbeatMs: 60_000 });
    cleanup.push(() => server.close('test', 0));
    return server;
  }

  it('HEAD /health and HEAD /sse/heatmap answer 200 with no body', async () => {
    const server = await sse();
    for (const target of ['/health', '/sse/heatmap']) {
      const r = await request(server.port, target, { method: 'HEAD', headers: {} });
      expect(r.status, target).toBe(200);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.text).toBe('');
    }
    const head = await rawExchange(server.port, 'HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.slice(head.indexOf('\r\n\r\n') + 4)).toBe('');
    // HEAD on a stream: its headers, no body, and no client left attached.
    const stream = await request(server.port, '/sse/heatmap/fly', { method: 'HEAD', headers: {} });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.text).toBe('');
    const list = JSON.parse((await request(server.port, '/sse/heatmap', { headers: {} })).text) as { strategies: { clients: number }[] };
    expect(list.strategies.map((st) => st.clients)).toEqual([0, 0]);
    expect((await request(server.port, '/health', { method: 'POST', headers: {} })).status).toBe(405);
  });

  it('a malformed percent-encoded stream path or `//` gets a 4xx, and the server keeps serving', async () => {
    const server = await sse();
    for (const target of ['/sse/heatmap/%ZZ', '/sse/heatmap/%', '/sse/heatmap/%C3%28', '/sse/heatmap/fly%']) {
      const r = await request(server.port, target, { headers: {} });
      expect(r.status, target).toBe(404);
      expect(JSON.parse(r.text)).toMatchObject({ strategies: ['single', 'fly'] });
    }
    for (const target of ['//', '//x/health']) {
      const r = await request(server.port, target, { headers: {} });
      expect(r.status, target).toBeGreaterThanOrEqual(400);
      expect(r.status, target).toBeLessThan(500);
    }
    expect(crashes.map(String)).toEqual([]);
    const health = await request(server.port, '/health', { headers: {} });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok' });
  });
});
