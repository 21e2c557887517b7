/**
 * Entry IDs of `massive:raw` (DESIGN §6): strictly increasing in replay order and derived from the
 * lines alone, so that feeding the same recording twice produces the same IDs (and the second feed
 * adds nothing).
 *
 * A Redis stream ID is `<ms>-<seq>` with two unsigned 64-bit parts; Redis puts no meaning in them
 * when they are given explicitly. We put the line's `recv_us` in the first part (a receive time in
 * µs: it sorts the same way) and number the lines that share it from 0 in the second. A line whose
 * `recv_us` is below the previous one (replay order never does that, but a live line delivered late
 * can) takes the previous time with the next number, so IDs never go back.
 */
export class RawIdAssigner {
  private lastUs = -1;
  private seq = 0;

  /** The ID of the next line in replay order. */
  next(recv_us: number): string {
    if (recv_us > this.lastUs) {
      this.lastUs = recv_us;
      this.seq = 0;
    } else {
      this.seq++;
    }
    return `${this.lastUs}-${this.seq}`;
  }
}

/** A stream entry ID as two integers (IDs we write fit a double exactly: µs times and counters). */
export interface EntryId {
  readonly ms: number;
  readonly seq: number;
}

/** Parses `<ms>-<seq>`; undefined for anything else. */
export function parseEntryId(id: string): EntryId | undefined {
  const m = /^(\d{1,16})-(\d{1,16})$/.exec(id);
  if (!m) return undefined;
  return { ms: Number(m[1]), seq: Number(m[2]) };
}

/** Orders two entry IDs (negative when a < b). */
export function compareIds(a: EntryId, b: EntryId): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}
