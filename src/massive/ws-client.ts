/**
 * One Massive WebSocket cluster connection (`/options`, `/indices`, `/stocks`) that stays up all
 * day (massive-wire.md §4):
 *
 * - Handshake: wait for `connected` (or the spec's `success`), send `auth`, wait for
 *   `auth_success`, then subscribe every topic in batches. `auth_failed` is fatal.
 * - Keep-alive: a ping control frame every `pingIntervalMs` (Go client: 25 s); two intervals
 *   without a pong mean the socket is dead.
 * - Stale timeout: no frame at all for `staleTimeoutMs` → reconnect (illiquid strikes trade
 *   rarely, so this is per cluster and configurable).
 * - Reconnect with exponential backoff + jitter (1 s → 32 s), re-auth, resubscribe everything
 *   (client-python #800 forgot this), and report every window without data as a gap: from the
 *   moment data stopped (the drop, or the last frame for a stale feed) to the moment the
 *   subscriptions are back.
 * - `max_connections`, `force_disconnect`, `slow_consumer` are reported loudly; the close that
 *   follows them is a reconnect like any other.
 *
 * Frames are handed over synchronously in `onFrame` with their receive time: reading never waits
 * on anything.
 */
import WebSocket from 'ws';
import { RuntimeError } from '../errors.js';
import type { GapInfo } from '../recording/lines.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { redactError, type Redactor } from './redact.js';
import type { WsCluster } from './ws.js';

export interface WsClientOptions {
  /** Full URL including the cluster path, e.g. `wss://socket.massive.com/options`. */
  readonly url: string;
  readonly cluster: WsCluster;
  readonly apiKey: string;
  readonly now: () => number;
  readonly redact: Redactor;
  readonly log: (msg: string) => void;
  /** Every frame after `auth_success`, as received (valid JSON, key redacted). */
  readonly onFrame: (raw: string, recv_us: number) => void;
  /** A window without data, once it has ended (or at shutdown). */
  readonly onGap: (gap: GapInfo, recv_us: number) => void;
  readonly pingIntervalMs: number;
  readonly staleTimeoutMs: number;
  readonly backoff: BackoffOptions;
  /** Connect + `connected` + `auth_success` must complete within this (default 10 s). */
  readonly handshakeTimeoutMs: number;
  /** Topics per `subscribe` message. */
  readonly subscribeBatch: number;
  readonly random?: () => number;
}

/** Counters for the status line and the summary. */
export interface WsClientStats {
  frames: number;
  /** Connections that reached `auth_success`, minus the first. */
  reconnects: number;
  gaps: number;
  badFrames: number;
  state: 'connecting' | 'live' | 'waiting' | 'closed';
  lastFrameUs: number | undefined;
  /** Server status events other than the handshake ones, by status. */
  notices: Record<string, number>;
}

/** Disconnect notices Massive sends before closing a socket. */
const DISCONNECT_STATUSES = new Set(['max_connections', 'force_disconnect', 'slow_consumer', 'auth_timeout']);

export class MassiveWsClient {
  readonly stats: WsClientStats = { frames: 0, reconnects: 0, gaps: 0, badFrames: 0, state: 'connecting', lastFrameUs: undefined, notices: {} };
  private readonly topics = new Set<string>();
  private sock: WebSocket | undefined;
  private isLive = false;
  private isStopping = false;
  private attempt = 0;
  private everLive = false;
  /** Set while the stream has no data: since when, and why. */
  private gap: { from_us: number; reason: string } | undefined;
  /** Why the current socket is going away (a status notice, stale, no pong…). */
  private closeReason: string | undefined;
  private lastPongUs = 0;
  /** Staleness is measured from the newer of this and the last frame (the last (re)subscription). */
  private staleFromUs = 0;
  private timers: NodeJS.Timeout[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private settle!: { resolve: () => void; reject: (err: Error) => void };
  /** Resolves after `close()`; rejects on a fatal error (`auth_failed`). */
  readonly done: Promise<void>;

  constructor(private readonly o: WsClientOptions) {
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined); // observed by the owner
  }

  /** Opens the first connection. */
  start(): void {
    this.connect();
  }

  /** Topics subscribed (or to subscribe once connected). */
  get subscriptions(): ReadonlySet<string> {
    return this.topics;
  }

  /** Adds topics (`T.O:SPXW…`, `V.I:SPX`); sends them at once when live, else after the next auth. */
  subscribe(topics: Iterable<string>): void {
    const fresh: string[] = [];
    for (const t of topics) {
      if (this.topics.has(t)) continue;
      this.topics.add(t);
      fresh.push(t);
    }
    if (this.isLive && fresh.length > 0) {
      this.staleFromUs = this.o.now(); // new topics get a full stale window before they count as silent
      this.sendSubscribe(fresh);
    }
  }

  /** Closes the connection for good; an open gap is written up to now. */
  async close(): Promise<void> {
    if (this.isStopping) return this.done.catch(() => undefined);
    this.isStopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.clearTimers();
    const sock = this.sock;
    if (sock && sock.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => sock.terminate(), 1000);
        sock.once('close', () => {
          clearTimeout(force);
          resolve();
        });
        if (sock.readyState === WebSocket.CONNECTING) sock.terminate();
        else sock.close(1000, 'recorder stopping');
      });
    }
    this.closeGap(this.o.now());
    this.stats.state = 'closed';
    this.settle.resolve();
  }

  private connect(): void {
    if (this.isStopping) return;
    this.stats.state = 'connecting';
    this.closeReason = undefined;
    const sock = new WebSocket(this.o.url, { handshakeTimeout: this.o.handshakeTimeoutMs, maxPayload: 256 * 1024 * 1024 });
    this.sock = sock;
    let phase: 'await_connected' | 'await_auth' | 'live' = 'await_connected';
    const handshake = setTimeout(() => {
      if (phase !== 'live') this.drop(sock, 'handshake_timeout', `no auth_success within ${this.o.handshakeTimeoutMs} ms`);
    }, this.o.handshakeTimeoutMs);
    this.timers.push(handshake);
    sock.on('open', () => {
      this.lastPongUs = this.o.now();
    });
    sock.on('pong', () => {
      this.lastPongUs = this.o.now();
    });
    sock.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const recv_us = this.o.now();
      if (sock !== this.sock || this.isStopping) return;
      const raw = this.o.redact(isBinary ? '' : rawText(data));
      let events: unknown;
      try {
        events = JSON.parse(raw);
      } catch {
        events = undefined;
      }
      if (!Array.isArray(events)) {
        this.stats.badFrames++;
        if (this.stats.badFrames <= 3) this.o.log(`${this.o.cluster}: ignored a frame that is not a JSON array: ${short(raw)}`);
        return;
      }
      // Handshake frames (connected, auth_success) are not market data; everything after is recorded.
      const wasLive = phase === 'live';
      let hasData = false;
      for (const ev of events) {
        if (!isStatus(ev)) {
          hasData = true;
          continue;
        }
        const status = ev.status;
        const message = typeof ev.message === 'string' ? this.o.redact(ev.message) : '';
        if (phase === 'await_connected' && (status === 'connected' || status === 'success')) {
          phase = 'await_auth';
          sock.send(JSON.stringify({ action: 'auth', params: this.o.apiKey }));
        } else if (phase === 'await_auth' && status === 'auth_success') {
          phase = 'live';
          clearTimeout(handshake);
          this.onAuthenticated(sock);
        } else if (status === 'auth_failed') {
          this.fail(new RuntimeError(`Massive ${this.o.cluster} WebSocket rejected the API key (auth_failed: "${message}") — check MASSIVE_API_KEY (or --api-key) and your plan`));
          return;
        } else if (DISCONNECT_STATUSES.has(status)) {
          this.stats.notices[status] = (this.stats.notices[status] ?? 0) + 1;
          this.closeReason = status;
          this.o.log(`${this.o.cluster}: WARNING server sent ${status}: "${message}"${noticeHint(status)}`);
        } else if (status === 'error' || status === 'auth_required') {
          this.stats.notices[status] = (this.stats.notices[status] ?? 0) + 1;
          this.o.log(`${this.o.cluster}: server status ${status}: "${message}"`);
        }
      }
      if (phase === 'live' && (wasLive || hasData)) {
        this.stats.frames++;
        this.stats.lastFrameUs = recv_us;
        this.o.onFrame(raw, recv_us);
      }
    });
    sock.on('error', (err: Error) => {
      // Always followed by 'close' (ws guarantees it); remember why.
      this.closeReason ??= 'disconnect';
      if (!this.isStopping) this.o.log(`${this.o.cluster}: connection error: ${redactError(err, this.o.redact)}`);
    });
    sock.on('close', (code: number, reason: Buffer) => {
      clearTimeout(handshake);
      if (sock !== this.sock) return;
      this.sock = undefined;
      this.clearTimers();
      if (this.isStopping) return;
      const now = this.o.now();
      const why = this.closeReason ?? 'disconnect';
      if (this.isLive) {
        this.isLive = false;
        const from = why === 'stale' ? Math.max(this.stats.lastFrameUs ?? 0, this.staleFromUs) : now;
        this.gap = { from_us: from, reason: why };
        const text = reason.length > 0 ? ` "${this.o.redact(reason.toString('utf8'))}"` : '';
        this.o.log(`${this.o.cluster}: connection lost (${why}, close code ${code}${text}) — reconnecting`);
      }
      this.scheduleReconnect();
    });
  }

  private onAuthenticated(sock: WebSocket): void {
    if (this.everLive) this.stats.reconnects++;
    this.everLive = true;
    this.attempt = 0;
    this.isLive = true;
    this.stats.state = 'live';
    if (this.topics.size > 0) this.sendSubscribe([...this.topics]);
    const now = this.o.now();
    this.staleFromUs = now; // staleness counts from the (re)subscription
    this.closeGap(now);
    const tick = Math.max(10, Math.min(1000, Math.floor(this.o.staleTimeoutMs / 4), Math.floor(this.o.pingIntervalMs / 2)));
    let lastPing = now;
    this.timers.push(
      setInterval(() => {
        const t = this.o.now();
        // Nothing subscribed (no topology yet): silence is expected, not stale.
        const since = Math.max(this.stats.lastFrameUs ?? 0, this.staleFromUs);
        if (this.topics.size > 0 && t - since > this.o.staleTimeoutMs * 1000) {
          this.drop(sock, 'stale', `no frame for ${Math.round(this.o.staleTimeoutMs / 1000)} s (stale timeout)`);
          return;
        }
        if (t - this.lastPongUs > 2 * this.o.pingIntervalMs * 1000) {
          this.drop(sock, 'disconnect', 'no pong for two ping intervals');
          return;
        }
        if (t - lastPing >= this.o.pingIntervalMs * 1000) {
          lastPing = t;
          sock.ping();
        }
      }, tick),
    );
  }

  private sendSubscribe(topics: readonly string[]): void {
    const sock = this.sock;
    if (!sock || sock.readyState !== WebSocket.OPEN) return;
    for (let i = 0; i < topics.length; i += this.o.subscribeBatch) {
      sock.send(JSON.stringify({ action: 'subscribe', params: topics.slice(i, i + this.o.subscribeBatch).join(',') }));
    }
  }

  /** Ends the current socket on our side; its 'close' event schedules the reconnect. */
  private drop(sock: WebSocket, reason: string, message: string): void {
    if (sock !== this.sock || this.isStopping) return;
    this.closeReason = reason;
    this.o.log(`${this.o.cluster}: ${message} — reconnecting`);
    sock.terminate();
  }

  private scheduleReconnect(): void {
    this.stats.state = 'waiting';
    this.gap ??= { from_us: this.o.now(), reason: this.closeReason ?? 'disconnect' };
    const delay = backoffDelay(this.attempt++, this.o.backoff, this.o.random);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  private closeGap(to_us: number): void {
    const g = this.gap;
    if (!g) return;
    this.gap = undefined;
    this.stats.gaps++;
    this.o.onGap({ stream: this.o.cluster, from_us: g.from_us, to_us, reason: g.reason }, to_us);
  }

  private fail(err: Error): void {
    if (this.isStopping) return;
    this.isStopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.clearTimers();
    this.sock?.terminate();
    this.closeGap(this.o.now());
    this.stats.state = 'closed';
    this.settle.reject(err);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function isStatus(ev: unknown): ev is { ev: 'status'; status: string; message?: unknown } {
  return typeof ev === 'object' && ev !== null && (ev as { ev?: unknown }).ev === 'status' && typeof (ev as { status?: unknown }).status === 'string';
}

function noticeHint(status: string): string {
  switch (status) {
    case 'max_connections':
      return ' — another client uses this key on this cluster (one connection per cluster per account)';
    case 'slow_consumer':
      return ' — we read too slowly for the server (CPU starved?)';
    case 'force_disconnect':
      return ' — the server ended the session';
    default:
      return '';
  }
}

function short(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
