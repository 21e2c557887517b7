import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineOutput } from '../engine/types.js';
import { RuntimeError } from '../errors.js';
import { StrategyChannel, type ChannelLimits, type ChannelStats, type SlowClientPolicy } from './sse-channel.js';
import { acceptsGzip } from './sse-gzip.js';
import { parseLastEventId } from './sse-wire.js';

/**
 * The SSE server (`--sse PORT` on `replay` and `live`): one event stream per strategy, for
 * dashboards. Plain `node:http`, no framework.
 *
 * - `GET /sse/heatmap/{strategy}` — `event: snapshot` on connect, then `event: diff` per version
 *   (wire format: sse-wire.ts); `Last-Event-ID` (or `?last_event_id=`) resumes. Unknown strategy → 404
 *   with the valid names.
 * - `GET /sse/heatmap` — the strategies, their current versions and client counts (JSON).
 * - `GET /health` — 200 `{"status":"ok",…}` while serving, 503 while shutting down.
 * - `GET /` — the web heatmap (the repository's `web/` folder, read when the server starts; its
 *   modules and stylesheet under `/web/`): same-origin only, enforced by its CSP.
 * - `HEAD` on any of these: the same status and headers, no body (uptime probes).
 *
 * Event streams are gzip-compressed for clients whose `Accept-Encoding` takes it (browsers do),
 * each batch compressed once for all of them (sse-gzip.ts); `gzip: false` turns it off.
 *
 * Every response carries `Access-Control-Allow-Origin` so a browser dashboard on another origin can
 * use `EventSource` directly. Channels are independent: each has its own clients, history and
 * outbox (see sse-channel.ts), so a slow client of one strategy affects nobody else.
 */

export interface SseServerOptions {
  /** The strategies served (the run's enabled strategies, in evaluation order). */
  readonly strategies: readonly string[];
  /** 0 picks a free port (see `port` after start). */
  readonly port: number;
  /** Default 127.0.0.1 (loopback only); `0.0.0.0` serves the network. */
  readonly host?: string;
  /** Comment heartbeat interval; default 15 000 ms. */
  readonly heartbeatMs?: number;
  /** Default 16 MiB. */
  readonly maxBufferBytes?: number;
  /** Default `resync`. */
  readonly slowClient?: SlowClientPolicy;
  /** Default 1000 versions / 64 MiB per strategy. */
  readonly historyVersions?: number;
  readonly historyBytes?: number;
  /** `Access-Control-Allow-Origin`; default `*`. */
  readonly corsOrigin?: string;
  /**
   * The format of the stream (DESIGN §3.1): diffs are the version lines as published; snapshots
   * are built in this format (format 2: slots, the mark register and tile rows). Default 1.
   */
  readonly format?: 1 | 2;
  /**
   * Compress event streams for clients that accept gzip (default true).
   */
  readonly gzip?: boolean;
}

/** Defaults of {@link SseServerOptions}. */
export const SSE_DEFAULTS = {
  host: '127.0.0.1',
  heartbeatMs: 15_000,
  maxBufferBytes: 16 * 1024 * 1024,
  slowClient: 'resync' as SlowClientPolicy,
  historyVersions: 1000,
  historyBytes: 64 * 1024 * 1024,
  corsOrigin: '*',
};

/** Per-strategy status, as listed by `GET /sse/heatmap`. */
export interface StrategyStatus extends ChannelStats {
  readonly name: string;
  readonly version: number;
  readonly at_us: number | null;
  readonly hash: string;
  readonly url: string;
}

const PREFIX = '/sse/heatmap';

/** The web view's files: `web/` at the package root, two levels up from src/sinks (vitest) and dist/sinks (CLI) alike. */
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const WEB_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
/** The page loads nothing from another origin (no CDN: it works offline and behind firewalls). */
const WEB_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'";

interface WebAsset {
  readonly type: string;
  readonly body: Buffer;
}

/** The web view's files by URL path: `/` → index.html, `/web/<name>` → the others. Empty when web/ is missing. */
async function loadWebAssets(): Promise<Map<string, WebAsset>> {
  const assets = new Map<string, WebAsset>();
  const names = await fsp.readdir(WEB_DIR).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const type = WEB_TYPES[extname(name)];
    if (type !== undefined) assets.set(name === 'index.html' ? '/' : `/web/${name}`, { type, body: await fsp.readFile(join(WEB_DIR, name)) });
  }
  return assets;
}

const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no', // nginx: do not buffer the stream
  Vary: 'Accept-Encoding',
};
const GZIP_STREAM_HEADERS = { ...STREAM_HEADERS, 'Content-Encoding': 'gzip' };

/** The SSE server; create with {@link SseServer.start}, stop with `close()`. */
export class SseServer {
  private readonly channels = new Map<string, StrategyChannel>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly cors: string;
  private isClosing = false;
  private isFinal = false;
  private closed: Promise<void> | undefined;
  private readonly startedMs = performance.now();
  private readonly limits: ChannelLimits;
  private readonly isGzipOn: boolean;

  private constructor(
    private readonly server: http.Server,
    opts: SseServerOptions,
    private readonly web: ReadonlyMap<string, WebAsset>,
  ) {
    const limits: ChannelLimits = (this.limits = {
      maxBufferBytes: opts.maxBufferBytes ?? SSE_DEFAULTS.maxBufferBytes,
      slowClient: opts.slowClient ?? SSE_DEFAULTS.slowClient,
      historyVersions: opts.historyVersions ?? SSE_DEFAULTS.historyVersions,
      historyBytes: opts.historyBytes ?? SSE_DEFAULTS.historyBytes,
      format: opts.format ?? 1,
    });
    for (const name of opts.strategies) this.channels.set(name, new StrategyChannel(name, limits));
    this.cors = opts.corsOrigin ?? SSE_DEFAULTS.corsOrigin;
    this.isGzipOn = opts.gzip ?? true;
    this.heartbeat = setInterval(() => {
      for (const ch of this.channels.values()) ch.comment('heartbeat');
    }, opts.heartbeatMs ?? SSE_DEFAULTS.heartbeatMs);
    this.heartbeat.unref();
    server.on('request', (req, res) => this.route(req, res));
  }

  /**
   * Starts listening.
   * @throws RuntimeError when the port cannot be bound (in use, no permission).
   */
  static async start(opts: SseServerOptions): Promise<SseServer> {
    const web = await loadWebAssets();
    const server = http.createServer();
    const host = opts.host ?? SSE_DEFAULTS.host;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const hint = err.code === 'EADDRINUSE' ? ' — it is in use; pick another --sse port (0 = any free port)' : '';
        reject(new RuntimeError(`cannot serve SSE on ${host}:${opts.port}: ${err.code ?? err.message}${hint}`));
      });
      server.listen(opts.port, host, () => resolve());
    });
    return new SseServer(server, opts, web);
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
    return `http://${host}:${a.port}`;
  }

  /** Hands one engine output to the streams: versions to their strategy, gaps to all, failures to theirs. */
  publish(out: EngineOutput): void {
    if (out.type === 'version') this.channels.get(out.strategy)?.publish(out);
    else if (out.type === 'gap') for (const ch of this.channels.values()) ch.notice('gap', JSON.stringify(out));
    else this.channels.get(out.strategy)?.notice('failed', JSON.stringify(out));
  }

  /**
   * The channel of a strategy, created when it is new (`heatmap sse` from Redis discovers
   * strategies as pipelines start publishing them).
   */
  channel(strategy: string): StrategyChannel {
    let ch = this.channels.get(strategy);
    if (!ch) this.channels.set(strategy, (ch = new StrategyChannel(strategy, this.limits)));
    return ch;
  }

  /** Marks the state as final (the replay ended): listed as `"final": true`, streams stay open. */
  markFinal(): void {
    this.isFinal = true;
  }

  /** Status of every strategy, in evaluation order. */
  status(): StrategyStatus[] {
    return [...this.channels.values()].map((ch) => ({
      name: ch.strategy,
      version: ch.version,
      at_us: ch.at_us,
      hash: ch.hash,
      url: `${PREFIX}/${encodeURIComponent(ch.strategy)}`,
      ...ch.stats,
    }));
  }

  /**
   * Graceful shutdown: every client gets the queued diffs and a final `event: end`, then its
   * response ends. Connections still open after `graceMs` (stuck clients) are cut. Idempotent.
   */
  close(reason = 'shutdown', graceMs = 2000): Promise<void> {
    this.closed ??= this.doClose(reason, graceMs);
    return this.closed;
  }

  private async doClose(reason: string, graceMs: number): Promise<void> {
    this.isClosing = true;
    clearInterval(this.heartbeat);
    for (const ch of this.channels.values()) ch.end(reason);
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.server.closeAllConnections();
        resolve();
      }, graceMs);
      timer.unref();
    });
    await Promise.race([done, cut]);
    clearTimeout(timer);
    await done;
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader('Access-Control-Allow-Origin', this.cors);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': 'Last-Event-ID, Cache-Control',
        'Access-Control-Max-Age': '86400',
      });
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return this.json(res, 405, { error: `method ${req.method ?? '?'} not allowed; use GET` }, { Allow: 'GET, HEAD, OPTIONS' });
    }
    // Node answers HEAD without the body that json() and stream() would write.
    const url = parseTarget(req.url ?? '/');
    if (!url) return this.json(res, 400, { error: 'malformed request URL' });
    // Only `/` itself is the page: `//` (an empty segment) is no endpoint, so it is a 404.
    const path = url.pathname === '/' ? '/' : url.pathname.replace(/\/+$/, '');
    if (path === '/health') {
      const clients = this.status().reduce((n, s) => n + s.clients, 0);
      const uptime_s = Math.round((performance.now() - this.startedMs) / 1000);
      return this.json(res, this.isClosing ? 503 : 200, { status: this.isClosing ? 'closing' : 'ok', final: this.isFinal, clients, uptime_s });
    }
    if (path === PREFIX) return this.json(res, 200, { final: this.isFinal, strategies: this.status() });
    if (path.startsWith(`${PREFIX}/`)) {
      const name = safeDecode(path.slice(PREFIX.length + 1));
      const ch = name === undefined ? undefined : this.channels.get(name);
      if (!ch) {
        const valid = [...this.channels.keys()];
        return this.json(res, 404, { error: `unknown strategy "${name ?? path}"; valid: ${valid.join(', ')}`, strategies: valid });
      }
      if (this.isClosing) return this.json(res, 503, { error: 'shutting down' });
      if (req.method === 'HEAD') return void res.writeHead(200, this.isGzipFor(req) ? GZIP_STREAM_HEADERS : STREAM_HEADERS).end(); // no client to attach
      return this.stream(req, res, ch, url);
    }
    const asset = this.web.get(path);
    if (asset) {
      res.writeHead(200, { 'Content-Type': asset.type, 'Content-Length': asset.body.length, 'Cache-Control': 'no-cache', 'Content-Security-Policy': WEB_CSP, 'X-Content-Type-Options': 'nosniff' });
      return void res.end(asset.body);
    }
    if (path === '/') return this.json(res, 500, { error: `the web view's files are missing from ${WEB_DIR} — reinstall heatmap` });
    this.json(res, 404, { error: `no such endpoint ${path}`, endpoints: ['/', '/sse/heatmap', '/sse/heatmap/{strategy}', '/health'] });
  }

  private stream(req: http.IncomingMessage, res: http.ServerResponse, ch: StrategyChannel, url: URL): void {
    const lastId = parseLastEventId(req.headers['last-event-id']) ?? parseLastEventId(url.searchParams.get('last_event_id'));
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    const gzip = this.isGzipFor(req);
    res.writeHead(200, gzip ? GZIP_STREAM_HEADERS : STREAM_HEADERS);
    ch.attach(res, lastId, gzip);
  }

  /** True when this request's event stream is sent gzip-compressed: the server may, and the client takes it. */
  private isGzipFor(req: http.IncomingMessage): boolean {
    return this.isGzipOn && acceptsGzip(req.headers['accept-encoding']);
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body) + '\n';
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache', ...headers });
    res.end(text);
  }
}

/**
 * The request target as a URL, or undefined when it does not parse (`//` would make `new URL`
 * throw with a base, or name a host). Origin-form is joined to a fixed origin so it stays a path.
 */
function parseTarget(raw: string): URL | undefined {
  try {
    return raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw);
  } catch {
    return undefined;
  }
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
