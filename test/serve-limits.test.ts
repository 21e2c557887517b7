/**
 * `heatmap serve` at its limits: a port already in use is said plainly (what to do, exit 1 like
 * `--sse`), and `--max-connections` caps HTTP requests in flight plus WebSocket connections, refusing
 * the excess the way Massive would — REST 503 in its error shape, WS a `max_connections` status and
 * a 1013 "try again later" close.
 */
import { existsSync, promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chainLine, wsLine } from '../src/recording/lines.js';
import { RecordingWriter } from '../src/recording/writer.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { ROOT, runCli } from './helpers/cli.js';
import { chainItem, makeContracts, tickerOf } from './helpers/massive-test-server.js';

const T0 = 1763740800000000; // 2025-11-21T16:00:00Z
const CONTRACTS = makeContracts('SPXW', ['2025-11-21'], [5890, 5895, 5900]);
const ITEMS = CONTRACTS.map((c) => chainItem(c, 5900));
const TRADE = `{"ev":"T","sym":"${tickerOf(CONTRACTS[0]!)}","x":302,"p":12.5,"s":1,"t":1763740802000,"q":11}`;
const CHAIN = '/v3/snapshot/options/I:SPX';

let base: string;
let recDir: string;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests (npm test does)');
  base = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-serve-limits-'));
  recDir = path.join(base, 'rec');
  const w = await RecordingWriter.create(recDir, { underlying: 'I:SPX', source: 'sim', created_us: T0, flushIntervalMs: 0 });
  const body = `{"results":[${ITEMS.join(',')}],"status":"OK","request_id":"r"}`;
  w.writeLine('chain', chainLine({ recv_us: T0 + 100_000, req_us: T0, snapshot: 0, page: 0, last: true, url: `${CHAIN}?limit=250`, status: 200 }, body));
  w.writeLine('options', wsLine(T0 + 2_000_000, `[${TRADE}]`));
  await w.close();
});

afterAll(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function serve(maxConnections: number): Promise<RunningServer> {
  const s = await startServer({ dir: recDir, port: 0, hold: 'manual', maxConnections, log: () => undefined });
  cleanup.push(() => s.close());
  return s;
}

/** A WS client that keeps every message and how it closed. */
function wsClient(url: string): { ws: WebSocket; messages: string[]; opened: Promise<string>; closed: Promise<{ code: number; reason: string }> } {
  const ws = new WebSocket(url);
  const messages: string[] = [];
  const opened = new Promise<string>((resolve, reject) => {
    ws.once('message', (d) => resolve(d.toString()));
    ws.once('error', reject);
  });
  ws.on('message', (d) => messages.push(d.toString()));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  cleanup.push(async () => {
    ws.terminate();
    await closed;
  });
  return { ws, messages, opened, closed };
}

async function get(url: string): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(url, { headers: { authorization: 'Bearer k' } });
  return { status: res.status, headers: res.headers, json: JSON.parse(await res.text()) };
}

describe('serve --max-connections', () => {
  it('refuses the connection over the limit: WS max_connections + 1013, REST 503 in Massive\'s shape; room again once one leaves', async () => {
    const s = await serve(3);
    const clients = [wsClient(`${s.wsUrl}/options`), wsClient(`${s.wsUrl}/indices`), wsClient(`${s.wsUrl}/options`)];
    for (const c of clients) expect(await c.opened).toContain('"status":"connected"');

    const fourth = wsClient(`${s.wsUrl}/options`);
    const refusal = JSON.parse(await fourth.opened) as { ev: string; status: string; message: string }[];
    expect(refusal).toEqual([{ ev: 'status', status: 'max_connections', message: 'too many connections (limit 3)' }]);
    expect(await fourth.closed).toEqual({ code: 1013, reason: 'try again later' });

    const rest = await get(`${s.restUrl}${CHAIN}`);
    expect(rest.status).toBe(503);
    expect(rest.json).toEqual({ status: 'ERROR', request_id: expect.stringMatching(/^serve-/), error: 'too many connections (limit 3)' });
    expect(rest.headers.get('x-request-id')).toBe(rest.json.request_id);
    expect(rest.headers.get('retry-after')).toBe('1');

    // One client leaves: the server sees its close (bounded wait), then there is room again.
    clients[0]!.ws.close();
    await clients[0]!.closed;
    let after = await get(`${s.restUrl}${CHAIN}`);
    for (let i = 0; i < 200 && after.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 25));
      after = await get(`${s.restUrl}${CHAIN}`);
    }
    expect(after.status).toBe(200);
    expect(after.json.results).toHaveLength(CONTRACTS.length);
    const again = wsClient(`${s.wsUrl}/stocks`);
    expect(await again.opened).toContain('"status":"connected"');
  });

  it('requests and WS connections under the limit are served as before', async () => {
    const s = await serve(3);
    const a = wsClient(`${s.wsUrl}/options`);
    expect(await a.opened).toContain('"status":"connected"');
    const replies = await Promise.all([get(`${s.restUrl}${CHAIN}`), get(`${s.restUrl}${CHAIN}`)]);
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
  });

  it('the flag is checked (exit 2) and shown with its default in --help', async () => {
    const bad = await runCli(['serve', recDir, '--port', '0', '--max-connections', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^heatmap: --max-connections/);
    const help = await runCli(['serve', '--help']);
    expect(help.stdout).toMatch(/--max-connections <n>[\s\S]*default 256/);
  });
});

describe('serve on a port in use', () => {
  it('says which port and what to do, exit 1 (as --sse does)', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as AddressInfo).port;
    const r = await runCli(['serve', recDir, '--port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`heatmap: cannot serve on 127.0.0.1:${port}: port ${port} is already in use — pick another --port (0 = any free port)`);
    expect(r.stderr).not.toMatch(/listen EADDRINUSE/);
  });
});
