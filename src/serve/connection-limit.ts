/**
 * The connection cap of `heatmap serve` (`--max-connections`): HTTP requests in flight plus open
 * WebSocket sessions. Over the cap a client is refused the way Massive refuses one — REST 503 in its
 * error shape with `Retry-After`, WS a `max_connections` status then close 1013 "try again later" —
 * so that a runaway test client cannot exhaust the process that stands in for Massive.
 */
import type http from 'node:http';

/** Default of `--max-connections`. */
export const DEFAULT_MAX_CONNECTIONS = 256;

/** How often (at most) a refusal is logged, with the count since the previous line. */
const LOG_EVERY_MS = 10_000;

export class ConnectionLimit {
  private inFlight = 0;
  private refusedSinceLog = 0;
  private lastLogMs = -Infinity;

  /**
   * @param max the cap (a positive integer)
   * @param openSessions the WebSocket sessions open now (the hub's count)
   */
  constructor(
    readonly max: number,
    private readonly openSessions: () => number,
    private readonly log: (msg: string) => void,
  ) {}

  /** What a refused client is told. */
  get message(): string {
    return `too many connections (limit ${this.max})`;
  }

  /** Requests in flight plus open WebSocket sessions. */
  get used(): number {
    return this.inFlight + this.openSessions();
  }

  /** Counts an HTTP request until its response closes; false (and nothing counted) when full. */
  admitRequest(res: http.ServerResponse): boolean {
    if (this.isFull('request')) return false;
    this.inFlight++;
    res.once('close', () => this.inFlight--);
    return true;
  }

  /** Whether a WebSocket upgrade must be refused (the session, once attached, counts itself). */
  refusesUpgrade(): boolean {
    return this.isFull('WebSocket connection');
  }

  private isFull(what: string): boolean {
    if (this.used < this.max) return false;
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.lastLogMs >= LOG_EVERY_MS) {
      const more = this.refusedSinceLog > 1 ? ` (${this.refusedSinceLog} refused since the last note)` : '';
      this.log(`serve: refused a ${what}: ${this.message} — raise --max-connections if the clients are expected${more}`);
      this.lastLogMs = now;
      this.refusedSinceLog = 0;
    }
    return true;
  }
}
