/**
 * A programmable Massive look-alike on 127.0.0.1 for recorder tests: a real HTTP server for the
 * chain snapshot (filters, pagination with `next_url` + cursor) and a real WebSocket server for
 * the clusters (connected → auth → subscribe), with hooks to inject faults: replace any REST
 * answer (429, 5xx, HTML, looping cursors, torn bodies), fail the next request matching a pattern
 * once (`failNext`), fail auth, send status notices, drop sockets, stay silent. Everything the client sends is logged for assertions, and `until()`
 * waits for a condition (re-checked on every server event) instead of sleeping.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type Cluster = 'options' | 'indices' | 'stocks';

/** One contract of the test chain. */
export interface TestContract {
  readonly root: string;
  readonly expiration: string;
  readonly right: 'C' | 'P';
  readonly strike: number;
}

export function tickerOf(c: TestContract): string {
  const [y, m, d] = c.expiration.split('-');
  return `O:${c.root}${y!.slice(2)}${m}${d}${c.right}${String(Math.round(c.strike * 1000)).padStart(8, '0')}`;
}

/** The raw JSON of a chain item, with 19-digit ns stamps (as Massive sends them). */
export function chainItem(c: TestContract, spot: number, nsBase = 1763740811123456789n): string {
  const intrinsic = Math.max(0, c.right === 'C' ? spot - c.strike : c.strike - spot);
  const mid = Math.round((intrinsic + 5 + Math.abs(spot - c.strike) * 0.01) * 100) / 100;
  const ns = (nsBase + BigInt(Math.round(c.strike * 1000))).toString();
  return (
    `{"details":{"contract_type":"${c.right === 'C' ? 'call' : 'put'}","exercise_style":"european","expiration_date":"${c.expiration}",` +
    `"shares_per_contract":100,"strike_price":${c.strike},"ticker":"${tickerOf(c)}"},` +
    `"last_quote":{"ask":${(mid + 0.1).toFixed(2)},"ask_size":10,"bid":${(mid - 0.1).toFixed(2)},"bid_size":10,"last_updated":${ns},"midpoint":${mid},"timeframe":"REAL-TIME"},` +
    `"last_trade":{"price":${mid},"sip_timestamp":${ns},"size":1,"exchange":302,"timeframe":"REAL-TIME"},` +
    `"underlying_asset":{"last_updated":1680814651655000000,"value":${spot},"ticker":"I:SPX","timeframe":"REAL-TIME"}}`
  );
}

/** Contracts for every (expiration, right, strike) combination. */
export function makeContracts(root: string, expirations: readonly string[], strikes: readonly number[]): TestContract[] {
  const out: TestContract[] = [];
  for (const expiration of expirations) for (const right of ['C', 'P'] as const) for (const strike of strikes) out.push({ root, expiration, right, strike });
  return out;
}

export interface RestRequest {
  /** 1-based request number. */
  readonly n: number;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** `req.url` as received. */
  readonly url: string;
}

export interface RestReply {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
  /** Send the headers and half the body, then destroy the socket (a torn connection mid-page). */
  readonly tear?: boolean;
}

export interface WsConn {
  readonly id: number;
  readonly cluster: Cluster;
  readonly ws: WebSocket;
  isAuthed: boolean;
  readonly topics: Set<string>;
  /** Every message the client sent, parsed. */
  readonly received: { action?: string; params?: string }[];
}

export interface TestServerOptions {
  /** Chain items as raw JSON (see chainItem). */
  chain?: () => readonly { contract: TestContract; raw: string }[];
  /** Largest page the server returns whatever `limit` asks (to force pagination). */
  pageSize?: number;
  /** Intercept a REST request: return a reply to override, undefined for the default behaviour. */
  rest?: (req: RestRequest, byDefault: () => RestReply) => RestReply | undefined;
  /** Auth result per connection (default: accept). */
  auth?: (conn: WsConn, key: string) => boolean;
  /** Called after each subscribe message (after the success statuses were sent). */
  onSubscribe?: (conn: WsConn, topics: string[]) => void;
}

/** A one-shot REST fault queued by `failNext`, and the request it hit. */
interface PendingFault {
  readonly pattern: RegExp | string;
  readonly status: number;
  readonly body: string | undefined;
}

export class MassiveTestServer {
  readonly requests: RestRequest[] = [];
  /** The requests answered by a `failNext` fault, in order. */
  readonly faults: { n: number; url: string; status: number }[] = [];
  private readonly pendingFaults: PendingFault[] = [];
  readonly conns: WsConn[] = [];
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<Socket>();
  private waiters: (() => void)[] = [];
  private nextConn = 1;
  port = 0;

  private constructor(private readonly o: TestServerOptions) {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('upgrade', (req, socket, head) => {
      const cluster = (req.url ?? '').replace(/^\//, '').split('?')[0] as Cluster;
      if (!['options', 'indices', 'stocks'].includes(cluster)) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, cluster));
    });
  }

  static async start(o: TestServerOptions = {}): Promise<MassiveTestServer> {
    const s = new MassiveTestServer(o);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  get restUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Authenticated connections of a cluster that are still open. */
  live(cluster: Cluster): WsConn[] {
    return this.conns.filter((c) => c.cluster === cluster && c.isAuthed && c.ws.readyState === c.ws.OPEN);
  }

  /** Sends a frame (events array or raw text) to every authenticated connection of `cluster`. */
  send(cluster: Cluster, frame: readonly object[] | string): void {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    for (const c of this.live(cluster)) c.ws.send(text);
  }

  /** Kills every connection of `cluster` without a close handshake (a dropped socket). */
  dropAll(cluster: Cluster): void {
    for (const c of this.conns) if (c.cluster === cluster) c.ws.terminate();
  }

  /**
   * Answers the next request whose URL (path + query) matches `pattern` with `status` instead of
   * the default reply, once. Queued faults are consumed in order, each by one request; the body is
   * Massive's error shape unless given. Takes precedence over the `rest` hook.
   */
  failNext(pattern: RegExp | string, status: number, body?: string): void {
    this.pendingFaults.push({ pattern, status, body });
  }

  /**
   * Resolves once `cond()` holds; it is re-checked on every server event and every 10 ms (for
   * conditions on files or client state). Rejects after `timeoutMs` naming `what`.
   */
  async until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 10);
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const r: RestRequest = { n: this.requests.length + 1, path: url.pathname, query: url.searchParams, headers: req.headers, url: req.url ?? '' };
    this.requests.push(r);
    const reply = this.takeFault(r) ?? this.o.rest?.(r, () => this.defaultReply(r, req.headers.host ?? '')) ?? this.defaultReply(r, req.headers.host ?? '');
    res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
    if (reply.tear) {
      res.write(reply.body.slice(0, Math.floor(reply.body.length / 2)));
      setImmediate(() => req.socket.destroy());
    } else res.end(reply.body);
    this.notify();
  }

  /** The first queued fault matching the request, removed from the queue and logged in `faults`. */
  private takeFault(r: RestRequest): RestReply | undefined {
    const i = this.pendingFaults.findIndex((f) => (typeof f.pattern === 'string' ? r.url.includes(f.pattern) : f.pattern.test(r.url)));
    if (i < 0) return undefined;
    const [f] = this.pendingFaults.splice(i, 1);
    this.faults.push({ n: r.n, url: r.url, status: f!.status });
    return { status: f!.status, body: f!.body ?? JSON.stringify({ status: 'ERROR', request_id: `req${r.n}`, error: `injected HTTP ${f!.status}` }) };
  }

  /** Massive's behaviour: auth required, filters honoured, `limit` pages with an opaque cursor. */
  defaultReply(r: RestRequest, host: string): RestReply {
    const auth = r.headers.authorization ?? '';
    if (!/^Bearer \S+/.test(auth) && !r.query.get('apiKey')) return { status: 401, body: '{"status":"ERROR","request_id":"t","error":"API Key was not provided"}' };
    const cursor = r.query.get('cursor');
    const q = cursor ? new URLSearchParams(Buffer.from(cursor, 'base64url').toString('utf8')) : r.query;
    const items = (this.o.chain?.() ?? []).filter(({ contract: c }) => matches(c, q));
    const limit = Math.min(250, this.o.pageSize ?? 250, Number(q.get('limit') ?? 10));
    const offset = Number(q.get('offset') ?? 0);
    const page = items.slice(offset, offset + limit);
    let body = `{"results":[${page.map((i) => i.raw).join(',')}],"status":"OK","request_id":"req${r.n}"`;
    if (offset + limit < items.length) {
      const nq = new URLSearchParams(q);
      nq.set('offset', String(offset + limit));
      body += `,"next_url":"http://${host}${r.path}?cursor=${Buffer.from(nq.toString()).toString('base64url')}"`;
    }
    return { status: 200, body: body + '}' };
  }

  private onConnection(ws: WebSocket, cluster: Cluster): void {
    const conn: WsConn = { id: this.nextConn++, cluster, ws, isAuthed: false, topics: new Set(), received: [] };
    this.conns.push(conn);
    ws.on('error', () => undefined);
    ws.on('close', () => this.notify());
    ws.send('[{"ev":"status","status":"connected","message":"Connected Successfully"}]');
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { action?: string; params?: string };
      conn.received.push(msg);
      if (msg.action === 'auth') {
        if (this.o.auth && !this.o.auth(conn, msg.params ?? '')) {
          ws.send('[{"ev":"status","status":"auth_failed","message":"authentication failed"}]');
          ws.close(1008);
        } else {
          conn.isAuthed = true;
          ws.send('[{"ev":"status","status":"auth_success","message":"authenticated"}]');
        }
      } else if (msg.action === 'subscribe') {
        const topics = (msg.params ?? '').split(',');
        for (const t of topics) conn.topics.add(t);
        ws.send(JSON.stringify(topics.map((t) => ({ ev: 'status', status: 'success', message: `subscribed to: ${t}` }))));
        this.o.onSubscribe?.(conn, topics);
      }
      this.notify();
    });
    this.notify();
  }
}

function matches(c: TestContract, q: URLSearchParams): boolean {
  const eg = q.get('expiration_date.gte');
  const el = q.get('expiration_date.lte');
  const kg = q.get('strike_price.gte');
  const kl = q.get('strike_price.lte');
  return (eg === null || c.expiration >= eg) && (el === null || c.expiration <= el) && (kg === null || c.strike >= Number(kg)) && (kl === null || c.strike <= Number(kl));
}
