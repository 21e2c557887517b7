/**
 * `heatmap serve`: a Massive-compatible server over a recording, so that the recorder, `live` and
 * other Massive clients can run offline.
 *
 * - REST `GET /v3/snapshot/options/{underlying}`: the newest recorded snapshot complete at the
 *   current replay time, filtered (`expiration_date*`, `strike_price*`, `contract_type`), sorted and
 *   paginated (`limit` ≤ 250, `next_url` + opaque `cursor`), items served verbatim. Key as
 *   `Authorization: Bearer` or `?apiKey=`.
 * - REST `GET /v3/snapshot/options/{underlying}/{contract}`: that contract's item of the same
 *   snapshot, `results` one object; an unknown contract is a 404 in Massive's error shape.
 * - WS `/options`, `/indices`, `/stocks`: Massive's connected → auth → subscribe flow, recorded
 *   frames at the recorded pace × speed, filtered by subscription. Any other upgrade path gets an
 *   `error` status and a close; unknown REST paths a 404 `{"status":"ERROR",…}`.
 * Any non-empty key is accepted unless `apiKey` is set. At most `maxConnections` HTTP requests in
 * flight plus WS sessions: the excess is refused as Massive would (see connection-limit.ts).
 * Nothing a client sends may stop the server (it stands in for Massive in long unattended runs): a
 * malformed request gets a 400 in Massive's error shape, a handler bug a 500 and a log line.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RuntimeError, UsageError } from '../errors.js';
import { readManifest } from '../recording/manifest.js';
import { listStreamFiles } from '../recording/reader.js';
import { ConnectionLimit, DEFAULT_MAX_CONNECTIONS } from './connection-limit.js';
import { ChainStore, decodeCursor, encodeCursor, findItem, parseChainQuery, selectItems, type ChainQuery } from './chain-store.js';
import { parseRequestTarget, safeDecode } from './request-target.js';
import { playTimeline, type TimelinePass } from './timeline.js';
import { WsHub } from './ws-hub.js';

export interface ServeOptions {
  /** Recording directory. */
  readonly dir: string;
  readonly port: number;
  /** Bind address (default 127.0.0.1). */
  readonly host?: string;
  /** Replay speed (default 1). */
  readonly speed?: number;
  readonly apiKey?: string;
  /** Start over at the end of the recording (default: keep serving the final state). */
  readonly loop?: boolean;
  /**
   * Hold the replay clock: `client` — until the first client subscribes or asks for the chain;
   * `manual` — until `release()` (tests). Held, the clock then starts at the recording's first
   * line (frames before the first complete snapshot are delivered). Default: start at once after
   * the pre-roll, skipping those frames.
   */
  readonly hold?: 'client' | 'manual';
  readonly authTimeoutMs?: number;
  /** Cap on HTTP requests in flight plus WS sessions (default 256). */
  readonly maxConnections?: number;
  readonly log?: (msg: string) => void;
}

/** A running server. */
export interface RunningServer {
  readonly port: number;
  readonly host: string;
  /** `http://host:port` and `ws://host:port`. */
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly underlying: string;
  /** Resolves when the replay stops: at the end of the recording (without `loop`), or on close(). */
  readonly ended: Promise<TimelinePass>;
  /** Starts a held replay clock (no-op otherwise). */
  release(): void;
  /** Stops the replay, closes every client and the listening socket. */
  close(): Promise<void>;
}

/**
 * Starts the server; resolves once it listens. @throws InputError when `dir` is not a recording,
 * RuntimeError when the port cannot be bound (in use, no permission).
 */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const maxConnections = o.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new UsageError(`maxConnections must be a whole number ≥ 1, got ${maxConnections}`);
  const manifest = await readManifest(o.dir);
  const underlying = manifest.underlying;
  const hasChain = (await listStreamFiles(o.dir)).has('chain');
  const log = o.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const store = new ChainStore();
  const abort = new AbortController();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const activity = (): void => {
    if (o.hold === 'client') release();
  };
  const hub = new WsHub({ apiKey: o.apiKey, authTimeoutMs: o.authTimeoutMs, log, onActivity: activity });
  const limit = new ConnectionLimit(maxConnections, () => hub.count(), log);
  let requestNo = 0;
  const nextRequestId = (): string => `serve-${(++requestNo).toString(16).padStart(8, '0')}`;
  let prerolled!: () => void;
  /** Resolves once the pre-roll made the first snapshot servable (or the recording ended). */
  const ready = new Promise<void>((r) => (prerolled = r));

  const server = http.createServer((req, res) => {
    if (!limit.admitRequest(res)) {
      const requestId = nextRequestId();
      res.writeHead(503, { 'content-type': 'application/json', 'x-request-id': requestId, 'retry-after': '1' });
      res.end(massiveError(requestId, limit.message));
      return;
    }
    ready
      .then(() => handle(req, res))
      .catch((err: unknown) => {
        // Only reached if even the 500 could not be written: drop the connection, keep the server.
        log(`serve: internal error answering a request: ${errorText(err)}`);
        res.destroy();
      });
  });
  /** Answers one request; an unexpected exception becomes a 500 in Massive's shape and a log line. */
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const requestId = nextRequestId();
    const reply = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
      res.end(body);
    };
    try {
      answer(req, requestId, reply);
    } catch (err) {
      log(`serve: internal error answering ${req.method ?? '?'} ${(req.url ?? '').slice(0, 200)}: ${errorText(err)}`);
      if (res.headersSent) res.destroy();
      else reply(500, massiveError(requestId, 'Internal server error'));
    }
  };
  const answer = (req: http.IncomingMessage, requestId: string, reply: (status: number, body: string) => void): void => {
    const url = parseRequestTarget(req.url ?? '/');
    if (typeof url === 'string') return reply(400, massiveError(requestId, url));
    // `/v3/snapshot/options/{underlying}` (chain) and `/v3/snapshot/options/{underlying}/{contract}`.
    const m = /^\/v3\/snapshot\/options\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) return reply(404, massiveError(requestId, NOT_FOUND));
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const key = bearer ?? url.searchParams.get('apiKey') ?? '';
    if (key === '') return reply(401, massiveError(requestId, 'API Key was not provided'));
    if (o.apiKey !== undefined && key !== o.apiKey) return reply(401, massiveError(requestId, 'Unknown API Key'));
    activity();
    const asked = safeDecode(m[1]!);
    const contract = m[2] !== undefined ? safeDecode(m[2]) : undefined;
    if (asked === undefined || (m[2] !== undefined && contract === undefined)) return reply(400, massiveError(requestId, 'Malformed percent-encoding in the request URL'));
    if (contract !== undefined) {
      // Single-contract snapshot (massive-wire.md §2.6, LLMS "Option Contract Snapshot"): the same
      // item as in the chain, with `results` one object instead of an array. The doc gives no
      // sample beyond "`results` is an object", so the item is the chain item, served verbatim.
      const item = asked === underlying ? store.current && findItem(store.current, contract) : undefined;
      if (!item) return reply(404, massiveError(requestId, `No snapshot for contract ${JSON.stringify(contract.slice(0, 64))} of underlying ${JSON.stringify(asked.slice(0, 64))} at the current replay time`));
      return reply(200, `{"results":${item.raw},"status":"OK","request_id":"${requestId}"}`);
    }
    let q: ChainQuery;
    let snapId: number | undefined;
    let offset = 0;
    const cursor = url.searchParams.get('cursor');
    if (cursor !== null) {
      const c = decodeCursor(cursor);
      if (!c) return reply(400, massiveError(requestId, 'Invalid cursor'));
      ({ q, offset } = c);
      snapId = c.id;
    } else {
      const parsed = parseChainQuery(url.searchParams);
      if (typeof parsed === 'string') return reply(400, massiveError(requestId, parsed));
      q = parsed;
    }
    const snap = snapId !== undefined ? store.get(snapId) : store.current;
    if (snapId !== undefined && !snap) {
      return reply(400, massiveError(requestId, 'Cursor expired: the snapshot it points into is gone; start again without a cursor'));
    }
    const items = asked === underlying && snap ? selectItems(snap, q) : [];
    const pageItems = items.slice(offset, offset + q.limit);
    let body = `{"results":[${pageItems.map((it) => it.raw).join(',')}],"status":"OK","request_id":"${requestId}"`;
    if (snap && offset + q.limit < items.length) {
      const host = req.headers.host ?? `${o.host ?? '127.0.0.1'}:${o.port}`;
      // Stringified: a Host header with a quote must not break the JSON.
      body += `,"next_url":${JSON.stringify(`http://${host}/v3/snapshot/options/${asked}?cursor=${encodeCursor(snap.id, offset + q.limit, q)}`)}`;
    }
    reply(200, body + '}');
  };
  server.on('upgrade', (req, socket, head) => {
    try {
      hub.handleUpgrade(req, socket, head, limit.refusesUpgrade() ? limit.message : undefined);
    } catch (err) {
      log(`serve: internal error on a WebSocket upgrade: ${errorText(err)}`);
      socket.destroy();
    }
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket as Socket, nextRequestId()));

  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => reject(listenError(err, host, o.port));
    server.once('error', failed);
    server.listen(o.port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let passes = 0;
  let playError: unknown;
  const play = async (): Promise<TimelinePass> => {
    try {
      let pass: TimelinePass;
      do {
        pass = await playTimeline({
          dir: o.dir,
          speed: o.speed ?? 1,
          preroll: hasChain,
          hold: o.hold !== undefined && passes === 0 ? held : undefined,
          signal: abort.signal,
          onChainPage: (s, p, last, body, recv) => store.addPage(s, p, last, body, recv),
          onFrame: (cluster, frame) => hub.broadcast(cluster, frame),
          onPrerolled: prerolled,
        });
        passes++;
        if (abort.signal.aborted) break;
        for (const c of pass.cuts) log(`serve: ${c.file}: ${c.reason}`);
        log(`serve: end of recording (${pass.lines} lines, ${pass.frames} frames, ${pass.pages} chain pages)${o.loop ? ' — starting over' : ' — still serving the final chain snapshot; Ctrl-C to stop'}`);
        if (store.current === undefined && pass.pages > 0) log('serve: WARNING the recording has no complete chain snapshot; the chain endpoint returns no results');
      } while (o.loop && pass.lines > 0);
      return pass;
    } catch (err) {
      playError ??= err;
      throw err;
    } finally {
      prerolled(); // never leave requests waiting, even when the recording cannot be read
    }
  };
  const ended = play();
  ended.catch((err: unknown) => log(`serve: replay stopped: ${err instanceof Error ? err.message : String(err)}`));
  // Answer no request before the first snapshot is servable (a client asking at once must get a chain).
  await ready;
  if (playError !== undefined) {
    abort.abort();
    hub.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw playError;
  }

  return {
    port,
    host,
    restUrl: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${port}`,
    underlying,
    ended,
    release: () => release(),
    async close() {
      abort.abort();
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ended.catch(() => undefined);
    },
  };
}

/**
 * A 404's error text. Real Massive's answer to an unknown path is not in massive-wire.md (a 2020
 * report, polygon-io/issues#60, shows a plain-text "404 page not found"); serve answers in the
 * documented error shape, as its other errors do.
 */
const NOT_FOUND = 'Not found: heatmap serve implements GET /v3/snapshot/options/{underlying}, GET /v3/snapshot/options/{underlying}/{contract} and WS /options, /indices, /stocks';

/** Massive's REST error body (massive-wire.md §2.7), as its 401s look. */
function massiveError(requestId: string, error: string): string {
  return JSON.stringify({ status: 'ERROR', request_id: requestId, error });
}

/** Why the port could not be bound, and what to do (worded like `--sse`'s). */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): RuntimeError {
  const where = `cannot serve on ${host}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new RuntimeError(`${where}: port ${port} is already in use — pick another --port (0 = any free port)`);
    case 'EACCES':
      return new RuntimeError(`${where}: no permission to bind port ${port} (ports below 1024 need privileges) — pick another --port (0 = any free port)`);
    case 'EADDRNOTAVAIL':
      return new RuntimeError(`${where}: ${host} is not an address of this machine — check --host`);
    default:
      return new RuntimeError(`${where}: ${err.code ?? err.message}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Answers a request Node's HTTP parser refused (bytes that are not HTTP, a request line or headers
 * over its ~16 KiB limit) in Massive's error shape, then closes: the server itself never sees it.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, requestId: string): void {
  // A reset peer cannot read an answer, and one mid-response (keep-alive) would get it spliced into
  // the previous response: like Node's default handler, answer only on a fresh connection.
  if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const [code, reason, error] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'Request line and headers too large']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'Request not received in time']
    : [400, 'Bad Request', 'Malformed HTTP request'];
  const body = massiveError(requestId, error);
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}
