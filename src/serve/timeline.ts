/**
 * The replay clock of `heatmap serve`: one pass over the recording in replay order (DESIGN §4),
 * streamed from disk, releasing each line at its receive time × `speed` on the wall clock.
 *
 * Pre-roll: lines up to the first complete chain snapshot are released at once, so a client that
 * asks for the chain right away gets what Massive would give it (a full snapshot), and pacing
 * starts from there. With `hold`, pacing waits for the first client instead.
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
  /** Wait for this before pacing starts (after the pre-roll); absent: start at once. */
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
