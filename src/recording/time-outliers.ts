import type { Tally } from '../engine/tally.js';
import type { RawLine } from './reader.js';

/**
 * Receive-time outliers (ARCHITECTURE.md, "Receive-time outliers"). Every stream of a recording is
 * written by one monotonic clock, so its `recv_us` never decreases. A line whose `recv_us` does not
 * fit — a flipped byte, a bad clock, a line from another session — must cost that line only: the
 * k-way merge takes each stream's head as the truth, so one line a year ahead would otherwise let
 * every other stream drain first and leave the rest of its own stream "in the past".
 *
 * The rule, per stream, deterministic (a function of the stream's lines alone):
 * - **behind**: a line earlier than the last accepted line of its stream is dropped
 *   (`recv_us_behind`);
 * - **ahead**: a line is held until the next {@link WINDOW} lines of its stream have been read; it
 *   is dropped (`recv_us_ahead`) when at least two of them are earlier than it (one, when only one
 *   line follows). A run of up to WINDOW − 1 lines ahead is dropped whole; one line behind among
 *   normal lines is dropped alone (it is earlier than only the lines before it).
 * - **last lines**: a line with no line after it in its stream is dropped (`recv_us_ahead`) when
 *   it lies more than {@link MAX_UNCONFIRMED_JUMP_US} after the last accepted line: nothing
 *   confirms such a jump.
 * A recording without outliers passes unchanged; memory is WINDOW lines per stream.
 */
export const WINDOW = 8;
/** One hour: a final line this far after its stream's previous line is not believed. */
export const MAX_UNCONFIRMED_JUMP_US = 3_600_000_000;

/** The rule above, one line at a time: accepted lines are appended to `out`. */
class OutlierFilter {
  private readonly held: RawLine[] = [];
  private floor = -Infinity;

  constructor(private readonly bad: Tally) {}

  push(line: RawLine, out: RawLine[]): void {
    if (line.recv_us < this.floor) {
      this.bad.add('recv_us_behind', `${line.file}:${line.line_no}`);
      return;
    }
    this.held.push(line);
    if (this.held.length > WINDOW) {
      const ok = this.decide();
      if (ok) out.push(ok);
      // lines held behind a newly raised floor are dips now
      this.dropBehind();
    }
  }

  /** The end of the stream: decides the lines still held. */
  finish(out: RawLine[]): void {
    while (this.held.length > 0) {
      const ok = this.decide();
      if (ok) out.push(ok);
      this.dropBehind();
    }
  }

  /** Decides the first held line: accepted (returned) or dropped (undefined). */
  private decide(): RawLine | undefined {
    const held = this.held;
    const head = held.shift()!;
    let earlier = 0;
    for (const l of held) if (l.recv_us < head.recv_us) earlier++;
    const isAhead = held.length === 0 ? head.recv_us - this.floor > MAX_UNCONFIRMED_JUMP_US && this.floor !== -Infinity : earlier >= Math.min(2, held.length);
    if (isAhead) {
      this.bad.add('recv_us_ahead', `${head.file}:${head.line_no}`);
      return undefined;
    }
    this.floor = head.recv_us;
    return head;
  }

  private dropBehind(): void {
    const held = this.held;
    for (let i = 0; i < held.length; ) {
      if (held[i]!.recv_us < this.floor) {
        this.bad.add('recv_us_behind', `${held[i]!.file}:${held[i]!.line_no}`);
        held.splice(i, 1);
      } else i++;
    }
  }
}

/** The lines of one stream without its receive-time outliers (see the module comment). */
export async function* dropTimeOutliers(lines: AsyncIterable<RawLine>, bad: Tally): AsyncGenerator<RawLine> {
  const filter = new OutlierFilter(bad);
  const out: RawLine[] = [];
  for await (const line of lines) {
    filter.push(line, out);
    if (out.length > 0) {
      yield* out;
      out.length = 0;
    }
  }
  filter.finish(out);
  yield* out;
}

/**
 * {@link dropTimeOutliers} over batches of lines (the reader's unit): the same lines kept, one
 * batch out per batch in (empty batches are not passed on).
 */
export async function* dropTimeOutlierBatches(batches: AsyncIterable<readonly RawLine[]>, bad: Tally): AsyncGenerator<RawLine[]> {
  const filter = new OutlierFilter(bad);
  for await (const batch of batches) {
    const out: RawLine[] = [];
    for (let i = 0; i < batch.length; i++) filter.push(batch[i]!, out);
    if (out.length > 0) yield out;
  }
  const out: RawLine[] = [];
  filter.finish(out);
  if (out.length > 0) yield out;
}
