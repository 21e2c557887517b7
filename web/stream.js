/**
 * One strategy's live stream: an `EventSource` on `/sse/heatmap/{strategy}` folded into a
 * StrategyFold (fold.js). What it takes care of:
 *
 * - Resumption. Every diff carries `id:` = its version, so after a dropped connection the
 *   browser's own reconnect sends `Last-Event-ID` = the version held and the server answers with
 *   exactly the missed diffs (or a snapshot when they are no longer retained). A stream the page
 *   (re)opens itself — switching back to a strategy, after a failed connection — asks for the
 *   same with `?last_event_id=`.
 * - Order. A diff that does not follow the version held (never expected) is not folded: the
 *   stream reopens from the version it holds and the resync is counted. A diff whose `prev_hash`
 *   is not the hash held belongs to another run (a server restarted past our version): the stream
 *   starts over from a snapshot.
 * - `event: end` (the server is closing): the stream closes instead of letting EventSource retry
 *   against a server that is gone, then probes `/health` every few seconds and reopens when a
 *   server answers again (a new run starts over with a snapshot).
 * - Failures the browser does not retry (an HTTP error status): reopened with a backoff.
 *
 * It never touches the DOM: `on.change()` says the fold moved, `on.notice(kind, data)` reports
 * gaps, failures, ends and resyncs, `on.state()` connection changes. The page renders once per
 * animation frame, whatever the number of events in between.
 */
import { StrategyFold } from './fold.js';

/** Longest wait between reopen attempts, and the /health probe interval after an end. */
const MAX_BACKOFF_MS = 30_000;
const PROBE_MS = 5000;
/** Entries kept in the applied-versions log (for the status line and the tests). */
const LOG_LIMIT = 20_000;

export class StrategyStream {
  constructor(name, url, on) {
    this.name = name;
    this.url = url;
    this.on = on;
    this.fold = new StrategyFold(name);
    /** idle (not subscribed) · connecting · live · reconnecting · ended (the server said end). */
    this.state = 'idle';
    this.opens = 0;
    this.errors = 0;
    this.snapshots = 0;
    this.diffs = 0;
    this.resyncs = 0;
    /** `[kind, version]` of every snapshot and diff folded, in order. */
    this.log = [];
    /** performance.now() of the last snapshot or diff. */
    this.lastEventMs = undefined;
    this.es = undefined;
    this.timer = undefined;
    this.backoffMs = 1000;
  }

  /** Subscribes (again): resumes from the version held, if any (`resume` false: from a snapshot). */
  open({ resume = true } = {}) {
    this.stop();
    const u = new URL(this.url);
    if (resume && this.fold.hasState) u.searchParams.set('last_event_id', String(this.fold.version));
    const es = new EventSource(u);
    this.es = es;
    this.setState(this.opens > 0 ? 'reconnecting' : 'connecting');
    es.onopen = () => {
      this.opens++;
      this.backoffMs = 1000;
      this.setState('live');
    };
    es.onerror = () => {
      if (this.es !== es) return;
      this.errors++;
      if (es.readyState !== EventSource.CLOSED) return this.setState('reconnecting'); // the browser retries, with Last-Event-ID
      this.stop();
      this.setState('reconnecting');
      this.timer = setTimeout(() => this.open(), this.backoffMs);
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    };
    // events of a source this stream has since replaced (already received in the same chunk) are dropped
    const on = (event, handle) => es.addEventListener(event, (e) => this.es === es && handle(e.data));
    on('snapshot', (data) => this.onSnapshot(data));
    on('diff', (data) => this.onDiff(data));
    on('gap', (data) => this.notice('gap', data));
    on('failed', (data) => this.notice('failed', data));
    on('end', (data) => {
      this.stop();
      this.setState('ended');
      this.notice('end', data);
      this.timer = setTimeout(() => this.probe(), PROBE_MS);
    });
  }

  /** Unsubscribes (the fold is kept, to resume later). */
  close() {
    this.stop();
    this.setState('idle');
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.es?.close();
    this.es = undefined;
  }

  async probe() {
    try {
      const res = await fetch(new URL('../../health', this.url), { cache: 'no-store' });
      // whatever serves this URL next is another run: its versions are not ours to resume from
      if (res.ok && this.state === 'ended') return this.open({ resume: false });
    } catch {
      // still down
    }
    if (this.state === 'ended') this.timer = setTimeout(() => this.probe(), PROBE_MS);
  }

  onSnapshot(data) {
    const msg = this.parse(data);
    if (msg === undefined) return;
    this.fold.snapshot(msg);
    this.snapshots++;
    this.record('snapshot', msg.version);
  }

  onDiff(data) {
    const msg = this.parse(data);
    if (msg === undefined) return;
    const r = this.fold.diff(msg);
    if (r === 'gap' || r === 'foreign') {
      this.resyncs++;
      this.notice('resync', JSON.stringify({ strategy: this.name, held: this.fold.version, got: msg.version, why: r }));
      return this.open({ resume: r === 'gap' }); // another run's history: start over from its snapshot
    }
    if (r !== 'applied') return;
    this.diffs++;
    this.record('diff', msg.version);
  }

  record(kind, version) {
    this.log.push([kind, version]);
    if (this.log.length > LOG_LIMIT) this.log.splice(0, this.log.length - LOG_LIMIT / 2);
    this.lastEventMs = performance.now();
    this.on.change(this);
  }

  parse(data) {
    try {
      return JSON.parse(data);
    } catch {
      this.notice('error', JSON.stringify({ strategy: this.name, message: 'unreadable event data' }));
      return undefined;
    }
  }

  notice(kind, data) {
    this.on.notice(kind, data, this);
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.on.state(this);
  }
}
