/**
 * The REST chain poller: takes chain snapshots one after another, forever (until stopped), and
 * hands every page to the recorder as a `chain` line (DESIGN §4) the moment it arrives.
 *
 * - One snapshot in flight at most; the next starts `max(floor, smoothed snapshot duration)` after
 *   the previous one started, so we never ask faster than the server completes (the seed's rule).
 * - Pagination follows `next_url`, and stops on a cursor already fetched (server bug #289: a
 *   `next_url` that loops back to itself) or at the page cap; the page where it stopped is marked
 *   `last` so the snapshot still counts as complete on replay.
 * - 429 / 5xx / non-JSON bodies / network failures: a `gap` line for the missed window (from the
 *   failed request to the next attempt) and a backoff (honouring `Retry-After`). The failed page is
 *   asked again first — same cursor, same snapshot, up to `pageRetries` times — so one bad answer
 *   does not throw away the pages already taken; only then is the snapshot given up, and the next
 *   one starts after a backoff that grows while snapshots keep failing. Never gives up for good.
 * - 401 / 403: stop with a clear RuntimeError (the message never holds the key).
 */
import { RuntimeError } from '../errors.js';
import { chainLine, gapLine } from '../recording/lines.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import type { Redactor } from './redact.js';
import { chainSnapshotPath, fetchChainPage, type ChainFetch, type ChainFilter } from './rest-client.js';

export interface ChainPollerOptions {
  readonly restUrl: string;
  readonly underlying: string;
  readonly apiKey: string;
  /** The recorder's receive clock (µs). */
  readonly now: () => number;
  readonly redact: Redactor;
  readonly log: (msg: string) => void;
  /** The filter of the next snapshot (asked once per snapshot). */
  readonly filter: () => ChainFilter;
  /** Receives every `chain` stream line (pages and gaps) in receive order. */
  readonly emit: (line: string, recv_us: number) => void;
  /** Called after the last page of each complete snapshot. */
  readonly onSnapshot: (s: CompletedSnapshot) => void;
  readonly pageCap: number;
  readonly floorMs: number;
  readonly backoff: BackoffOptions;
  readonly retryAfterCapMs: number;
  readonly requestTimeoutMs: number;
  /** Retries of a failed page (same cursor) before the snapshot is given up (default 3). */
  readonly pageRetries?: number;
  readonly random?: () => number;
  /** Awaited once before the first snapshot (the recorder waits for a spot value there). */
  readonly beforeFirst?: (signal: AbortSignal) => Promise<void>;
}

/** A snapshot whose pages all arrived. */
export interface CompletedSnapshot {
  readonly snapshot: number;
  readonly filter: ChainFilter;
  /** Parsed page bodies (ns integers kept as digit strings), in page order. */
  readonly pages: readonly Record<string, unknown>[];
  readonly started_us: number;
  readonly finished_us: number;
  /** Why paging stopped: no `next_url`, a repeated cursor, or the page cap. */
  readonly stop: 'end' | 'loop' | 'cap';
}

/** Counters for the status line and the summary. */
export interface ChainPollerStats {
  snapshots: number;
  failed: number;
  pages: number;
  gaps: number;
  loops: number;
  capped: number;
  /** Duration of the last complete snapshot (ms). */
  lastMs: number | undefined;
  lastPages: number;
  /** Requests sent (pages and retries). */
  requests: number;
  /** Failed requests by what happened (`refused the connection`, `answered HTTP 503`…) and why. */
  failures: Map<string, { what: string; why: string | undefined; count: number }>;
}

/** Default retries of one failed page before its snapshot is given up. */
export const DEFAULT_PAGE_RETRIES = 3;

type Failure = Exclude<ChainFetch, { kind: 'page' }>;
type Retryable = Extract<ChainFetch, { kind: 'http' | 'network' }>;
/** A page that failed on every retry: its snapshot is given up. */
type GaveUp = { kind: 'failed'; failure: Retryable; snapshot: number; page: number; tries: number };
/** Outcomes that end a snapshot at once: a rejected key, or the poller stopping. */
type Stopped = (Failure & { kind: 'auth' }) | { kind: 'aborted' };

export class ChainPoller {
  readonly stats: ChainPollerStats = { snapshots: 0, failed: 0, pages: 0, gaps: 0, loops: 0, capped: 0, lastMs: undefined, lastPages: 0, requests: 0, failures: new Map() };
  private nextSnapshot = 0;
  /** The window without chain data opened by a failed request, closed when the next attempt starts. */
  private openGap: { from_us: number; reason: string } | undefined;

  constructor(private readonly o: ChainPollerOptions) {}

  /** Polls until `signal` aborts. Rejects with a RuntimeError when the key is rejected. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let smoothedMs: number | undefined;
    try {
      if (this.o.beforeFirst) await this.o.beforeFirst(signal);
      while (!signal.aborted) {
        const started = this.o.now();
        this.closeGap(started);
        const outcome = await this.takeSnapshot(signal);
        if (signal.aborted) break;
        if (outcome.kind === 'aborted') break;
        if (outcome.kind === 'auth') throw this.authError(outcome);
        if (outcome.kind === 'done') {
          failures = 0;
          const ms = (outcome.snap.finished_us - started) / 1000;
          smoothedMs = smoothedMs === undefined ? ms : 0.7 * smoothedMs + 0.3 * ms;
          this.stats.snapshots++;
          this.stats.lastMs = ms;
          this.stats.lastPages = outcome.snap.pages.length;
          this.o.onSnapshot(outcome.snap);
          const interval = Math.max(this.o.floorMs, smoothedMs);
          await sleep(interval - (this.o.now() - started) / 1000, signal);
          continue;
        }
        // The page failed on every retry: give the snapshot up, start a fresh one after a backoff.
        const f = outcome.failure;
        const { delay, why } = this.retryDelay(f, failures);
        failures++;
        this.o.log(
          this.o.redact(`chain: snapshot ${outcome.snapshot} page ${outcome.page} failed ${outcome.tries} times — giving up the snapshot (last: ${describeFailure(f)}); a new one in ${(delay / 1000).toFixed(1)} s${why}`),
        );
        await sleep(delay, signal);
      }
    } finally {
      this.closeGap(this.o.now());
    }
  }

  private async takeSnapshot(
    signal: AbortSignal,
  ): Promise<{ kind: 'done'; snap: CompletedSnapshot } | GaveUp | Stopped> {
    const snapshot = this.nextSnapshot++;
    const filter = this.o.filter();
    let pathQuery = chainSnapshotPath(this.o.underlying, filter);
    const fetched = new Set<string>([pathQuery]);
    const pages: Record<string, unknown>[] = [];
    let started_us: number | undefined;
    for (let page = 0; page < this.o.pageCap; page++) {
      const r = await this.fetchPage(pathQuery, snapshot, page, signal);
      if (r.kind === 'aborted' || r.kind === 'auth' || r.kind === 'failed') return r;
      started_us ??= r.first_req_us;
      let stop: CompletedSnapshot['stop'] | undefined;
      if (r.next === null) stop = 'end';
      else if (fetched.has(r.next.cursorId)) {
        stop = 'loop';
        this.stats.loops++;
        this.o.log(`chain: next_url of snapshot ${snapshot} page ${page} repeats a cursor already fetched (Massive bug #289) — snapshot ends here`);
      } else if (page + 1 >= this.o.pageCap) {
        stop = 'cap';
        this.stats.capped++;
        this.o.log(`chain: snapshot ${snapshot} reached the page cap (${this.o.pageCap}) — snapshot ends here; narrow the band or raise --page-cap`);
      }
      this.o.emit(chainLine({ recv_us: r.recv_us, req_us: r.req_us, snapshot, page, last: stop !== undefined, url: r.url, status: 200 }, r.body), r.recv_us);
      this.stats.pages++;
      pages.push(r.json);
      if (stop !== undefined) {
        return { kind: 'done', snap: { snapshot, filter, pages, started_us, finished_us: r.recv_us, stop } };
      }
      fetched.add(r.next!.cursorId);
      pathQuery = r.next!.pathQuery;
    }
    throw new Error('unreachable: the page loop always stops at the cap');
  }

  /**
   * One page, asked again (same path + query, so the same cursor) after a retryable failure, up to
   * `pageRetries` times with backoff. Each failure opens a chain gap, closed when the retry starts.
   */
  private async fetchPage(
    pathQuery: string,
    snapshot: number,
    page: number,
    signal: AbortSignal,
  ): Promise<(Extract<ChainFetch, { kind: 'page' }> & { first_req_us: number }) | GaveUp | Stopped> {
    const retries = this.o.pageRetries ?? DEFAULT_PAGE_RETRIES;
    let first_req_us: number | undefined;
    for (let tries = 0; ; ) {
      let r: ChainFetch;
      this.stats.requests++;
      try {
        r = await fetchChainPage({
          baseUrl: this.o.restUrl,
          pathQuery,
          apiKey: this.o.apiKey,
          now: this.o.now,
          redact: this.o.redact,
          timeoutMs: this.o.requestTimeoutMs,
          retryAfterCapMs: this.o.retryAfterCapMs,
          signal,
        });
      } catch (err) {
        if (signal.aborted) return { kind: 'aborted' };
        throw err;
      }
      first_req_us ??= r.req_us;
      if (r.kind === 'auth') return r;
      if (r.kind === 'page') return { ...r, first_req_us };
      this.noteFailure(r);
      if (++tries > retries) return { kind: 'failed', failure: r, snapshot, page, tries };
      const { delay, why } = this.retryDelay(r, tries - 1);
      this.o.log(this.o.redact(`chain: ${describeFailure(r)} on snapshot ${snapshot} page ${page} — retrying the page in ${(delay / 1000).toFixed(1)} s${why} (retry ${tries} of ${retries})`));
      await sleep(delay, signal);
      if (signal.aborted) return { kind: 'aborted' };
      this.closeGap(this.o.now());
    }
  }

  /** Counts a failed request and opens the chain gap it starts (unless one is open already). */
  private noteFailure(f: Retryable): void {
    this.stats.failed++;
    this.openGap ??= { from_us: f.req_us, reason: f.reason };
    const { what, why } = summarizeFailure(f, this.o.requestTimeoutMs);
    const key = `${what}\n${why ?? ''}`;
    const seen = this.stats.failures.get(key);
    if (seen) seen.count++;
    else this.stats.failures.set(key, { what, why, count: 1 });
  }

  /** Delay before retry number `attempt` (0-based): `Retry-After` when the server sent one, else the backoff. */
  private retryDelay(f: Retryable, attempt: number): { delay: number; why: string } {
    if (f.kind === 'http' && f.retryAfterMs !== undefined) return { delay: f.retryAfterMs, why: ', as Retry-After asks' };
    return { delay: backoffDelay(attempt, this.o.backoff, this.o.random), why: '' };
  }

  /** Writes the gap opened by failures, ending at `to_us` (the next attempt, or shutdown). */
  private closeGap(to_us: number): void {
    const g = this.openGap;
    if (!g) return;
    this.openGap = undefined;
    this.stats.gaps++;
    this.o.emit(gapLine(to_us, { stream: 'chain', from_us: g.from_us, to_us, reason: g.reason }), to_us);
  }

  private authError(f: Failure & { kind: 'auth' }): RuntimeError {
    const what = f.status === 401 ? 'rejected the API key' : 'refused the request (not entitled, or the key is not valid for this data)';
    return new RuntimeError(
      this.o.redact(`Massive REST ${what}: HTTP ${f.status} ${f.detail} — check MASSIVE_API_KEY (or --api-key) and your plan's options entitlement`),
    );
  }
}

/**
 * What a failed request amounts to, for the end-of-session report: `refused the connection`
 * (`ECONNREFUSED`), `answered HTTP 503`, … — failures with the same pair are counted together.
 */
export function summarizeFailure(f: Retryable, timeoutMs: number): { what: string; why: string | undefined } {
  if (f.kind === 'http') return f.status === 200 ? { what: 'answered with a body that is not JSON', why: 'HTTP 200' } : { what: `answered HTTP ${f.status}`, why: undefined };
  // Node's fetch never connects to ports such as 9 or 6000 (the fetch spec's "bad ports").
  if (/\bbad port\b/.test(f.detail)) return { what: "was blocked by Node's fetch", why: 'the port is on its bad-port list — use another port' };
  switch (f.code) {
    case 'ECONNREFUSED':
      return { what: 'refused the connection', why: f.code };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { what: 'could not be resolved', why: f.code };
    case 'timeout':
      return { what: 'did not answer', why: `no complete answer within ${timeoutMs} ms` };
    case undefined:
      return { what: 'failed at the network level', why: f.detail };
    default:
      return { what: 'failed at the network level', why: f.code };
  }
}

function describeFailure(f: Retryable): string {
  if (f.kind === 'network') return `network failure (${f.detail})`;
  if (f.kind === 'http' && f.status === 200) return `HTTP 200 with a non-JSON body (${f.detail})`;
  return `HTTP ${f.status} ${f.detail}`;
}
