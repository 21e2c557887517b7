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
 *   failed request to the next attempt), a backoff (honouring `Retry-After`), and on we go.
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
}

type Failure = Exclude<ChainFetch, { kind: 'page' }>;
type Retryable = Extract<ChainFetch, { kind: 'http' | 'network' }>;

export class ChainPoller {
  readonly stats: ChainPollerStats = { snapshots: 0, failed: 0, pages: 0, gaps: 0, loops: 0, capped: 0, lastMs: undefined, lastPages: 0 };
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
        const f = outcome.failure;
        this.stats.failed++;
        this.openGap ??= { from_us: f.req_us, reason: f.reason };
        const delay = f.kind === 'http' && f.retryAfterMs !== undefined ? f.retryAfterMs : backoffDelay(failures, this.o.backoff, this.o.random);
        const why = f.kind === 'http' && f.retryAfterMs !== undefined ? ' (Retry-After)' : '';
        failures++;
        this.o.log(this.o.redact(`chain: ${describeFailure(f)} on snapshot ${outcome.snapshot} page ${outcome.page} — retrying in ${(delay / 1000).toFixed(1)} s${why}`));
        await sleep(delay, signal);
      }
    } finally {
      this.closeGap(this.o.now());
    }
  }

  private async takeSnapshot(
    signal: AbortSignal,
  ): Promise<{ kind: 'done'; snap: CompletedSnapshot } | { kind: 'failed'; failure: Retryable; snapshot: number; page: number } | (Failure & { kind: 'auth' }) | { kind: 'aborted' }> {
    const snapshot = this.nextSnapshot++;
    const filter = this.o.filter();
    let pathQuery = chainSnapshotPath(this.o.underlying, filter);
    const fetched = new Set<string>([pathQuery]);
    const pages: Record<string, unknown>[] = [];
    let started_us: number | undefined;
    for (let page = 0; page < this.o.pageCap; page++) {
      let r: ChainFetch;
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
      started_us ??= r.req_us;
      if (r.kind === 'auth') return r;
      if (r.kind !== 'page') return { kind: 'failed', failure: r, snapshot, page };
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

function describeFailure(f: Retryable): string {
  if (f.kind === 'network') return `network failure (${f.detail})`;
  if (f.kind === 'http' && f.status === 200) return `HTTP 200 with a non-JSON body (${f.detail})`;
  return `HTTP ${f.status} ${f.detail}`;
}
