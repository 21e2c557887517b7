import { promises as fsp, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../errors.js';
import { Tally } from '../engine/tally.js';
import { readFileChunks, type ChunkEnd } from './file-chunks.js';
import { STREAM_NAMES, type StreamName } from './lines.js';
import { MANIFEST_FILE, readManifest } from './manifest.js';
import { mergeStreamBatches } from './merge.js';
import { dropTimeOutlierBatches } from './time-outliers.js';

export { mergeStreams } from './merge.js';

/**
 * Reads recording directories (DESIGN §4): discovers the stream files, streams their lines with
 * constant memory, tolerates a cut tail (reported, never thrown), and merges the streams into
 * replay order. Lines are not JSON-parsed here — only their `recv_us` prefix is read — full
 * decoding happens later, in the decoder.
 */

/** One line of a recording, as read from disk (not yet decoded). */
export interface RawLine {
  readonly stream: StreamName;
  /** File name inside the recording directory (not a path: paths are run-specific). */
  readonly file: string;
  /** 1-based physical line number in `file` (empty lines count). */
  readonly line_no: number;
  readonly recv_us: number;
  /** The line without its newline. */
  readonly text: string;
}

/** What reading found wrong: skipped lines by reason, and files whose tail was cut or damaged. */
export interface ReadReport {
  /** `no_recv_us` / `bad_json` / `line_too_long` (and the time outliers), details `file:line`. */
  readonly bad: Tally;
  /**
   * At most one entry per file: which file, and why its data stopped early (truncated, torn,
   * corrupt) or what was wrong without losing lines (CRC mismatch, trailing garbage).
   */
  readonly cuts: { file: string; reason: string }[];
  /** What the reader did about the recording's layout without losing anything (stderr only). */
  readonly notes: string[];
}

/** Longest line kept by default (bytes, without the newline); see {@link ReaderOptions}. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** How lines are read. */
export interface ReaderOptions {
  /**
   * A line longer than this many UTF-8 bytes (without its newline) is skipped and counted as
   * `line_too_long`: once it passes the limit, its text is dropped and the rest of it is only
   * counted up to its newline, so no more than the limit is ever held. Default
   * {@link DEFAULT_MAX_LINE_BYTES}: far above any real line, far below what one JavaScript string
   * can hold (~512 MiB, beyond which a read would die with "Invalid string length").
   */
  maxLineBytes?: number;
}

/** A fresh, empty report. */
export function newReadReport(): ReadReport {
  return { bad: new Tally(), cuts: [], notes: [] };
}

/** Stream files: `<stream>.ndjson[.gz]` or split `<stream>.<digits>.ndjson[.gz]`. Group 1 = stream. */
export const STREAM_FILE_RE = new RegExp(`^(${STREAM_NAMES.join('|')})(?:\\.\\d+)?\\.ndjson(?:\\.gz)?$`);

/** The files of a recording directory: stream files by stream (name order), and everything else. */
export interface RecordingFiles {
  readonly streams: Map<StreamName, string[]>;
  /** Entries that are neither `manifest.json` nor a stream file (name order), e.g. for `inspect`. */
  readonly other: string[];
}

/**
 * Lists a recording's files. The directory is the truth (the manifest's file list is informative):
 * streams appear in STREAM_NAMES order, each with its files in name order (`options.0001…` before
 * `options.0002…`); streams without files are absent.
 * @throws InputError when the directory cannot be listed, or when an entry named like a stream
 * file is not a regular file (a directory, socket, …); symlinks to regular files are accepted.
 */
export async function listRecordingFiles(dir: string): Promise<RecordingFiles> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new InputError(`cannot list recording ${dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const byStream = new Map<StreamName, string[]>();
  const other: string[] = [];
  for (const e of entries) {
    const m = STREAM_FILE_RE.exec(e.name);
    if (m) {
      if (!e.isFile()) await assertStreamFile(dir, e);
      const stream = m[1] as StreamName;
      const list = byStream.get(stream) ?? [];
      list.push(e.name);
      byStream.set(stream, list);
    } else if (e.name !== MANIFEST_FILE) {
      other.push(e.name);
    }
  }
  const streams = new Map<StreamName, string[]>();
  for (const s of STREAM_NAMES) {
    const list = byStream.get(s);
    if (list) streams.set(s, list.sort());
  }
  return { streams, other: other.sort() };
}

/**
 * A name that matches the stream-file pattern must be a regular file (or a symlink to one): a
 * directory, socket, FIFO or device there is an InputError — skipping it would replay part of the
 * recording as if it were all of it. A broken symlink is left to the read, which names the cause.
 */
async function assertStreamFile(dir: string, e: Dirent): Promise<void> {
  let st: Stats;
  try {
    st = await fsp.stat(path.join(dir, e.name));
  } catch {
    return;
  }
  if (st.isFile()) return;
  const kind = st.isDirectory()
    ? 'a directory'
    : st.isSocket()
      ? 'a socket'
      : st.isFIFO()
        ? 'a named pipe (FIFO)'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : 'a special file';
  throw new InputError(`recording ${dir}: ${e.name} is ${kind}, not a stream file`);
}

/** {@link listRecordingFiles} without the unknown files. */
export async function listStreamFiles(dir: string): Promise<Map<StreamName, string[]>> {
  return (await listRecordingFiles(dir)).streams;
}

const PREFIX = '{"recv_us":';

/**
 * The receive time of a line. Fast path: a line starting `{"recv_us":<digits>,` (how every writer
 * emits it) is read without JSON.parse; anything else falls back to JSON.parse. Returns the reason
 * it is unusable instead: `bad_json` (not JSON — only the fallback can tell) or `no_recv_us`
 * (missing, negative, fractional or beyond 2^53).
 */
export function extractRecvUs(text: string): number | 'bad_json' | 'no_recv_us' {
  if (text.startsWith(PREFIX)) {
    const start = PREFIX.length;
    let i = start;
    let v = 0;
    for (; i < text.length && i - start <= 16; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    const digits = i - start;
    const next = text.charCodeAt(i);
    const leadingZero = digits > 1 && text.charCodeAt(start) === 48;
    if (digits > 0 && !leadingZero && (next === 44 || next === 125) && Number.isSafeInteger(v)) return v;
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return 'bad_json';
  }
  if (typeof obj !== 'object' || obj === null) return 'no_recv_us';
  const v = (obj as { recv_us?: unknown }).recv_us;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 'no_recv_us';
}

/**
 * Streams the lines of one stream's files, in the order given. Constant memory (one chunk plus the
 * current line, at most `maxLineBytes`). Empty lines are skipped silently; lines without a usable
 * `recv_us` and lines longer than `maxLineBytes` are counted in `report.bad` and skipped. A
 * truncated or damaged gzip or a torn last line never throws: everything decodable before it is
 * yielded and one entry goes to `report.cuts` (rules: ARCHITECTURE.md, "Around the engine",
 * Recording format).
 * @throws InputError when a file cannot be opened or read.
 */
export async function* readStreamLines(
  dir: string,
  stream: StreamName,
  files: readonly string[],
  report: ReadReport,
  opts: ReaderOptions = {},
): AsyncGenerator<RawLine> {
  for await (const batch of readStreamBatches(dir, stream, files, report, opts)) yield* batch;
}

/**
 * {@link readStreamLines} in batches (about one decoded chunk of a file each): what the merge and
 * the replay loops consume, so that handing lines on costs an await per batch, not per line.
 */
export async function* readStreamBatches(
  dir: string,
  stream: StreamName,
  files: readonly string[],
  report: ReadReport,
  opts: ReaderOptions = {},
): AsyncGenerator<RawLine[]> {
  yield* dropTimeOutlierBatches(readFilesInOrder(dir, stream, files, report, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES), report.bad);
}

async function* readFilesInOrder(dir: string, stream: StreamName, files: readonly string[], report: ReadReport, maxLineBytes: number): AsyncGenerator<RawLine[]> {
  const ordered = files.length > 1 ? await orderSplitFiles(dir, stream, files, report, maxLineBytes) : files;
  for (const file of ordered) yield* readFileLines(dir, stream, file, report, maxLineBytes);
}

/**
 * Split files are read in the order of their first line's `recv_us`, ties (and files without a
 * line) by name. Our writer numbers them in receive order, so this is name order for its
 * recordings; files renamed or copied out of order would otherwise make a whole file "behind" its
 * stream and lose it to the outlier rule. A reorder is noted on stderr.
 */
async function orderSplitFiles(dir: string, stream: StreamName, files: readonly string[], report: ReadReport, maxLineBytes: number): Promise<string[]> {
  const firsts = new Map<string, number>();
  for (const file of files) {
    // A throwaway report: the file is read again, and its bad lines counted then.
    const peek = readFileLines(dir, stream, file, newReadReport(), maxLineBytes);
    try {
      const first = await peek.next(); // batches are never empty
      firsts.set(file, first.done ? Infinity : first.value[0]!.recv_us);
    } finally {
      await peek.return(undefined);
    }
  }
  const ordered = [...files].sort((a, b) => firsts.get(a)! - firsts.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
  if (ordered.some((f, i) => f !== files[i])) {
    report.notes.push(`${stream}: split files read in receive-time order, not name order: ${ordered.join(', ')}`);
  }
  return ordered;
}

/** True when `text` is longer than `max` UTF-8 bytes (cheap unless it is close to `max`). */
function exceeds(text: string, max: number): boolean {
  if (text.length * 3 <= max) return false; // a UTF-16 code unit is at most 3 UTF-8 bytes
  if (text.length > max) return true; // … and at least 1
  return Buffer.byteLength(text) > max;
}

/** The lines of one file, a batch per decoded chunk (never an empty batch). */
async function* readFileLines(dir: string, stream: StreamName, file: string, report: ReadReport, maxLineBytes: number): AsyncGenerator<RawLine[]> {
  const end: ChunkEnd = {};
  const decoder = new StringDecoder('utf8');
  let parts: string[] = []; // the current, unterminated line (dropped once it is too long)
  let partBytes = 0; // its UTF-8 bytes so far (still counted while an overlong line is skipped)
  let skipping = false; // the current line is too long: its bytes are discarded up to its newline
  let lineNo = 0;
  const toLine = (text: string): RawLine | undefined => {
    lineNo++;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.length === 0) return undefined;
    const recv = extractRecvUs(text);
    if (typeof recv === 'number') return { stream, file, line_no: lineNo, recv_us: recv, text };
    report.bad.add(recv, `${file}:${lineNo}`);
    return undefined;
  };
  const tooLong = (): undefined => {
    lineNo++;
    report.bad.add('line_too_long', `${file}:${lineNo}`);
    return undefined;
  };
  /** A line found whole inside one decoded piece. */
  const whole = (text: string): RawLine | undefined => (exceeds(text, maxLineBytes) ? tooLong() : toLine(text));
  /** Adds text without a newline to the current line. */
  const extend = (text: string): void => {
    if (text.length === 0) return;
    partBytes += Buffer.byteLength(text);
    if (skipping) return;
    if (partBytes > maxLineBytes) {
      parts = [];
      skipping = true;
    } else parts.push(text);
  };
  /** Ends the current line with `head`, the text before its newline. */
  const finish = (head: string): RawLine | undefined => {
    const line = skipping || partBytes + Buffer.byteLength(head) > maxLineBytes ? tooLong() : toLine(parts.join('') + head);
    parts = [];
    partBytes = 0;
    skipping = false;
    return line;
  };
  // The next chunk is read (and inflated, on libuv's threads) while this one's lines are used.
  for await (const chunk of readAhead(readFileChunks(path.join(dir, file), file.endsWith('.gz'), end))) {
    const piece = decoder.write(chunk);
    let nl = piece.indexOf('\n');
    if (nl === -1) {
      extend(piece);
      continue;
    }
    const batch: RawLine[] = [];
    let line = partBytes > 0 || skipping ? finish(piece.slice(0, nl)) : whole(piece.slice(0, nl));
    if (line) batch.push(line);
    let start = nl + 1;
    while ((nl = piece.indexOf('\n', start)) !== -1) {
      line = whole(piece.slice(start, nl));
      if (line) batch.push(line);
      start = nl + 1;
    }
    extend(piece.slice(start));
    if (batch.length > 0) yield batch;
  }
  extend(decoder.end());
  let torn = '';
  if (skipping) {
    tooLong(); // an overlong last line without a newline: too long, whether or not it was torn
  } else {
    const tail = parts.join('');
    if (tail.trim().length > 0) {
      // No newline at EOF: keep the line only if it is complete JSON (a writer that omitted the
      // final newline); otherwise it is the torn end of an interrupted write (or of the data
      // inflated before gzip damage).
      let complete = true;
      try {
        JSON.parse(tail);
      } catch {
        complete = false;
      }
      if (complete) {
        const line = toLine(tail);
        if (line) yield [line];
      } else if (end.corrupt) {
        torn = `the ${partBytes} bytes of line ${lineNo + 1} inflated before the damage were dropped`;
      } else {
        torn = `torn last line dropped (${partBytes} bytes without newline)`;
      }
    }
  }
  const reasons = [...(end.warnings ?? [])];
  if (end.corrupt) {
    const { at, unread, why } = end.corrupt;
    const kept = lineNo === 0 ? 'kept no lines' : `kept lines 1..${lineNo}`;
    reasons.push(`gzip data corrupt at compressed byte ${at} (${why}): ${kept}; the rest of the file (${unread} compressed bytes) is unreadable`);
    if (torn !== '') reasons.push(torn);
  } else if (end.cut !== undefined || torn !== '') {
    const cut = [end.cut, torn].filter((r) => r !== undefined && r !== '').join('; ');
    reasons.push(`${cut} — kept everything up to line ${lineNo}`);
  }
  if (reasons.length > 0) report.cuts.push({ file, reason: reasons.join('; ') });
}

/** Receive-time window of {@link readRecording}: `from_us` inclusive, `to_us` exclusive. */
export interface ReadWindow {
  from_us?: number | undefined;
  to_us?: number | undefined;
}

/**
 * All lines of a recording in replay order (by `recv_us`, ties by stream name, then line order),
 * restricted to `[from_us, to_us)`. Stops reading at the first merged line at or after `to_us`
 * (streams are in receive order). Bad lines and cut tails go to `report`.
 * @throws InputError when `dir` is not a readable recording (see readManifest, listRecordingFiles).
 */
export async function* readRecording(dir: string, opts: ReadWindow & ReaderOptions, report: ReadReport): AsyncGenerator<RawLine> {
  for await (const batch of readRecordingBatches(dir, opts, report)) yield* batch;
}

/**
 * {@link readRecording} in batches (up to ~1000 lines, never empty): the same lines in the same
 * order, for loops that would otherwise pay an await per line. Reading stops at the first line at
 * or after `to_us`, as there (a batch may have been read past it, never passed on).
 */
export async function* readRecordingBatches(dir: string, opts: ReadWindow & ReaderOptions, report: ReadReport): AsyncGenerator<RawLine[]> {
  await readManifest(dir);
  const files = await listStreamFiles(dir);
  const sources = [...files].map(([stream, list]) => readStreamBatches(dir, stream, list, report, opts));
  const from = opts.from_us ?? -Infinity;
  const to = opts.to_us ?? Infinity;
  for await (const batch of mergeStreamBatches(sources)) {
    if (from === -Infinity && to === Infinity) {
      yield batch;
      continue;
    }
    const kept: RawLine[] = [];
    let isPastEnd = false;
    for (const line of batch) {
      if (line.recv_us < from) continue;
      if (line.recv_us >= to) {
        isPastEnd = true;
        break;
      }
      kept.push(line);
    }
    if (kept.length > 0) yield kept;
    if (isPastEnd) return;
  }
}

/** Receive-time facts about one stream, from {@link scanRecordingSpan}. */
export interface StreamSpan {
  /** Lines with a usable recv_us. */
  lines: number;
  first_us: number;
  last_us: number;
  /** Lines whose recv_us is lower than the line before (the merge assumes there are none). */
  regressions: number;
}

/** A recording's receive-time span: per stream, and overall (`undefined` when it has no lines). */
export interface RecordingSpan {
  streams: Map<StreamName, StreamSpan>;
  first_us: number | undefined;
  last_us: number | undefined;
}

/**
 * Scans every line of every stream once to find the receive-time span (for `inspect` and progress
 * bars). Cost: a full read — decompression and newline splitting of all files, no JSON parsing of
 * normal lines — roughly the I/O part of a replay. Bad lines and cuts go to `report`.
 */
export async function scanRecordingSpan(dir: string, report: ReadReport = newReadReport(), opts: ReaderOptions = {}): Promise<RecordingSpan> {
  await readManifest(dir);
  const files = await listStreamFiles(dir);
  const streams = new Map<StreamName, StreamSpan>();
  let first: number | undefined;
  let last: number | undefined;
  for (const [stream, list] of files) {
    let span: StreamSpan | undefined;
    for await (const batch of readStreamBatches(dir, stream, list, report, opts)) for (const line of batch) {
      if (!span) {
        span = { lines: 1, first_us: line.recv_us, last_us: line.recv_us, regressions: 0 };
        continue;
      }
      span.lines++;
      if (line.recv_us < span.last_us) span.regressions++;
      span.last_us = line.recv_us;
    }
    if (!span) continue;
    streams.set(stream, span);
    first = first === undefined ? span.first_us : Math.min(first, span.first_us);
    last = last === undefined ? span.last_us : Math.max(last, span.last_us);
  }
  return { streams, first_us: first, last_us: last };
}

/**
 * The items of `source`, asking for the next one as soon as the current one is handed out: the
 * source's I/O for item n+1 runs while the caller works on item n. Closing it closes the source.
 */
async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  let isDone = false;
  try {
    for (;;) {
      const r = await next;
      if (r.done) {
        isDone = true;
        return;
      }
      next = it.next();
      next.catch(() => undefined); // raised by the `await` above on the next turn
      yield r.value;
    }
  } finally {
    if (!isDone) {
      // the consumer stopped early (or the source failed): let the read in flight settle, then close
      await next.catch(() => undefined);
      await it.return?.(undefined);
    }
  }
}
