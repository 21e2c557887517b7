/**
 * The WebSocket side of `heatmap serve`: Massive's cluster protocol (massive-wire.md §4.1) —
 * `connected` on open, `auth` → `auth_success` / `auth_failed`, `subscribe` / `unsubscribe` with a
 * `success` status per topic — and fan-out of replayed frames, each client getting only the events
 * of the topics it subscribed (`T.O:…`, `T.*`, `V.I:SPX`, …). Events are cut from the recorded
 * frame and re-joined verbatim; a frame whose events all match is sent exactly as recorded.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { WsCluster } from '../massive/ws.js';
import { splitJsonArray } from './raw-json.js';

export const CLUSTERS: readonly WsCluster[] = ['options', 'indices', 'stocks'];

export interface WsHubOptions {
  /** When set, `auth` must carry exactly this key; otherwise any non-empty key is accepted. */
  readonly apiKey?: string;
  /** Close clients that do not authenticate within this (default 10 s). */
  readonly authTimeoutMs?: number;
  /** A client whose send buffer exceeds this gets `slow_consumer` and is dropped (default 64 MiB). */
  readonly maxBufferedBytes?: number;
  readonly log: (msg: string) => void;
  /** Called on every subscribe (for `--hold`). */
  readonly onActivity?: () => void;
}

interface Session {
  readonly ws: WebSocket;
  readonly cluster: WsCluster;
  isAuthed: boolean;
  readonly topics: Set<string>;
}

const status = (s: string, message: string): string => JSON.stringify([{ ev: 'status', status: s, message }]);

/** A client message that is a JSON object; its fields are checked where they are used. */
interface ClientMessage {
  readonly action?: unknown;
  readonly params?: unknown;
}

export class WsHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private readonly sessions = new Set<Session>();
  /** Refused sockets still closing (terminated by close(), so that the server can stop at once). */
  private readonly refused = new Set<WebSocket>();
  /** Connections accepted and frames sent, for the log. */
  readonly stats = { connections: 0, frames: 0 };

  constructor(private readonly o: WsHubOptions) {}

  /** Connected sessions per cluster (authenticated or not). */
  count(cluster?: WsCluster): number {
    let n = 0;
    for (const s of this.sessions) if (cluster === undefined || s.cluster === cluster) n++;
    return n;
  }

  /**
   * Handles an HTTP upgrade for `/options`, `/indices`, `/stocks`. Any other path (an unserved
   * Massive cluster such as `/crypto`, or no cluster at all) is upgraded only to say so: an `error`
   * status, then close 1008 — a Massive client reads the reason from the socket, as it reads
   * `auth_failed`, instead of a bare HTTP 404. With `refusal` (the server is full) the socket is
   * upgraded only to say that, as Massive does: a `max_connections` status, then close 1013 "try
   * again later".
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, refusal?: string): void {
    // Node stops watching a socket it hands over for an upgrade: a peer resetting it before ws takes
    // over must not become an unhandled 'error' event.
    socket.on('error', () => socket.destroy());
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const path = rawPath.replace(/\/+$/, '');
    const cluster = CLUSTERS.find((c) => path === `/${c}`);
    if (refusal !== undefined) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.refuse(ws, 'max_connections', refusal, 1013, 'try again later'));
      return;
    }
    if (!cluster) {
      // Echo at most a short prefix of the path (it can be up to Node's header limit).
      const message = `Unknown cluster ${JSON.stringify(rawPath.slice(0, 64))}: heatmap serve serves /options, /indices, /stocks`;
      this.wss.handleUpgrade(req, socket, head, (ws) => this.refuse(ws, 'error', message, 1008, 'unknown cluster'));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, cluster));
  }

  /** Sends one status and closes: a socket upgraded only to say why it is not served. */
  private refuse(ws: WebSocket, st: string, message: string, code: number, reason: string): void {
    this.refused.add(ws);
    ws.on('error', () => undefined);
    ws.on('close', () => this.refused.delete(ws));
    ws.send(status(st, message));
    ws.close(code, reason);
  }

  private attach(ws: WebSocket, cluster: WsCluster): void {
    const s: Session = { ws, cluster, isAuthed: false, topics: new Set() };
    this.sessions.add(s);
    this.stats.connections++;
    ws.send(status('connected', 'Connected Successfully'));
    const authTimer = setTimeout(() => {
      if (s.isAuthed) return;
      ws.send(status('auth_timeout', 'No authentication request received.'));
      ws.close(1008, 'auth timeout');
    }, this.o.authTimeoutMs ?? 10_000);
    ws.on('close', () => {
      clearTimeout(authTimer);
      this.sessions.delete(s);
    });
    // A reset client just goes away; ws itself closes on invalid UTF-8 (1007) and frames over maxPayload (1009).
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      try {
        this.onFrame(s, data, isBinary, authTimer);
      } catch (err) {
        // A bug costs this client its connection, never the server.
        this.o.log(`serve: internal error on a ${cluster} message: ${err instanceof Error ? err.message : String(err)}`);
        ws.send(status('error', 'Internal server error'));
        ws.close(1011, 'internal error');
      }
    });
  }

  /** Every frame gets an answer: a status (error for anything but a JSON object) or a close. */
  private onFrame(s: Session, data: RawData, isBinary: boolean, authTimer: NodeJS.Timeout): void {
    if (isBinary) {
      s.ws.send(status('error', 'Binary frames are not supported: send JSON text {"action":…,"params":…}'));
      return;
    }
    const msg = parseMessage(rawText(data));
    if (typeof msg === 'string') s.ws.send(status('error', msg));
    else this.onMessage(s, msg, authTimer);
  }

  private onMessage(s: Session, msg: ClientMessage, authTimer: NodeJS.Timeout): void {
    const { ws } = s;
    const params = typeof msg.params === 'string' ? msg.params : '';
    if (msg.action === 'auth') {
      const ok = params !== '' && (this.o.apiKey === undefined || params === this.o.apiKey);
      if (!ok) {
        ws.send(status('auth_failed', 'authentication failed'));
        ws.close(1008, 'authentication failed');
        return;
      }
      clearTimeout(authTimer);
      s.isAuthed = true;
      ws.send(status('auth_success', 'authenticated'));
      return;
    }
    if (msg.action !== 'subscribe' && msg.action !== 'unsubscribe') {
      // Echo at most a short prefix: the action can be any JSON value, up to maxPayload.
      ws.send(status('error', `Unknown action ${JSON.stringify(msg.action ?? null).slice(0, 64)}`));
      return;
    }
    if (!s.isAuthed) {
      ws.send(status('auth_required', 'authentication required'));
      return;
    }
    const topics = params.split(',').map((t) => t.trim()).filter((t) => t !== '');
    if (topics.length === 0) {
      // Without this a client waiting for its `success` would wait forever.
      ws.send(status('error', `${msg.action}: params must be a string of comma-separated topics, e.g. "T.O:SPY251219C00650000,T.*"`));
      return;
    }
    const replies: { ev: 'status'; status: string; message: string }[] = [];
    for (const t of topics) {
      const bad = topicError(s.cluster, t);
      if (bad !== undefined) {
        replies.push({ ev: 'status', status: 'error', message: bad });
        continue;
      }
      if (msg.action === 'subscribe') s.topics.add(t);
      else s.topics.delete(t);
      replies.push({ ev: 'status', status: 'success', message: `${msg.action}d to: ${t}` });
    }
    ws.send(JSON.stringify(replies));
    if (msg.action === 'subscribe') this.o.onActivity?.();
  }

  /** Sends the events of a recorded frame to the clients of `cluster` that subscribed to them. */
  broadcast(cluster: WsCluster, rawFrame: string): void {
    let events: { raw: string; topic: string; any: string }[] | undefined;
    for (const s of this.sessions) {
      if (s.cluster !== cluster || !s.isAuthed || s.topics.size === 0) continue;
      events ??= splitEvents(rawFrame);
      if (events.length === 0) return;
      const keep = events.filter((e) => s.topics.has(e.topic) || s.topics.has(e.any));
      if (keep.length === 0) continue;
      if (s.ws.bufferedAmount > (this.o.maxBufferedBytes ?? 64 * 1024 * 1024)) {
        s.ws.send(status('slow_consumer', 'Client is not reading fast enough; disconnecting.'));
        s.ws.terminate();
        this.o.log(`serve: dropped a slow ${cluster} client (send buffer over the limit)`);
        continue;
      }
      s.ws.send(keep.length === events.length ? rawFrame.trim() : `[${keep.map((e) => e.raw).join(',')}]`);
      this.stats.frames++;
    }
  }

  /** Closes every client and the WS server. */
  close(): void {
    for (const s of this.sessions) s.ws.terminate();
    this.sessions.clear();
    for (const ws of this.refused) ws.terminate();
    this.refused.clear();
    this.wss.close();
  }
}

/**
 * Event types per cluster (massive-wire.md §4.3–4.5): a topic is `EV.SYMBOL` or `EV.*`. A topic of
 * another form or event type gets an `error` status (§4.1: subscribe answers `success`,
 * `auth_required` or `error`) and is not subscribed; the valid topics of the same message are.
 */
const EVENTS: Record<WsCluster, readonly string[]> = {
  options: ['T', 'Q', 'A', 'AM', 'FMV'],
  indices: ['V', 'A', 'AM'],
  stocks: ['T', 'Q', 'A', 'AM', 'LULD', 'NOI', 'FMV'],
};

/** Why `topic` cannot be subscribed on `cluster`, or undefined when it can. */
function topicError(cluster: WsCluster, topic: string): string | undefined {
  const shown = JSON.stringify(topic.slice(0, 64));
  const dot = topic.indexOf('.');
  const ev = dot > 0 ? topic.slice(0, dot) : '';
  const sym = dot > 0 ? topic.slice(dot + 1) : '';
  if (ev === '' || sym === '' || /\s/.test(sym)) return `Invalid topic ${shown}: expected EV.SYMBOL or EV.*, e.g. ${cluster === 'indices' ? 'V.I:SPX' : 'T.O:SPY251219C00650000'}`;
  if (!EVENTS[cluster].includes(ev)) return `Invalid topic ${shown}: the ${cluster} cluster has no ${JSON.stringify(ev.slice(0, 16))} events (it has ${EVENTS[cluster].join(', ')})`;
  return undefined;
}

/** Parses a text frame; a string result is the error to answer (anything but a JSON object). */
function parseMessage(text: string): ClientMessage | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'Invalid message: expected JSON {"action":…,"params":…}';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'Invalid message: expected a JSON object {"action":…,"params":…}';
  return v as ClientMessage;
}

/** The text of a message (ws hands over one Buffer with the default binaryType; the rest for the type's sake). */
function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

/** The data events of a frame with their topics (`T.O:SPXW…`) and wildcards (`T.*`); status events dropped. */
function splitEvents(rawFrame: string): { raw: string; topic: string; any: string }[] {
  const out: { raw: string; topic: string; any: string }[] = [];
  for (const raw of splitJsonArray(rawFrame) ?? []) {
    let ev: Record<string, unknown>;
    try {
      ev = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof ev !== 'object' || ev === null || typeof ev.ev !== 'string' || ev.ev === 'status') continue;
    // Options/stocks events name their symbol `sym`; index values use a capital `T`.
    const sym = typeof ev.sym === 'string' ? ev.sym : typeof ev.T === 'string' ? ev.T : '';
    out.push({ raw, topic: `${ev.ev}.${sym}`, any: `${ev.ev}.*` });
  }
  return out;
}
