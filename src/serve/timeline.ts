/**
 * The replay clock of `heatmap serve`: one pass over the recording in replay order (DESIGN §4),
 * streamed from disk, releasing each line at its receive time × `speed` on the wall clock.
 *
 * Pre-roll: the chain pages up to the first complete chain snapshot are applied at once, so a
 * client that asks for the chain right away gets what Massive would give it (a full snapshot).
 * - Without `hold`, every line up to that snapshot is released at once (WS frames before it reach
 *   no client: none can have subscribed yet) and pacing starts from there.
 * - With `hold`, the pre-roll reads only the chain pages; once the hold is released, the clock
 *   starts at the recording's first line and every WS frame is played at its pace, those recorded
 *   before the first complete snapshot included (the pre-roll's pages are not applied twice). The
 *   chain served meanwhile is that first snapshot, ahead of the clock by the pre-roll's length.
 */
import { sleep } from '../massive/backoff.js';
import type { WsCluster } from '../massive/ws.js';
import type { StreamName } from '../recording/lines.js';
import { newReadReport, readRecording } from '../recording/reader.js';
import { rawMember } from './raw-json.js';

export interface TimelineOptions {
  readonly dir: string;
  /** Receive time runs this many times faster than the wall clock. */
  readonly speed: number;
  /** Release lines at once until the first complete chain snapshot (default true; false for recordings without a chain). */
  readonly preroll?: boolean;
  /**
   * Wait for this before pacing starts; absent: start at once. With it, pacing starts at the
   * recording's first line (see the pre-roll above).
   */
  readonly hold?: Promise<void>;
  readonly signal: AbortSignal;
  /** A recorded chain page (status 200 only), in order. Returns true when it completed a snapshot. */
  readonly onChainPage: (snapshot: number, page: number, last: boolean, body: string, recv_us: number) => boolean;
  readonly onFrame: (cluster: WsCluster, rawFrame: string, recv_us: number) => void;
  /** Called once, when the pre-roll is over (first complete snapshot, or the end of the recording). */
  readonly onPrerolled?: () => void;
}

export interface TimelinePass {
  readonly lines: number;
  readonly frames: number;
  readonly pages: number;
  readonly first_us: number | undefined;
  readonly last_us: number | undefined;
  /** Truncated files met on the way (the rest was served). */
  readonly cuts: readonly { file: string; reason: string }[];
}

const CLUSTER_OF: Partial<Record<StreamName, WsCluster>> = { options: 'options', indices: 'indices', stocks: 'stocks' };

/** Plays the recording once. Resolves at its end (or when `signal` aborts). */
export async function playTimeline(o: TimelineOptions): Promise<TimelinePass> {
  const report = newReadReport();
  let lines = 0;
  let frames = 0;
  let pages = 0;
  let first: number | undefined;
  let last: number | undefined;
  let anchor: { wallMs: number; recvUs: number } | undefined;
  let isPaced = o.preroll === false;
  /** Chain lines the held pre-roll already applied: the paced pass skips that many. */
  let skipChain = 0;
  if (!isPaced && o.hold) {
    // Held: apply the chain pages up to the first complete snapshot, then play everything from the first line.
    for await (const line of readRecording(o.dir, {}, newReadReport())) {
      if (o.signal.aborted) break;
      if (line.stream !== 'chain') continue;
      skipChain++;
      lines++;
      const page = chainPageOf(line.text);
      if (page) pages++;
      if (page && o.onChainPage(page.snapshot, page.page, page.last, page.body, line.recv_us)) break;
    }
    isPaced = true;
  }
  if (isPaced) o.onPrerolled?.();
  for await (const line of readRecording(o.dir, {}, report)) {
    if (o.signal.aborted) break;
    first ??= line.recv_us;
    last = line.recv_us;
    if (isPaced) {
      if (!anchor) {
        if (o.hold) await Promise.race([o.hold, new Promise((r) => o.signal.addEventListener('abort', r, { once: true }))]);
        anchor = { wallMs: performance.now(), recvUs: line.recv_us };
      }
      const due = anchor.wallMs + (line.recv_us - anchor.recvUs) / 1000 / o.speed;
      await sleep(due - performance.now(), o.signal);
      if (o.signal.aborted) break;
    }
    if (line.stream === 'chain' && skipChain > 0) {
      skipChain--;
      continue;
    }
    lines++;
    if (line.stream === 'chain') {
      const page = chainPageOf(line.text);
      if (page && o.onChainPage(page.snapshot, page.page, page.last, page.body, line.recv_us) && !isPaced) {
        isPaced = true;
        o.onPrerolled?.();
      }
      if (page) pages++;
      continue;
    }
    const cluster = CLUSTER_OF[line.stream];
    const frame = cluster ? rawMember(line.text, 'frame') : undefined;
    if (cluster && frame !== undefined) {
      frames++;
      o.onFrame(cluster, frame, line.recv_us);
    }
  }
  if (!isPaced) o.onPrerolled?.(); // no complete snapshot at all: stop holding requests back
  return { lines, frames, pages, first_us: first, last_us: last, cuts: report.cuts };
}

/** The envelope of a chain line, without parsing its body; undefined for gaps and non-200 pages. */
function chainPageOf(text: string): { snapshot: number; page: number; last: boolean; body: string } | undefined {
  const body = rawMember(text, 'body');
  const status = rawMember(text, 'status');
  if (body === undefined || (status !== undefined && status !== '200')) return undefined;
  const snapshot = Number(rawMember(text, 'snapshot'));
  const page = Number(rawMember(text, 'page'));
  const last = rawMember(text, 'last');
  if (!Number.isSafeInteger(snapshot) || !Number.isSafeInteger(page) || (last !== 'true' && last !== 'false')) return undefined;
  return { snapshot, page, last: last === 'true', body };
}
