/**
 * The recorder against a Massive look-alike on loopback (real HTTP + WebSocket sockets, real
 * files): the happy path, topology-driven subscriptions, and every fault of issue #5.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeError } from '../src/errors.js';
import { validateConfig, type EngineConfig } from '../src/engine/config.js';
import { readManifest } from '../src/recording/manifest.js';
import { newReadReport, readRecording } from '../src/recording/reader.js';
import { runRecorder, type RecorderOptions, type RecorderSummary } from '../src/recorder/recorder.js';
import { replayRecording } from '../src/replay/replay.js';
import type { StreamName } from '../src/recording/lines.js';
import { chainItem, makeContracts, MassiveTestServer, tickerOf, type TestServerOptions, type TestContract } from './helpers/massive-test-server.js';

const KEY = 'tk-REDACT-ME-4b1f0c9e7a2d';
const EXPS = ['2031-03-21', '2031-03-24'];
const STRIKES = Array.from({ length: 41 }, (_, i) => 5800 + 5 * i); // 5800..6000
const CONTRACTS = makeContracts('SPXW', EXPS, STRIKES);
const SPOT = 5900;
const CONFIG: EngineConfig = validateConfig({ topology: { expirations: EXPS, strike_band_points: 20 } });
/** Record band 40 around 5900 → strikes 5860..5940: 17 strikes × 2 rights × 2 expirations. */
const IN_BAND = CONTRACTS.filter((c) => c.strike >= 5860 && c.strike <= 5940);

const chainOf = (list: readonly TestContract[]) => () => list.map((contract) => ({ contract, raw: chainItem(contract, SPOT) }));

const servers: MassiveTestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function tmpDir(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-record-'));
  dirs.push(d);
  return path.join(d, 'rec');
}

/** A server that answers the chain and sends an index value as soon as /indices subscribes. */
async function startServer(o: TestServerOptions = {}): Promise<MassiveTestServer> {
  const s = await MassiveTestServer.start({
    chain: chainOf(CONTRACTS),
    ...o,
    onSubscribe: (conn, topics) => {
      if (conn.cluster === 'indices') conn.ws.send(JSON.stringify([{ ev: 'V', val: SPOT, T: 'I:SPX', t: Date.now() }]));
      o.onSubscribe?.(conn, topics);
    },
  });
  servers.push(s);
  return s;
}

interface Run {
  readonly logs: string[];
  readonly lines: { stream: StreamName; line: string; recv_us: number }[];
  readonly outDir: string;
  stop(): Promise<RecorderSummary>;
  /** The run's promise (rejects on fatal errors). */
  readonly result: Promise<RecorderSummary>;
}

/** Starts the recorder with fast tunables; `stop()` aborts it and returns its summary. */
async function startRecorder(server: MassiveTestServer, extra: Partial<RecorderOptions> = {}): Promise<Run> {
  const outDir = await tmpDir();
  const ctl = new AbortController();
  const logs: string[] = [];
  const lines: Run['lines'] = [];
  const result = runRecorder({
    underlying: 'I:SPX',
    restUrl: server.restUrl,
    wsUrl: server.wsUrl,
    apiKey: KEY,
    config: CONFIG,
    outDir,
    signal: ctl.signal,
    log: (m) => logs.push(m),
    onLine: (stream, line, recv_us) => lines.push({ stream, line, recv_us }),
    statusIntervalMs: 0,
    snapshotFloorMs: 20,
    backoffBaseMs: 10,
    backoffCapMs: 40,
    pingIntervalMs: 5000,
    spotWaitMs: 5000,
    ...extra,
  });
  result.catch(() => undefined);
  return {
    logs,
    lines,
    outDir,
    result,
    stop: async () => {
      ctl.abort();
      return result;
    },
  };
}

interface Line {
  stream: StreamName;
  text: string;
  obj: Record<string, any>;
}

/** Every line of the recording on disk, in replay order, each checked to be valid JSON. */
async function readBack(dir: string): Promise<Line[]> {
  const report = newReadReport();
  const out: Line[] = [];
  for await (const l of readRecording(dir, {}, report)) out.push({ stream: l.stream, text: l.text, obj: JSON.parse(l.text) as Record<string, any> });
  expect(report.bad.total).toBe(0);
  expect(report.cuts).toEqual([]);
  return out;
}

const gapsOf = (lines: Line[], stream: string) => lines.filter((l) => l.obj.gap && l.obj.gap.stream === stream).map((l) => l.obj.gap);
const chainPages = (lines: Line[]) => lines.filter((l) => l.stream === 'chain' && !l.obj.gap).map((l) => l.obj);
const optionTopics = (s: MassiveTestServer, connIndex = -1) => [...s.conns.filter((c) => c.cluster === 'options').at(connIndex)!.topics].sort();
const snapshotsDone = (lines: Run['lines']) => lines.filter((l) => l.stream === 'chain' && l.line.includes('"last":true')).length;

describe('recorder: happy path', () => {
  it('records chain pages, trades and index values verbatim, subscribed from the topology', async () => {
    const s = await startServer({ pageSize: 30 }); // 68 contracts in band → 3 pages per snapshot
    const r = await startRecorder(s);
    await s.until(() => s.live('options').some((c) => c.topics.size > 0), 'options subscription');
    const [first] = IN_BAND;
    const trade = `[{"ev":"T","sym":"${tickerOf(first!)}","x":302,"p":12.5,"s":1,"c":[209],"t":${Date.now()},"q":4009408}]`;
    s.send('options', trade);
    await s.until(() => r.lines.some((l) => l.stream === 'options' && l.line.includes('"q":4009408')) && snapshotsDone(r.lines) >= 2, 'trade recorded and 2 snapshots');
    const summary = await r.stop();

    // Subscriptions: exactly the in-scope contracts, plus the index value on /indices.
    expect(optionTopics(s)).toEqual(IN_BAND.map((c) => `T.${tickerOf(c)}`).sort());
    expect([...s.conns.find((c) => c.cluster === 'indices')!.topics]).toEqual(['V.I:SPX']);
    // REST: dotted filter keys, limit 250, Bearer header, no key in any URL.
    const firstReq = s.requests[0]!;
    expect(firstReq.path).toBe('/v3/snapshot/options/I:SPX');
    expect(Object.fromEntries(firstReq.query)).toEqual({
      'expiration_date.gte': '2031-03-21',
      'expiration_date.lte': '2031-03-24',
      'strike_price.gte': '5860',
      'strike_price.lte': '5940',
      limit: '250',
    });
    expect(s.requests.every((q) => q.headers.authorization === `Bearer ${KEY}` && !q.url.includes(KEY))).toBe(true);
    expect(s.requests.some((q) => q.query.has('cursor'))).toBe(true);

    const lines = await readBack(r.outDir);
    const pages = chainPages(lines);
    expect(pages.filter((p) => p.snapshot === 0).map((p) => [p.page, p.last])).toEqual([[0, false], [1, false], [2, true]]);
    expect(pages[0]!.url).toMatch(/^\/v3\/snapshot\/options\/I:SPX\?expiration_date\.gte=/);
    expect(pages.every((p) => p.status === 200 && p.req_us <= p.recv_us)).toBe(true);
    // ns integers are stored byte for byte (not rounded through a double).
    const chainText = lines.filter((l) => l.stream === 'chain').map((l) => l.text).join('\n');
    expect(chainText).toContain(`"last_updated":${(1763740811123456789n + 5860000n).toString()}`);
    expect(lines.find((l) => l.stream === 'options' && l.text.includes('4009408'))!.text).toBe(`{"recv_us":${lines.find((l) => l.text.includes('4009408'))!.obj.recv_us},"frame":${trade}}`);
    expect(lines.some((l) => l.stream === 'indices' && l.obj.frame?.[0]?.ev === 'V')).toBe(true);
    // Receive times never go back within a stream.
    for (const stream of ['chain', 'options', 'indices'] as const) {
      const ts = lines.filter((l) => l.stream === stream).map((l) => l.obj.recv_us as number);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
    // onLine saw exactly what the files hold, in the same order per stream.
    for (const stream of ['chain', 'options', 'indices'] as const) {
      expect(r.lines.filter((l) => l.stream === stream).map((l) => l.line)).toEqual(lines.filter((l) => l.stream === stream).map((l) => l.text));
    }
    const manifest = await readManifest(r.outDir);
    expect(manifest.source).toBe('massive');
    expect(manifest.streams.chain!.lines).toBe(pages.length);
    expect(summary.stop).toBe('signal');
    expect(summary.topology).toMatchObject({ lo: 5860, hi: 5940, spotSource: 'index', expirations: EXPS, contracts: IN_BAND.length });
    expect(summary.snapshots.complete).toBeGreaterThanOrEqual(2);

    // The recording replays into a topology.
    const replay = await replayRecording({ dir: r.outDir, config: CONFIG, onOutput: () => undefined });
    expect(replay.summary.topology).not.toBeNull();
    expect(replay.summary.snapshots.complete).toBeGreaterThanOrEqual(2);
  });

  it('subscriptions follow the topology as later snapshots add contracts; --quotes adds Q. topics', async () => {
    const extra: TestContract = { root: 'SPXW', expiration: EXPS[0]!, right: 'C', strike: 5902.5 };
    let withExtra = false;
    const s = await startServer({ chain: () => chainOf(withExtra ? [...CONTRACTS, extra] : CONTRACTS)() });
    const r = await startRecorder(s, { quotes: true });
    await s.until(() => s.live('options').some((c) => c.topics.size > 0), 'first subscription');
    expect(optionTopics(s)).not.toContain(`T.${tickerOf(extra)}`);
    expect(optionTopics(s).filter((t) => t.startsWith('Q.')).length).toBe(IN_BAND.length);
    withExtra = true;
    await s.until(() => optionTopics(s).includes(`T.${tickerOf(extra)}`), 'the new contract subscribed');
    expect(optionTopics(s)).toContain(`Q.${tickerOf(extra)}`);
    const summary = await r.stop();
    expect(summary.topology!.contracts).toBe(IN_BAND.length + 1);
  });

  it('--all-trades subscribes T.* instead of per-contract topics', async () => {
    const s = await startServer();
    const r = await startRecorder(s, { allTrades: true });
    await s.until(() => snapshotsDone(r.lines) >= 1 && s.live('options').length > 0, 'a snapshot');
    await r.stop();
    expect(optionTopics(s)).toEqual(['T.*']);
  });

  it('centres the band by put–call parity when no index value arrives, and counts DTE from the session date', async () => {
    // No V frame: spot from parity of the first (unfiltered-strike) snapshot. Session 2031-03-21 (a Friday) with
    // max_dte 1 covers Friday and Monday.
    const s = await MassiveTestServer.start({ chain: chainOf(CONTRACTS) });
    servers.push(s);
    const t0 = Date.parse('2031-03-21T15:00:00Z') * 1000;
    const wall0 = Date.now();
    const r = await startRecorder(s, {
      config: validateConfig({ topology: { max_dte: 1, strike_band_points: 20 } }),
      spotWaitMs: 0,
      now: () => t0 + (Date.now() - wall0) * 1000,
    });
    await s.until(() => snapshotsDone(r.lines) >= 2, 'two snapshots');
    const summary = await r.stop();
    expect(Object.fromEntries(s.requests[0]!.query)).toEqual({ 'expiration_date.gte': '2031-03-21', 'expiration_date.lte': '2031-03-24', limit: '250' });
    expect(summary.topology).toMatchObject({ spotSource: 'parity', spot: SPOT, lo: 5860, hi: 5940, sessionDate: '2031-03-21' });
    expect(s.requests[1]!.query.get('strike_price.gte')).toBe('5860');
  });
});

describe('recorder: other shapes', () => {
  it('an ETF underlying takes spot from /stocks trades and polls its own chain', async () => {
    const s = await MassiveTestServer.start({
      chain: chainOf(makeContracts('SPY', EXPS, [580, 585, 590, 595, 600])),
      onSubscribe: (conn) => {
        if (conn.cluster === 'stocks') conn.ws.send(JSON.stringify([{ ev: 'T', sym: 'SPY', x: 4, i: '1', z: 2, p: 590.01, s: 100, t: Date.now(), q: 5 }]));
      },
    });
    servers.push(s);
    const r = await startRecorder(s, { underlying: 'SPY', config: validateConfig({ topology: { expirations: EXPS, strike_band_points: 5 } }) });
    await s.until(() => snapshotsDone(r.lines) >= 1 && s.live('options').some((c) => c.topics.size > 0), 'a snapshot and subscriptions');
    const summary = await r.stop();
    expect([...s.conns.find((c) => c.cluster === 'stocks')!.topics]).toEqual(['T.SPY']);
    expect(s.conns.some((c) => c.cluster === 'indices')).toBe(false);
    expect(s.requests[0]!.path).toBe('/v3/snapshot/options/SPY');
    expect(summary.topology).toMatchObject({ spot: 590.01, lo: 580.01, hi: 600.01 });
    expect(optionTopics(s)).toHaveLength(4 * 2 * 2); // strikes 585..600 × C/P × 2 expirations
    const lines = await readBack(r.outDir);
    expect(lines.some((l) => l.stream === 'stocks' && l.obj.frame?.[0]?.sym === 'SPY')).toBe(true);
  });

  it('without outDir writes nothing and hands every line to onLine (what `live` uses)', async () => {
    const s = await startServer();
    const ctl = new AbortController();
    const got: { stream: StreamName; line: string; recv_us: number }[] = [];
    const run = runRecorder({
      underlying: 'I:SPX',
      restUrl: s.restUrl,
      wsUrl: s.wsUrl,
      apiKey: KEY,
      config: CONFIG,
      signal: ctl.signal,
      log: () => undefined,
      statusIntervalMs: 0,
      snapshotFloorMs: 20,
      onLine: (stream, line, recv_us) => {
        got.push({ stream, line, recv_us });
        if (got.filter((g) => g.stream === 'chain').length >= 2) ctl.abort();
      },
    });
    const summary = await run;
    expect(summary.outDir).toBeUndefined();
    expect(summary.files).toEqual([]);
    expect(got.map((g) => g.stream)).toContain('indices');
    // One receive clock: lines arrive in non-decreasing recv_us across all streams.
    const ts = got.map((g) => g.recv_us);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    for (const g of got) expect(JSON.parse(g.line).recv_us).toBe(g.recv_us);
  });
});

describe('recorder: REST faults', () => {
  it('429 with Retry-After: records a chain gap, honours the header, recovers', async () => {
    const s = await startServer({
      rest: (q) => (q.n === 2 ? { status: 429, body: "You've exceeded the maximum requests per minute", headers: { 'retry-after': '1' } } : undefined),
    });
    const r = await startRecorder(s);
    await s.until(() => snapshotsDone(r.lines) >= 2, 'a snapshot after the 429');
    const summary = await r.stop();
    expect(r.logs.some((m) => m.includes('HTTP 429') && m.includes('retrying the page in 1.0 s, as Retry-After asks'))).toBe(true);
    const lines = await readBack(r.outDir);
    const gaps = gapsOf(lines, 'chain');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ stream: 'chain', reason: 'http_429' });
    expect(gaps[0].to_us).toBeGreaterThan(gaps[0].from_us);
    // The gap line sits between the snapshot before and the retried page (same snapshot, not a new one).
    const order = lines.filter((l) => l.stream === 'chain').map((l) => (l.obj.gap ? 'gap' : `s${l.obj.snapshot}`));
    expect(order.slice(0, 3)).toEqual(['s0', 'gap', 's1']);
    expect(summary.snapshots.failed).toBe(1);
    expect(summary.gaps.chain).toBe(1);
  });

  it('5xx with an HTML body and a 200 that is not JSON: gaps, never an invalid line', async () => {
    const s = await startServer({
      rest: (q) =>
        q.n === 2
          ? { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', headers: { 'content-type': 'text/html' } }
          : q.n === 3
            ? { status: 200, body: '<html>maintenance</html>' }
            : undefined,
    });
    const r = await startRecorder(s);
    await s.until(() => snapshotsDone(r.lines) >= 2, 'recovery');
    await r.stop();
    const lines = await readBack(r.outDir); // every line parsed as JSON
    expect(gapsOf(lines, 'chain').map((g) => g.reason)).toEqual(['http_502', 'http']);
    expect(chainPages(lines).every((p) => p.status === 200 && typeof p.body === 'object')).toBe(true);
  });

  it('a connection torn in the middle of a page: network gap, page retried', async () => {
    const s = await startServer({ pageSize: 30, rest: (q, byDefault) => (q.n === 2 ? { ...byDefault(), tear: true } : undefined) });
    const r = await startRecorder(s);
    await s.until(() => snapshotsDone(r.lines) >= 1, 'a complete snapshot after the tear');
    await r.stop();
    const lines = await readBack(r.outDir);
    expect(gapsOf(lines, 'chain').map((g) => g.reason)).toEqual(['network']);
    // Page 1 of snapshot 0 is asked again (same cursor) and the snapshot completes.
    const pages = chainPages(lines);
    expect(pages.filter((p) => p.snapshot === 0).map((p) => [p.page, p.last])).toEqual([[0, false], [1, false], [2, true]]);
    expect(s.requests[2]!.url).toBe(s.requests[1]!.url);
    expect(r.logs.some((m) => m.startsWith('chain: network failure'))).toBe(true);
  });

  it('a next_url that loops back to a cursor already fetched (#289) ends the snapshot', async () => {
    const s = await startServer({
      rest: (q, byDefault) => {
        const base = byDefault();
        const page = q.query.has('cursor') ? '{"results":[],"status":"OK"' : base.body.slice(0, -1);
        return { status: 200, body: `${page},"next_url":"http://127.0.0.1:${s.port}/v3/snapshot/options/I:SPX?cursor=LOOP"}` };
      },
    });
    const r = await startRecorder(s);
    await s.until(() => snapshotsDone(r.lines) >= 2, 'two snapshots');
    const summary = await r.stop();
    const pages = chainPages(await readBack(r.outDir));
    expect(pages.filter((p) => p.snapshot === 0).map((p) => [p.page, p.last])).toEqual([[0, false], [1, true]]);
    expect(summary.snapshots.loops).toBeGreaterThanOrEqual(2);
    expect(r.logs.some((m) => m.includes('#289'))).toBe(true);
    // The cursor request went to our base URL with the Bearer header and no key in the query.
    expect(s.requests[1]!.url).toBe('/v3/snapshot/options/I:SPX?cursor=LOOP');
  });

  it('stops paging at the page cap', async () => {
    const s = await startServer({
      rest: (q) => ({ status: 200, body: `{"results":[],"status":"OK","next_url":"/v3/snapshot/options/I:SPX?cursor=c${q.n}"}` }),
    });
    const r = await startRecorder(s, { pageCap: 3 });
    await s.until(() => snapshotsDone(r.lines) >= 1, 'a capped snapshot');
    const summary = await r.stop();
    const pages = chainPages(await readBack(r.outDir));
    expect(pages.filter((p) => p.snapshot === 0).map((p) => [p.page, p.last])).toEqual([[0, false], [1, false], [2, true]]);
    expect(summary.snapshots.capped).toBeGreaterThanOrEqual(1);
  });

  it('drops duplicates and contracts outside the requested filter from the subscriptions (#237)', async () => {
    const stray: TestContract = { root: 'SPXW', expiration: '2031-04-18', right: 'C', strike: 5900 };
    const s = await startServer({
      pageSize: 40,
      rest: (q, byDefault) => {
        if (!q.query.has('cursor')) return undefined;
        // The later page also lists another expiry and repeats a contract of the first page.
        const body = byDefault().body.replace('"results":[', `"results":[${chainItem(stray, SPOT)},${chainItem(IN_BAND[0]!, SPOT)},`);
        return { status: 200, body };
      },
    });
    const r = await startRecorder(s);
    await s.until(() => snapshotsDone(r.lines) >= 1, 'a snapshot');
    const summary = await r.stop();
    expect(optionTopics(s)).toEqual(IN_BAND.map((c) => `T.${tickerOf(c)}`).sort());
    expect(summary.chain_dropped.duplicates).toBeGreaterThanOrEqual(1);
    expect(summary.chain_dropped.out_of_filter).toBeGreaterThanOrEqual(1);
    // The page itself is stored verbatim, stray contract included.
    const lines = await readBack(r.outDir);
    expect(lines.some((l) => l.stream === 'chain' && l.text.includes(tickerOf(stray)))).toBe(true);
  });

  it('401: stops with a clear message (exit code 1) that never holds the key; the recording is finalised', async () => {
    const s = await startServer({ rest: () => ({ status: 401, body: `{"status":"ERROR","request_id":"x","error":"Unknown API Key ${KEY}"}` }) });
    const r = await startRecorder(s);
    const err = await r.result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).exitCode).toBe(1);
    const msg = (err as Error).message;
    expect(msg).toMatch(/HTTP 401/);
    expect(msg).toMatch(/MASSIVE_API_KEY/);
    expect(msg).not.toContain(KEY);
    expect(msg).toContain('***');
    const manifest = await readManifest(r.outDir);
    expect(manifest.source).toBe('massive');
    expect((err as { summary?: RecorderSummary }).summary?.stop).toBe('error');
  });
});

describe('recorder: WebSocket faults', () => {
  it('a dropped socket: reconnect, re-auth, resubscribe everything, gap record', async () => {
    const s = await startServer();
    const r = await startRecorder(s);
    await s.until(() => s.live('options').some((c) => c.topics.size === IN_BAND.length), 'subscribed');
    const before = optionTopics(s);
    s.dropAll('options');
    await s.until(() => s.conns.filter((c) => c.cluster === 'options').length === 2 && optionTopics(s).length === before.length, 'resubscribed');
    const second = s.conns.filter((c) => c.cluster === 'options')[1]!;
    expect(second.received[0]).toEqual({ action: 'auth', params: KEY });
    await s.until(() => r.lines.some((l) => l.stream === 'options' && l.line.includes('"gap"')), 'gap line');
    const summary = await r.stop();
    expect(optionTopics(s)).toEqual(before);
    const gaps = gapsOf(await readBack(r.outDir), 'options');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ stream: 'options', reason: 'disconnect' });
    expect(gaps[0].to_us).toBeGreaterThanOrEqual(gaps[0].from_us);
    expect(summary.reconnects.options).toBe(1);
    expect(r.logs.some((m) => m.startsWith('options: connection lost (disconnect'))).toBe(true);
  });

  it('a server that stops sending: stale timeout, reconnect, gap from the last frame', async () => {
    const s = await startServer();
    const r = await startRecorder(s, { staleTimeoutMs: { options: 300, indices: 60_000 } });
    await s.until(() => s.conns.filter((c) => c.cluster === 'options' && c.topics.size > 0).length >= 2, 'a second options connection after the stale timeout');
    await s.until(() => r.lines.some((l) => l.stream === 'options' && l.line.includes('"reason":"stale"')), 'stale gap');
    await r.stop();
    const gaps = gapsOf(await readBack(r.outDir), 'options');
    expect(gaps[0]).toMatchObject({ reason: 'stale' });
    expect(gaps[0].to_us - gaps[0].from_us).toBeGreaterThanOrEqual(300_000);
    expect(r.logs.some((m) => m.includes('stale timeout'))).toBe(true);
  });

  it('auth_failed is fatal with a clear message, without the key', async () => {
    const s = await startServer({ auth: (conn) => conn.cluster !== 'options' });
    const r = await startRecorder(s);
    const err = await r.result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toMatch(/options WebSocket rejected the API key \(auth_failed/);
    expect((err as Error).message).not.toContain(KEY);
    expect(s.conns.filter((c) => c.cluster === 'options')).toHaveLength(1); // no reconnect loop
  });

  it.each(['max_connections', 'force_disconnect', 'slow_consumer'])('%s is reported, recorded as the gap reason, and followed by a reconnect', async (status) => {
    const s = await startServer();
    const r = await startRecorder(s);
    await s.until(() => s.live('options').some((c) => c.topics.size > 0), 'subscribed');
    for (const c of s.live('options')) {
      c.ws.send(JSON.stringify([{ ev: 'status', status, message: 'Maximum number of connections exceeded.' }]));
      c.ws.close(1008);
    }
    await s.until(() => s.conns.filter((c) => c.cluster === 'options' && c.topics.size > 0).length === 2, 'reconnected');
    await s.until(() => r.lines.some((l) => l.stream === 'options' && l.line.includes(`"reason":"${status}"`)), 'gap');
    const summary = await r.stop();
    expect(r.logs.some((m) => m.startsWith(`options: WARNING server sent ${status}`))).toBe(true);
    expect(summary.notices.options).toEqual({ [status]: 1 });
  });
});

describe('recorder: the API key never leaks', () => {
  it('is absent from every file, log line and delivered line even when the server echoes it', async () => {
    const s = await startServer({
      rest: (q, byDefault) => {
        if (q.n === 2) return { status: 500, body: `internal error for key ${KEY}` };
        if (q.n === 3) return { status: 200, body: byDefault().body.replace(/}$/, `,"next_url":"/v3/snapshot/options/I:SPX?cursor=k&apiKey=${KEY}"}`) };
        if (q.n === 4) return { status: 200, body: `{"results":[],"status":"OK","note":"${KEY}"}` };
        return undefined;
      },
      onSubscribe: (conn) => {
        if (conn.cluster === 'options') conn.ws.send(JSON.stringify([{ ev: 'status', status: 'error', message: `bad params for ${KEY}` }, { ev: 'T', sym: 'O:X', p: 1, t: Date.now(), echo: KEY }]));
      },
    });
    const r = await startRecorder(s);
    await s.until(() => s.requests.length >= 5 && r.lines.some((l) => l.line.includes('"echo"')), 'the echoes');
    await r.stop();
    expect(s.requests[3]!.url).toBe('/v3/snapshot/options/I:SPX?cursor=k'); // apiKey dropped from next_url
    const files = await fsp.readdir(r.outDir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const raw = await fsp.readFile(path.join(r.outDir, f));
      const text = f.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      expect(text).not.toContain(KEY);
    }
    const all = [...r.logs, ...r.lines.map((l) => l.line)].join('\n');
    expect(all).not.toContain(KEY);
    expect(all).toContain('***');
    // Recorded lines are still valid JSON after redaction.
    await readBack(r.outDir);
  });
});
