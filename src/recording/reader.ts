import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../errors.js';
import { Tally } from '../engine/tally.js';
import { readFileChunks, type ChunkEnd } from './file-chunks.js';
import { STREAM_NAMES, type StreamName } from './lines.js';
import { MANIFEST_FILE, readManifest } from './manifest.js';
import { mergeStreams } from './merge.js';
import { dropTimeOutliers } from './time-outliers.js';

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

/** What reading found wrong: skipped lines by reason, and files whose tail was cut. */
export interface ReadReport {
  /** `no_recv_us` / `bad_json`, details `file:line`. */
  readonly bad: Tally;
  /** At most one entry per file: which file, and why its data stopped early. */
  readonly cuts: { file: string; reason: string }[];
}

/** A fresh, empty report. */
export function newReadReport(): ReadReport {
  return { bad: new Tally(), cuts: [] };
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
    if (m && (e.isFile() || e.isSymbolicLink())) {
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
 * current line). Empty lines are skipped silently; lines without a usable `recv_us` are counted in
 * `report.bad` and skipped. A truncated/corrupt gzip or a torn last line (no newline at EOF and not
 * valid JSON) never throws: everything before it is yielded and one entry goes to `report.cuts`.
 * @throws InputError when a file cannot be opened or read.
 */
export async function* readStreamLines(
  dir: string,
  stream: StreamName,
  files: readonly string[],
  report: ReadReport,
): AsyncGenerator<RawLine> {
  yield* dropTimeOutliers(readFilesInOrder(dir, stream, files, report), report.bad);
}

async function* readFilesInOrder(dir: string, stream: StreamName, files: readonly string[], report: ReadReport): AsyncGenerator<RawLine> {
  for (const file of files) yield* readFileLines(dir, stream, file, report);
}

async function* readFileLines(dir: string, stream: StreamName, file: string, report: ReadReport): AsyncGenerator<RawLine> {
  const end: ChunkEnd = {};
  const decoder = new StringDecoder('utf8');
  let parts: string[] = []; // the current, unterminated line
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
  for await (const chunk of readFileChunks(path.join(dir, file), file.endsWith('.gz'), end)) {
    const piece = decoder.write(chunk);
    let nl = piece.indexOf('\n');
    if (nl === -1) {
      parts.push(piece);
      continue;
    }
    let first = piece.slice(0, nl);
    if (parts.length > 0) {
      first = parts.join('') + first;
      parts = [];
    }
    let line = toLine(first);
    if (line) yield line;
    let start = nl + 1;
    while ((nl = piece.indexOf('\n', start)) !== -1) {
      line = toLine(piece.slice(start, nl));
      if (line) yield line;
      start = nl + 1;
    }
    if (start < piece.length) parts.push(piece.slice(start));
  }
  const tail = parts.join('') + decoder.end();
  let torn = '';
  if (tail.trim().length > 0) {
    // No newline at EOF: keep the line only if it is complete JSON (a writer that omitted the final
    // newline); otherwise it is the torn end of an interrupted write.
    let complete = true;
    try {
      JSON.parse(tail);
    } catch {
      complete = false;
    }
    if (complete) {
      const line = toLine(tail);
      if (line) yield line;
    } else {
      torn = `torn last line dropped (${Buffer.byteLength(tail)} bytes without newline)`;
    }
  }
  if (end.cut !== undefined || torn !== '') {
    const reasons = [end.cut, torn].filter((r) => r !== undefined && r !== '').join('; ');
    report.cuts.push({ file, reason: `${reasons} — kept everything up to line ${lineNo}` });
  }
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
 * @throws InputError when `dir` is not a readable recording (see readManifest).
 */
export async function* readRecording(dir: string, opts: ReadWindow, report: ReadReport): AsyncGenerator<RawLine> {
  await readManifest(dir);
  const files = await listStreamFiles(dir);
  const sources = [...files].map(([stream, list]) => readStreamLines(dir, stream, list, report));
  const from = opts.from_us ?? -Infinity;
  const to = opts.to_us ?? Infinity;
  for await (const line of mergeStreams(sources)) {
    if (line.recv_us < from) continue;
    if (line.recv_us >= to) break;
    yield line;
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
export async function scanRecordingSpan(dir: string, report: ReadReport = newReadReport()): Promise<RecordingSpan> {
  await readManifest(dir);
  const files = await listStreamFiles(dir);
  const streams = new Map<StreamName, StreamSpan>();
  let first: number | undefined;
  let last: number | undefined;
  for (const [stream, list] of files) {
    let span: StreamSpan | undefined;
    for await (const line of readStreamLines(dir, stream, list, report)) {
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
