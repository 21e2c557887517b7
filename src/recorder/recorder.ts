/**
 * The Massive recorder behind `heatmap record` and `heatmap live`: a REST chain poller and two
 * WebSocket clients (options trades/quotes; index value or ETF trades for spot) feeding one
 * receive clock, one bounded queue and one recording writer (DESIGN §4).
 *
 * The subscription set follows the topology: the first usable chain snapshot fixes the scope
 * (config expirations, a band around spot — see RecordScope) and every later snapshot may add
 * contracts inside it. Every line goes to `onLine` (in receive order) and, with `outDir`, to disk.
 * The API key only ever travels in the REST Bearer header and the WS auth message.
 */
import { RuntimeError, UsageError } from '../errors.js';
import { Tally } from '../engine/tally.js';
import { DEFAULT_BACKOFF, sleep } from '../massive/backoff.js';
import { ChainPoller } from '../massive/chain-poller.js';
import { ClockLines, monotonicClock, wallClockUs } from './clock.js';
import { makeRedactor, redactError } from '../massive/redact.js';
import { MassiveWsClient } from '../massive/ws-client.js';
import { parseWsFrame, type WsCluster } from '../massive/ws.js';
import { LineQueue } from './line-queue.js';
import { clockLine, gapLine, wsLine, type StreamName } from '../recording/lines.js';
import { RecordScope } from './record-scope.js';
import { fileSizes, formatStatus, type RecorderStatus, type RecorderSummary } from './record-report.js';
import { RecordingWriter } from '../recording/writer.js';
import { checkTunables, MAX_QUOTE_CONTRACTS, type RecorderOptions } from './recorder-options.js';

export type { RecorderStatus, RecorderSummary } from './record-report.js';
export { DEFAULT_REST_URL, DEFAULT_WS_URL, MAX_QUOTE_CONTRACTS, type RecorderOptions } from './recorder-options.js';

/** How `gapLine` starts (a WS line continues with `"frame":`, a chain line with `"req_us":`). */
const GAP_LINE_RE = /^\{"recv_us":\d+,"gap":/;
const STALE_DEFAULTS: Record<WsCluster, number> = { options: 120_000, indices: 60_000, stocks: 60_000 };

/**
 * Records until `durationMs` elapses or `signal` aborts, then closes everything cleanly and
 * returns what it did. On a fatal error (key rejected by REST or WS, disk failure) the recording is
 * still finalised, then the error is thrown (a RuntimeError, exit code 1; its message never holds
 * the key).
 */
export async function runRecorder(opts: RecorderOptions): Promise<RecorderSummary> {
  if (opts.apiKey === '') throw new UsageError('no Massive API key: set MASSIVE_API_KEY (or pass --api-key)');
  checkTunables(opts);
  const redact = makeRedactor(opts.apiKey);
  const userLog = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const log = (m: string): void => userLog(redact(m));
  const now = monotonicClock(opts.now ?? wallClockUs);
  const random = opts.random ?? Math.random;
  const backoff = { baseMs: opts.backoffBaseMs ?? DEFAULT_BACKOFF.baseMs, capMs: opts.backoffCapMs ?? DEFAULT_BACKOFF.capMs };
  const started_us = now();

  const writer = opts.outDir !== undefined
    ? await RecordingWriter.create(opts.outDir, { underlying: opts.underlying, source: 'massive', created_us: started_us, flushIntervalMs: opts.flushIntervalMs ?? 1000, overwrite: opts.overwrite ?? false })
    : undefined;
  const stop = new AbortController();
  let stopReason: RecorderSummary['stop'] = 'signal';
  let fatalError: Error | undefined;
  const fatal = (err: unknown): void => {
    if (!fatalError) fatalError = err instanceof RuntimeError ? err : new RuntimeError(redactError(err, redact));
    stopReason = 'error';
    stop.abort();
  };

  const lines: Partial<Record<StreamName, number>> = {};
  const gaps: Record<string, number> = {};
  const deliver = (stream: StreamName, line: string, recv_us: number): void => {
    lines[stream] = (lines[stream] ?? 0) + 1;
    if (GAP_LINE_RE.test(line)) gaps[stream] = (gaps[stream] ?? 0) + 1;
    opts.onLine?.(stream, line, recv_us);
  };
  const clock = new ClockLines(opts.config.tick_ms, now, (t) => emit('clock', clockLine(t), t));
  const queue = writer ? new LineQueue({ maxBytes: opts.queueMaxBytes ?? 256 * 1048576, writerHighWater: 16 * 1048576, now, log }) : undefined;
  const pumped = queue && writer ? queue.pump(writer).catch(fatal) : Promise.resolve();
  const emit = (stream: StreamName, line: string, recv_us: number): void => {
    clock.noteStamp(recv_us);
    if (queue && !queue.push(stream, line, recv_us, (g, r) => deliver(stream, g, r))) return;
    deliver(stream, line, recv_us);
  };

  // Spot: index value on /indices, or ETF trades on /stocks.
  const spotCluster: WsCluster = opts.underlying.startsWith('I:') ? 'indices' : 'stocks';
  let spot: number | undefined;
  const spotTally = new Tally();
  const spotWaiters: (() => void)[] = [];
  const stale = (c: WsCluster): number =>
    typeof opts.staleTimeoutMs === 'number' ? opts.staleTimeoutMs : opts.staleTimeoutMs?.[c] ?? STALE_DEFAULTS[c];
  const wsTrouble = new Map<WsCluster, WsTrouble>();
  const makeClient = (cluster: WsCluster, onData?: (raw: string) => void): MassiveWsClient => {
    const trouble: WsTrouble = { url: `${opts.wsUrl.replace(/\/+$/, '')}/${cluster}`, errors: new Map(), wasLive: false };
    wsTrouble.set(cluster, trouble);
    return new MassiveWsClient({
      url: trouble.url,
      cluster,
      apiKey: opts.apiKey,
      now,
      redact,
      log: (m) => {
        noteWsTrouble(trouble, m);
        if (cluster === spotCluster && trouble.errors.size > 0) releaseSpotWaiters(); // no spot is coming soon
        log(m);
      },
      onFrame: (raw, recv_us) => {
        emit(cluster, wsLine(recv_us, raw), recv_us);
        onData?.(raw);
      },
      onGap: (gap, recv_us) => emit(cluster, gapLine(recv_us, gap), recv_us),
      pingIntervalMs: opts.pingIntervalMs ?? 25_000,
      staleTimeoutMs: stale(cluster),
      backoff,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
      subscribeBatch: opts.subscribeBatch ?? 250,
      random,
    });
  };
  /** Lets the first snapshot go without a spot value (it arrived, or its feed is down). */
  const releaseSpotWaiters = (): void => {
    for (const w of spotWaiters.splice(0)) w();
  };
  const spotClient = makeClient(spotCluster, (raw) => {
    for (const f of parseWsFrame(JSON.parse(raw), spotCluster, spotTally, opts.underlying).facts) if (f.kind === 'spot') spot = f.value;
    if (spot !== undefined) releaseSpotWaiters();
  });
  spotClient.subscribe([spotCluster === 'indices' ? `V.${opts.underlying}` : `T.${opts.underlying}`]);
  const optionsClient = makeClient('options');
  if (opts.allTrades) optionsClient.subscribe(['T.*']);

  const scope = new RecordScope({ topology: opts.config.topology, recordBandPoints: opts.recordBandPoints ?? 2 * opts.config.topology.strike_band_points });
  const chainDropped = { duplicates: 0, out_of_filter: 0 };
  let quoteCount = 0;
  let quoteCapWarned = false;
  let lastWaiting = '';
  const poller = new ChainPoller({
    restUrl: opts.restUrl,
    underlying: opts.underlying,
    apiKey: opts.apiKey,
    now,
    redact,
    log,
    filter: () => scope.filter(now(), spot),
    emit: (line, recv_us) => emit('chain', line, recv_us),
    onSnapshot: (snap) => {
      const u = scope.onSnapshot(snap, spot, now());
      chainDropped.duplicates += u.duplicates;
      chainDropped.out_of_filter += u.outOfFilter;
      if (u.waiting !== undefined && u.waiting !== lastWaiting) log(`topology: waiting — ${u.waiting}`);
      lastWaiting = u.waiting ?? '';
      if (u.built) {
        const b = u.built;
        log(`topology: spot ${b.spot} (${b.spotSource}), recording strikes ${b.lo}..${b.hi}, expirations ${b.expirations.join(', ')}`);
      }
      if (u.added.length === 0) return;
      if (!opts.allTrades) optionsClient.subscribe(u.added.map((c) => `T.${c.ticker}`));
      if (opts.quotes) {
        const room = MAX_QUOTE_CONTRACTS - quoteCount;
        const picks = u.built ? scope.nearestFirst().slice(0, room) : u.added.slice(0, room);
        if (picks.length < u.added.length && !quoteCapWarned) {
          quoteCapWarned = true;
          log(`WARNING quotes are limited to ${MAX_QUOTE_CONTRACTS} contracts per connection; subscribing the ${MAX_QUOTE_CONTRACTS} nearest to spot`);
        }
        quoteCount += picks.length;
        optionsClient.subscribe(picks.map((c) => `Q.${c.ticker}`));
      }
    },
    pageCap: opts.pageCap ?? 200,
    floorMs: opts.snapshotFloorMs ?? 5000,
    backoff,
    retryAfterCapMs: opts.retryAfterCapMs ?? 300_000,
    requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
    random,
    beforeFirst: async (signal) => {
      if (spot !== undefined) return;
      const ready = new Promise<void>((resolve) => spotWaiters.push(resolve));
      const give = new AbortController();
      signal.addEventListener('abort', () => give.abort(), { once: true });
      await Promise.race([ready, sleep(opts.spotWaitMs ?? 5000, give.signal)]);
      give.abort();
    },
  });

  const onAbort = (): void => stop.abort();
  if (opts.signal?.aborted) stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const durationTimer = opts.durationMs !== undefined
    ? setTimeout(() => {
        stopReason = 'duration';
        stop.abort();
      }, opts.durationMs)
    : undefined;
  const clients: [WsCluster, MassiveWsClient][] = [['options', optionsClient], [spotCluster, spotClient]];
  clock.start();
  for (const [, c] of clients) {
    c.start();
    c.done.catch(fatal);
  }
  const polled = poller.run(stop.signal).catch(fatal);

  const status = (elapsedFrames: Map<string, number>, dtS: number, bytes: number): RecorderStatus => {
    const fps: Record<string, number> = {};
    const ws: Record<string, string> = {};
    for (const [name, c] of clients) {
      fps[name] = (c.stats.frames - (elapsedFrames.get(name) ?? 0)) / Math.max(dtS, 1e-6);
      elapsedFrames.set(name, c.stats.frames);
      ws[name] = c.stats.state;
    }
    const p = poller.stats;
    return {
      elapsed_ms: (now() - started_us) / 1000,
      lines: { ...lines },
      frames_per_s: fps,
      ws,
      snapshots: { complete: p.snapshots, failed: p.failed, last_ms: p.lastMs, last_pages: p.lastPages },
      gaps: Object.values(gaps).reduce((a, b) => a + b, 0),
      contracts: scope.size,
      bytes,
      queue_bytes: queue?.queuedBytes ?? 0,
      dropped_lines: queue?.droppedTotal ?? 0,
    };
  };
  const statusEvery = opts.statusIntervalMs ?? 10_000;
  const seen = new Map<string, number>();
  let lastStatusUs = started_us;
  const statusTimer = statusEvery > 0
    ? setInterval(() => {
        void fileSizes(opts.outDir).then((files) => {
          const t = now();
          const s = status(seen, (t - lastStatusUs) / 1e6, files.reduce((a, f) => a + f.bytes, 0));
          lastStatusUs = t;
          if (opts.onStatus) opts.onStatus(s);
          else log(formatStatus(s));
        });
      }, statusEvery)
    : undefined;

  await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));

  // Shutdown: stop asking, close the sockets (writing any open gap), drain the queue, close the files.
  if (durationTimer) clearTimeout(durationTimer);
  clock.stop();
  if (statusTimer) clearInterval(statusTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  await polled;
  for (const [cluster, c] of clients) if (c.stats.state === 'live') wsTrouble.get(cluster)!.wasLive = true;
  await Promise.all(clients.map(([, c]) => c.close()));
  queue?.close(deliver);
  await pumped;
  try {
    await writer?.close();
  } catch (err) {
    fatal(err);
  }
  const stopped_us = now();
  const band = scope.band;
  const summary: RecorderSummary = {
    outDir: opts.outDir,
    started_us,
    stopped_us,
    stop: stopReason,
    lines: { ...lines },
    frames: Object.fromEntries(clients.map(([n, c]) => [n, c.stats.frames])),
    snapshots: { complete: poller.stats.snapshots, failed: poller.stats.failed, pages: poller.stats.pages, loops: poller.stats.loops, capped: poller.stats.capped },
    gaps: { ...gaps },
    reconnects: Object.fromEntries(clients.map(([n, c]) => [n, c.stats.reconnects])),
    notices: Object.fromEntries(clients.map(([n, c]) => [n, { ...c.stats.notices }])),
    dropped_lines: queue?.droppedTotal ?? 0,
    chain_dropped: chainDropped,
    topology: band ? { ...band, contracts: scope.size } : null,
    files: await fileSizes(opts.outDir),
  };
  // Nothing at all arrived (no chain page, no WS frame): an empty recording is a failure to say.
  if (!fatalError && poller.stats.pages === 0 && clients.every(([, c]) => c.stats.frames === 0)) {
    fatalError = new RuntimeError(redact(describeNothing(opts.restUrl, poller.stats, clients.map(([cluster]) => wsTrouble.get(cluster)!))));
  }
  if (fatalError) throw Object.assign(fatalError, { summary });
  return summary;
}

/** What went wrong on one WS cluster, gathered from its log lines (the client keeps no such record). */
interface WsTrouble {
  readonly url: string;
  /** Connection errors by code (`ECONNREFUSED`) or message, with counts. */
  readonly errors: Map<string, number>;
  /** Whether it ever got past auth (a connection that was lost, or live at the end). */
  wasLive: boolean;
}

/** Notes what a WS client's log line says about its connection (`options: connection error: connect ECONNREFUSED …`). */
function noteWsTrouble(t: WsTrouble, message: string): void {
  const error = / connection error: (.*)$/.exec(message)?.[1] ?? (/ no auth_success within /.test(message) ? 'handshake timeout' : undefined);
  if (error !== undefined) {
    const key = /\b(E[A-Z]{3,})\b/.exec(error)?.[1] ?? error.slice(0, 80);
    t.errors.set(key, (t.errors.get(key) ?? 0) + 1);
  }
  if (/ connection lost \(/.test(message)) t.wasLive = true;
}

/** `recorded nothing: REST http://… refused the connection 3 times (ECONNREFUSED); WS ws://…/options never connected (ECONNREFUSED ×3)` */
function describeNothing(restUrl: string, chain: ChainPoller['stats'], ws: readonly WsTrouble[]): string {
  const times = (n: number): string => (n === 1 ? 'once' : `${n} times`);
  const rest =
    chain.failures.size > 0 ? [...chain.failures.values()].map((f) => `${f.what} ${times(f.count)}${f.why !== undefined ? ` (${f.why})` : ''}`).join(', ')
    : chain.requests > 0 ? 'never answered (the session ended during the first request)'
    : 'was never asked (the session ended while the first snapshot waited for a spot value)';
  const sockets = ws.map((t) => {
    if (t.wasLive) return `${t.url} connected but sent no data`;
    const errors = [...t.errors].map(([e, n]) => (n > 1 ? `${e} ×${n}` : e)).join(', ');
    return `${t.url} never connected${errors !== '' ? ` (${errors})` : ''}`;
  });
  const refused = [...chain.failures.values()].some((f) => f.why === 'ECONNREFUSED') || ws.some((t) => t.errors.has('ECONNREFUSED'));
  const hint = refused ? ' — is anything listening there? Check --rest-url and --ws-url' : '';
  return `recorded nothing: REST ${restUrl} ${rest}; WS ${sockets.join(', ')}${hint}`;
}
