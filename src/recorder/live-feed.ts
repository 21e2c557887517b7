import type { Engine } from '../engine/engine.js';
import type { EngineOutput } from '../engine/types.js';
import type { LineDecoder } from '../replay/decode.js';
import type { RawLine } from '../recording/reader.js';
import { STREAM_NAMES, type StreamName } from '../recording/lines.js';

/**
 * Drives the engine from a live recorder (`heatmap live`) so that it publishes exactly what a
 * replay of the session's recording publishes (DESIGN §2.1):
 *
 * - **Same order.** A replay orders lines by receive time, ties by stream name, then line order.
 *   Live lines arrive in receive order, but two streams can stamp the same µs, and a line can be
 *   delivered a moment after it was stamped (a REST page is stamped when its body is complete,
 *   then goes through a promise hop). So lines wait in a small reorder window (default 10 ms of
 *   receive time) and leave it in replay order. That is the only latency this adds.
 * - **Same ticks.** The engine clock follows the wall clock: at every tick boundary the engine is
 *   advanced to the window's edge (`now − window`), which runs the ticks a replay would run before
 *   the next input. No line can arrive behind that edge unless it was delivered more than the
 *   window after it was stamped — counted as `late` (the replay may then differ), never hidden.
 *
 * When the session stops, the held lines are pushed and the clock stops with them; versions that
 * ticks published after the last recorded line have no input in the recording to reproduce them
 * (a replay "stops at its last input's time", DESIGN §2.5).
 */

/**
 * Where a LiveFeed's lines go: `push` one line (it decodes it), `advanceTo` the clock; `now` is the
 * clock a late line is judged against. The worker pipelines of `heatmap live` are one.
 */
export interface LiveTarget {
  readonly now: number | undefined;
  push(line: RawLine): void;
  advanceTo(us: number): void;
}

/** What a LiveFeed drives and with which clock: a `target`, or an engine in this thread with its decoder. */
export interface LiveFeedOptions {
  readonly target?: LiveTarget;
  readonly engine?: Engine;
  readonly decoder?: LineDecoder;
  readonly emit?: (out: EngineOutput) => void;
  /** The recorder's receive clock (µs, monotonic): the same function the recorder stamps with. */
  readonly now: () => number;
  readonly tickMs: number;
  /** Reorder window (ms of receive time); default 10. */
  readonly windowMs?: number;
}

interface Held {
  readonly stream: StreamName;
  readonly rank: number;
  readonly seq: number;
  readonly recv_us: number;
  readonly text: string;
}

const RANK = new Map<string, number>(STREAM_NAMES.map((s, i) => [s, i]));

/** The live engine driver (see the module comment); `onLine` is the recorder's callback. */
export class LiveFeed {
  /** Lines pushed into the engine so far. */
  lines = 0;
  /** Lines that arrived behind the engine clock (stamped, then delivered too late to be reordered). */
  late = 0;
  first_us: number | undefined;
  last_us: number | undefined;
  private held: Held[] = [];
  private seq = 0;
  private readonly lineNo = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly windowUs: number;
  private readonly tickUs: number;
  private isStopped = false;

  private readonly target: LiveTarget;

  constructor(private readonly o: LiveFeedOptions) {
    this.windowUs = (o.windowMs ?? 10) * 1000;
    this.tickUs = o.tickMs * 1000;
    this.target = o.target ?? engineTarget(o);
  }

  /** Starts the tick schedule. */
  start(): void {
    this.schedule();
  }

  /** The recorder's `onLine`: one recorded line, in receive order. */
  readonly onLine = (stream: StreamName, text: string, recv_us: number): void => {
    if (this.isStopped) return;
    const h: Held = { stream, rank: RANK.get(stream) ?? STREAM_NAMES.length, seq: this.seq++, recv_us, text };
    // Lines come almost sorted: insert from the back (stable for equal keys).
    let i = this.held.length;
    while (i > 0 && isAfter(this.held[i - 1]!, h)) i--;
    this.held.splice(i, 0, h);
    if (this.held.length === 1) this.schedule();
  };

  /** Pushes every held line and stops the clock (the session is over). */
  stop(): void {
    if (this.isStopped) return;
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.release(Infinity);
  }

  /** Pushes the lines at or before `horizon` (µs) into the engine, in replay order. */
  private release(horizon: number): void {
    let n = 0;
    while (n < this.held.length && this.held[n]!.recv_us <= horizon) n++;
    if (n === 0) return;
    const out = this.held.splice(0, n);
    for (const h of out) this.push(h);
  }

  private push(h: Held): void {
    const t = this.target;
    if (t.now !== undefined && h.recv_us < t.now) this.late++;
    const line_no = (this.lineNo.get(h.stream) ?? 0) + 1;
    this.lineNo.set(h.stream, line_no);
    this.lines++;
    this.first_us ??= h.recv_us;
    this.last_us = h.recv_us;
    t.push({ stream: h.stream, file: `live:${h.stream}`, line_no, recv_us: h.recv_us, text: h.text });
  }

  /**
   * Releases what the window allows at `now()` and advances the engine clock to the window's edge
   * (`now − window`). The timer calls it at tick boundaries and when held lines leave the window;
   * calling it more often changes nothing (ticks at which no publisher can fire are skipped).
   */
  advance(): void {
    if (this.isStopped) return;
    const edge = this.o.now() - this.windowUs;
    this.release(edge);
    this.target.advanceTo(edge);
  }

  private pump(): void {
    this.timer = undefined;
    this.advance();
    this.schedule();
  }

  /** Arms the timer for the earlier of: the oldest held line leaving the window, the next tick. */
  private schedule(): void {
    if (this.isStopped) return;
    const now = this.o.now();
    const edge = now - this.windowUs;
    let due = (Math.floor(edge / this.tickUs) + 1) * this.tickUs; // next tick boundary, in edge time
    const oldest = this.held[0];
    if (oldest !== undefined) due = Math.min(due, oldest.recv_us);
    const delayMs = Math.max(0, (due - edge) / 1000) + 1; // +1: timers may fire a hair early
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), delayMs);
  }
}

function isAfter(a: Held, b: Held): boolean {
  if (a.recv_us !== b.recv_us) return a.recv_us > b.recv_us;
  if (a.rank !== b.rank) return a.rank > b.rank;
  return a.seq > b.seq;
}

/** An engine in this thread as a live target. */
function engineTarget(o: LiveFeedOptions): LiveTarget {
  const { engine, decoder, emit } = o;
  if (!engine || !decoder || !emit) throw new Error('LiveFeed needs a target, or an engine with its decoder and emit');
  return {
    get now() {
      return engine.now;
    },
    push(line) {
      const input = decoder.decode(line);
      if (input) engine.push(input, emit);
    },
    advanceTo(us) {
      engine.advanceTo(us, emit);
    },
  };
}
