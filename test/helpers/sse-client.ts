/**
 * A small, real Server-Sent Events client over node:http, for tests and the load benchmark's
 * checks: it parses the event stream as the HTML spec describes (fields `event`, `data`, `id`,
 * `retry`; `:` comments; an empty line dispatches) and records everything it sees. Every wait is
 * bounded: a stream that never delivers fails the test instead of hanging it.
 */
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';

export interface SseEvent {
  readonly event: string;
  readonly data: string;
  /** The event's own `id:` field, when it has one. */
  readonly id: string | undefined;
}

export interface SseConnectOptions {
  readonly lastEventId?: string;
  readonly headers?: Record<string, string>;
  /** Do not read the body until `resume()`: a client that never reads (its socket backs up). */
  readonly paused?: boolean;
  /**
   * Send `Accept-Encoding: gzip`, as browsers do. A gzip response is inflated by zlib's own
   * streaming gunzip, which checks the trailer (CRC-32, length) when the response ends.
   */
  readonly gzip?: boolean;
}

export class SseTestClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  /** Resolves when the server ends the response (or the connection closes). */
  readonly ended: Promise<void>;
  /** Body bytes as they came over the wire (compressed when `isGzip`). */
  wireBytes = 0;
  /** The gunzip's complaint (a bad trailer, a cut stream); undefined while the stream is whole. */
  decodeError: Error | undefined;
  private readonly gunzip: zlib.Gunzip | undefined;
  private buffer = '';
  private field = { event: '', data: [] as string[], id: undefined as string | undefined };
  private waiters: (() => void)[] = [];
  private isEnded = false;
  private afterCr = false;

  private constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
    readonly res: http.IncomingMessage,
    private readonly req: http.ClientRequest,
    paused: boolean,
  ) {
    if (this.isGzip) this.gunzip = zlib.createGunzip();
    const body = this.gunzip ?? res;
    body.setEncoding('utf8');
    this.ended = new Promise<void>((resolve) => {
      const done = (): void => {
        this.isEnded = true;
        this.wake();
        resolve();
      };
      body.on('end', done);
      body.on('close', done);
      body.on('error', (err) => {
        if (this.gunzip) this.decodeError = err;
        done();
      });
      // A connection cut mid-stream never ends the response: end the gunzip, which then reports
      // whatever was missing (or nothing, when the stream was already whole).
      if (this.gunzip) res.on('close', () => void (this.gunzip!.writableEnded || this.gunzip!.end()));
    });
    if (paused) res.pause();
    else this.resume();
  }

  /** The server sent the stream gzip-compressed. */
  get isGzip(): boolean {
    return this.headers['content-encoding'] === 'gzip';
  }

  /** Opens `url`; resolves once the response headers are in (any status). */
  static connect(url: string, opts: SseConnectOptions = {}): Promise<SseTestClient> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Accept: 'text/event-stream', ...(opts.gzip ? { 'Accept-Encoding': 'gzip' } : {}), ...opts.headers };
      if (opts.lastEventId !== undefined) headers['Last-Event-ID'] = opts.lastEventId;
      const req = http.get(url, { headers, agent: false }, (res) => resolve(new SseTestClient(res.statusCode ?? 0, res.headers, res, req, opts.paused === true)));
      req.on('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.isEnded;
  }

  /** The events named `name`, in order. */
  named(name: string): SseEvent[] {
    return this.events.filter((e) => e.event === name);
  }

  /**
   * Waits until `pred` holds for the events received so far (checked on every chunk).
   * Rejects after `timeoutMs`, or when the stream ends first.
   */
  async until(pred: (c: SseTestClient) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (this.isEnded) throw new Error(`SSE stream ended before: ${what} (${this.events.length} events)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for: ${what} (${this.events.length} events)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for an event with `id:` = `id` (e.g. a strategy's last version). */
  untilId(id: number, timeoutMs?: number): Promise<void> {
    return this.until((c) => c.events.some((e) => e.id === String(id)), `event id ${id}`, timeoutMs);
  }

  /** Starts (or restarts) reading the stream. */
  resume(): void {
    if (this.res.listenerCount('data') === 0) {
      // Identity: `res` decodes UTF-8 itself (strings); gzip: Buffers into the gunzip, which decodes.
      this.res.on('data', (chunk: Buffer | string) => (this.wireBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length));
      if (this.gunzip) {
        this.gunzip.on('data', (text: string) => this.feed(text));
        this.res.pipe(this.gunzip);
      } else {
        this.res.on('data', (text: string) => this.feed(text));
      }
    }
    this.res.resume();
  }

  /** Closes the connection from the client side. */
  close(): void {
    this.req.destroy();
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private feed(chunk: string): void {
    const buf = this.buffer + chunk;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const ch = buf.charCodeAt(i);
      if (ch === 10 && this.afterCr) {
        this.afterCr = false; // the LF of a CRLF split across chunks
        start = i + 1;
        continue;
      }
      this.afterCr = false;
      if (ch !== 10 && ch !== 13) continue;
      this.line(buf.slice(start, i));
      if (ch === 13) {
        if (i + 1 < buf.length) {
          if (buf.charCodeAt(i + 1) === 10) i++;
        } else this.afterCr = true;
      }
      start = i + 1;
    }
    this.buffer = buf.slice(start);
    this.wake();
  }

  private line(line: string): void {
    if (line === '') {
      const f = this.field;
      if (f.data.length > 0) this.events.push({ event: f.event || 'message', data: f.data.join('\n'), id: f.id });
      this.field = { event: '', data: [], id: undefined };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') this.field.event = value;
    else if (name === 'data') this.field.data.push(value);
    else if (name === 'id') this.field.id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

/** GET `url` and return status, headers and body text (bounded by the socket; no keep-alive). */
export function httpGet(url: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A port that was free a moment ago (the command under test binds it itself). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
