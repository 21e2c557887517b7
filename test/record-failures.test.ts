/**
 * How the recorder meets failure: a session that never reached Massive says so and exits 1 (after
 * retrying for its whole duration), and a chain page that fails is retried in place — same cursor,
 * same snapshot — before the snapshot is given up.
 */
import { existsSync, promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/engine/config.js';
import { RuntimeError } from '../src/errors.js';
import type { StreamName } from '../src/recording/lines.js';
import { newReadReport, readRecording } from '../src/recording/reader.js';
import { runRecorder, type RecorderOptions, type RecorderSummary } from '../src/recorder/recorder.js';
import { ROOT, runCli } from './helpers/cli.js';
import { chainItem, makeContracts, MassiveTestServer } from './helpers/massive-test-server.js';

const EXPS = ['2031-03-21', '2031-03-24'];
const CONTRACTS = makeContracts('SPXW', EXPS, Array.from({ length: 41 }, (_, i) => 5800 + 5 * i));
const SPOT = 5900;
const CONFIG = validateConfig({ topology: { expirations: EXPS, strike_band_points: 20 } });

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests (npm test does)');
});

async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-record-failures-'));
  cleanup.push(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

/** A port nothing listens on: bound by us, noted, released. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('a session that never reached Massive', () => {
  it('record: retries for its whole duration, then exits 1 saying what happened', async () => {
    const port = await closedPort();
    const dir = await tmp();
    const r = await runCli(
      ['record', '--out', path.join(dir, 'rec'), '--rest-url', `http://127.0.0.1:${port}`, '--ws-url', `ws://127.0.0.1:${port}`, '--duration', '3s', '--status-interval', '0s'],
      { env: { MASSIVE_API_KEY: 'any' } },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(r.stderr).toMatch(/recorded 00:00:0\d \(duration\)/); // it ran to the end of its duration
    expect(r.stderr).toMatch(/topology: not built/);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(new RegExp(`^heatmap: recorded nothing: REST http://127\\.0\\.0\\.1:${port} refused the connection (once|\\d+ times) \\(ECONNREFUSED\\)`));
    expect(last).toContain(`WS ws://127.0.0.1:${port}/options never connected (ECONNREFUSED`);
    expect(last).toContain(`ws://127.0.0.1:${port}/indices never connected (ECONNREFUSED`);
    expect(last).not.toMatch(/\n\s+at /);
  });

  it('live: the same', async () => {
    const port = await closedPort();
    const r = await runCli(
      ['live', '--rest-url', `http://127.0.0.1:${port}`, '--ws-url', `ws://127.0.0.1:${port}`, '--duration', '3s', '--status-interval', '0s', '--api-key', 'any'],
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(new RegExp(`^heatmap: recorded nothing: REST http://127\\.0\\.0\\.1:${port} refused the connection (once|\\d+ times) \\(ECONNREFUSED\\); WS ws://127\\.0\\.0\\.1:${port}/options never connected`));
  });

  it('a session that recorded something still ends with exit 0', async () => {
    const s = await MassiveTestServer.start({ chain: () => CONTRACTS.map((contract) => ({ contract, raw: chainItem(contract, SPOT) })) });
    cleanup.push(() => s.close());
    const dir = await tmp();
    const config = path.join(dir, 'config.json');
    await fsp.writeFile(config, JSON.stringify({ topology: { expirations: EXPS, strike_band_points: 20 } }));
    const r = await runCli(
      ['record', '--out', path.join(dir, 'rec'), '--rest-url', s.restUrl, '--ws-url', s.wsUrl, '--config', config, '--duration', '2s', '--spot-wait', '0s', '--status-interval', '0s'],
      { env: { MASSIVE_API_KEY: 'any' } },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/recorded nothing/);
  });
});

interface Run {
  readonly logs: string[];
  readonly lines: { stream: StreamName; line: string }[];
  readonly outDir: string;
  stop(): Promise<RecorderSummary>;
}

async function startRecorder(server: MassiveTestServer, extra: Partial<RecorderOptions> = {}): Promise<Run> {
  const outDir = path.join(await tmp(), 'rec');
  const ctl = new AbortController();
  const logs: string[] = [];
  const lines: Run['lines'] = [];
  const result = runRecorder({
    underlying: 'I:SPX',
    restUrl: server.restUrl,
    wsUrl: server.wsUrl,
    apiKey: 'any',
    config: CONFIG,
    outDir,
    signal: ctl.signal,
    log: (m) => logs.push(m),
    onLine: (stream, line) => lines.push({ stream, line }),
    statusIntervalMs: 0,
    snapshotFloorMs: 20,
    backoffBaseMs: 10,
    backoffCapMs: 40,
    spotWaitMs: 5000,
    ...extra,
  });
  result.catch(() => undefined);
  return { logs, lines, outDir, stop: async () => (ctl.abort(), result) };
}

/** Chain lines of the recording on disk, as `s<snapshot>p<page>` (`!` when last) or `gap:<reason>`. */
async function chainOrder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readRecording(dir, {}, newReadReport())) {
    if (l.stream !== 'chain') continue;
    const o = JSON.parse(l.text) as { gap?: { reason: string }; snapshot?: number; page?: number; last?: boolean };
    out.push(o.gap ? `gap:${o.gap.reason}` : `s${o.snapshot}p${o.page}${o.last ? '!' : ''}`);
  }
  return out;
}

async function pagedServer(): Promise<MassiveTestServer> {
  const s = await MassiveTestServer.start({
    chain: () => CONTRACTS.map((contract) => ({ contract, raw: chainItem(contract, SPOT) })),
    pageSize: 30, // 68 contracts in the band: pages of 30, 30, 8
    onSubscribe: (conn) => {
      if (conn.cluster === 'indices') conn.ws.send(JSON.stringify([{ ev: 'V', val: SPOT, T: 'I:SPX', t: Date.now() }]));
    },
  });
  cleanup.push(() => s.close());
  return s;
}

const completed = (r: Run): number => r.lines.filter((l) => l.stream === 'chain' && l.line.includes('"last":true')).length;

describe('a chain page that fails', () => {
  it('is retried with the same cursor; the snapshot completes and is not restarted', async () => {
    const s = await pagedServer();
    s.failNext(/[?&]cursor=/, 503);
    const r = await startRecorder(s);
    await s.until(() => completed(r) >= 1, 'a complete snapshot');
    const summary = await r.stop();

    // The failed request and the next one ask for the same page (same cursor).
    const failedAt = s.requests.findIndex((q) => q.query.has('cursor'));
    expect(s.faults).toEqual([{ n: s.requests[failedAt]!.n, url: s.requests[failedAt]!.url, status: 503 }]);
    expect(s.requests[failedAt + 1]!.url).toBe(s.requests[failedAt]!.url);

    // Snapshot 0 holds every page; the failure is one gap between its pages; nothing started over.
    const order = await chainOrder(r.outDir);
    expect(order.slice(0, 4)).toEqual(['s0p0', 'gap:http_503', 's0p1', 's0p2!']);
    expect(summary.snapshots.failed).toBe(1);
    expect(summary.snapshots.complete).toBeGreaterThanOrEqual(1);
    expect(r.logs.some((m) => /^chain: HTTP 503 .* on snapshot 0 page 1 — retrying the page in \d+\.\d s \(retry 1 of 3\)/.test(m))).toBe(true);
  });

  it('a page that keeps failing: after 3 retries the snapshot is given up and a new one starts', async () => {
    const s = await pagedServer();
    for (let i = 0; i < 4; i++) s.failNext(/[?&]cursor=/, 502);
    const r = await startRecorder(s);
    await s.until(() => completed(r) >= 1, 'a complete snapshot after giving up');
    const summary = await r.stop();
    const cursorUrls = s.requests.filter((q) => q.query.has('cursor')).slice(0, 4).map((q) => q.url);
    expect(new Set(cursorUrls).size).toBe(1); // four tries of the same page
    const order = (await chainOrder(r.outDir)).filter((x) => !x.startsWith('gap'));
    expect(order.slice(0, 4)).toEqual(['s0p0', 's1p0', 's1p1', 's1p2!']);
    expect(summary.snapshots.failed).toBe(4);
    expect(r.logs.some((m) => /snapshot 0 page 1 failed 4 times — giving up the snapshot/.test(m))).toBe(true);
  });

  it('401 on a retried page is still fatal', async () => {
    const s = await pagedServer();
    s.failNext(/[?&]cursor=/, 503);
    s.failNext(/[?&]cursor=/, 401);
    const run = runRecorder({
      underlying: 'I:SPX', restUrl: s.restUrl, wsUrl: s.wsUrl, apiKey: 'any', config: CONFIG, log: () => undefined,
      statusIntervalMs: 0, snapshotFloorMs: 20, backoffBaseMs: 10, backoffCapMs: 40, spotWaitMs: 5000,
    });
    await expect(run).rejects.toThrow(RuntimeError);
    await expect(run).rejects.toThrow(/Massive REST rejected the API key: HTTP 401/);
    expect(s.faults.map((f) => f.status)).toEqual([503, 401]);
  });
});
