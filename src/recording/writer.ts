import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InputError, RuntimeError } from '../errors.js';
import { STREAM_NAMES, isStreamName, type StreamName } from './lines.js';
import { extractRecvUs } from './reader.js';
import { MANIFEST_FILE, writeManifest, type Manifest } from './manifest.js';
import { OutFile } from './out-file.js';
import { STREAM_FILE_RE } from './reader.js';

/**
 * Writes a recording directory (DESIGN §4): one NDJSON file (or a numbered series of files) per
 * stream, gzip by default, plus `manifest.json`.
 *
 * - `writeLine` is synchronous: lines are batched in memory and handed to zlib/the file in 64 KiB
 *   chunks (or on the next turn of the event loop). Nothing is ever dropped; `pendingBytes` shows
 *   how much is queued so a recorder can notice a disk that cannot keep up, and `drain()` lets a
 *   producer (sim, import) wait for the queue to empty.
 * - Every `flushIntervalMs` each file that received data is flushed with `Z_SYNC_FLUSH`: all bytes
 *   written so far decode even if the process is then killed -9 (the file lacks only the gzip
 *   trailer, which the reader detects and reports). The manifest's line counts are rewritten too.
 * - Deterministic: with `flushIntervalMs: 0` the same sequence of `writeLine` calls gives the same
 *   bytes (fixed gzip level, Node writes mtime 0 in the gzip header; deflate without flushes does
 *   not depend on how its input was chunked). The gzip header's OS byte is the platform's.
 */

/** Options of {@link RecordingWriter.create}. */
export interface RecordingWriterOptions {
  underlying: string;
  source: Manifest['source'];
  created_us: number;
  sim?: Manifest['sim'];
  /** Default true: `<stream>.ndjson.gz`; false: plain `<stream>.ndjson`. */
  gzip?: boolean;
  /** Default 1000; 0 = never flush on a timer (the simulator, so its bytes are deterministic). */
  flushIntervalMs?: number;
  /** When set, files are numbered (`options.0001.ndjson.gz`, …) and a new one starts every N lines. */
  splitLines?: number;
  /** Default false: refuse a directory that already holds a recording. True: delete its files first. */
  overwrite?: boolean;
}

const MAX_SPLIT_INDEX = 9999;

/** Writes one recording directory. Create with {@link RecordingWriter.create}; always `close()`. */
export class RecordingWriter {
  /** The file currently receiving lines, per stream. */
  private readonly current = new Map<StreamName, OutFile>();
  /** Files of each stream in creation (= name) order, and lines written per stream. */
  private readonly files = new Map<StreamName, OutFile[]>();
  /** Files rotated out by `splitLines`, still being ended. */
  private readonly ending = new Set<Promise<void>>();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pushScheduled: NodeJS.Immediate | undefined;
  private readonly gzip: boolean;

  private constructor(
    /** The recording directory. */
    readonly dir: string,
    private readonly opts: RecordingWriterOptions,
  ) {
    this.gzip = opts.gzip ?? true;
  }

  /**
   * Creates `dir` (recursively) and writes an initial manifest at once, so a recorder killed at any
   * point leaves a readable recording.
   * @throws InputError when `dir` already holds a recording (unless `overwrite`) or options are invalid.
   */
  static async create(dir: string, opts: RecordingWriterOptions): Promise<RecordingWriter> {
    const interval = opts.flushIntervalMs ?? 1000;
    if (!Number.isFinite(interval) || interval < 0) throw new InputError(`flushIntervalMs must be ≥ 0, got ${interval}`);
    if (opts.splitLines !== undefined && (!Number.isSafeInteger(opts.splitLines) || opts.splitLines < 1)) {
      throw new InputError(`splitLines must be a positive integer, got ${opts.splitLines}`);
    }
    await fsp.mkdir(dir, { recursive: true });
    const existing = (await fsp.readdir(dir)).filter((f) => f === MANIFEST_FILE || STREAM_FILE_RE.test(f));
    if (existing.length > 0) {
      if (!opts.overwrite) {
        throw new InputError(`${dir} already holds a recording (${existing.sort().join(', ')}) — choose another output directory or remove it`);
      }
      await Promise.all(existing.map((f) => fsp.rm(path.join(dir, f), { force: true })));
    }
    const w = new RecordingWriter(dir, opts);
    await writeManifest(dir, w.manifest(new Map()));
    if (interval > 0) {
      // A failed timer flush (disk full…) is kept and thrown by the next writeLine / close.
      w.timer = setInterval(() => void w.flush().catch((err: unknown) => (w.failure ??= asRuntimeError(err, dir))), interval);
      w.timer.unref();
    }
    return w;
  }

  /**
   * Enqueues one line (without its trailing newline) for `stream`; opens the stream's file on its
   * first line. Raw CR/LF inside the line — legal JSON whitespace from a pretty-printed body — are
   * replaced by spaces so the file stays one record per line (JSON strings cannot hold raw CR/LF).
   * @throws the writer's first I/O failure, or an Error after `close()`.
   */
  writeLine(stream: StreamName, line: string): void {
    if (this.failure) throw this.failure;
    if (this.closing) throw new Error(`recording ${this.dir} is closed; cannot write more lines`);
    if (!isStreamName(stream)) throw new TypeError(`unknown stream "${String(stream)}" (expected ${STREAM_NAMES.join(', ')})`);
    if (line.includes('\n') || line.includes('\r')) line = line.replace(/[\r\n]/g, ' ');
    let file = this.current.get(stream);
    if (!file) file = this.open(stream);
    file.add(line);
    this.noteSpan(stream, line);
    if (this.opts.splitLines !== undefined && file.lines >= this.opts.splitLines) {
      this.current.delete(stream);
      const p = file.end().catch(() => undefined); // failure is recorded by onError
      this.ending.add(p);
      void p.then(() => this.ending.delete(p));
    }
    this.pushScheduled ??= setImmediate(() => {
      this.pushScheduled = undefined;
      for (const f of this.current.values()) f.push();
    });
  }

  /** First/last receive time per stream, for the manifest (readers use it for progress totals). */
  private readonly spans = new Map<StreamName, { first: number; last: number }>();

  private noteSpan(stream: StreamName, line: string): void {
    const us = extractRecvUs(line);
    if (typeof us !== 'number') return;
    const span = this.spans.get(stream);
    if (!span) this.spans.set(stream, { first: us, last: us });
    else {
      if (us < span.first) span.first = us;
      if (us > span.last) span.last = us;
    }
  }

  /** Approximate bytes accepted by `writeLine` but not yet written to disk. */
  get pendingBytes(): number {
    let n = 0;
    for (const list of this.files.values()) for (const f of list) n += f.pending;
    return n;
  }

  /** Resolves once everything enqueued so far has been handed to the OS. Rejects on an I/O failure. */
  async drain(): Promise<void> {
    await Promise.all([...this.current.values()].map((f) => f.drain()));
    if (this.failure) throw this.failure;
  }

  /**
   * Sync-flushes every file that received data (all of it becomes decodable from disk) and rewrites
   * the manifest with the line counts so flushed. Called by the timer; also callable directly.
   */
  flush(): Promise<void> {
    if (this.closing) return this.closing;
    this.flushing ??= this.doFlush().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    const counts = this.lineCounts();
    await Promise.all([...[...this.current.values()].map((f) => f.flush()), ...this.ending]);
    if (this.failure) throw this.failure;
    if (this.closing) return; // close() writes the final manifest
    await writeManifest(this.dir, this.manifest(counts));
  }

  /**
   * Ends every gzip member, waits until all files are fully written and writes the final manifest
   * (files in name order, line counts per stream). Idempotent; rejects with the first I/O failure.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.pushScheduled) clearImmediate(this.pushScheduled);
    this.pushScheduled = undefined;
    // Let a timer flush finish first: its barrier writes must not land after the files' end().
    await this.flushing?.catch(() => undefined);
    await Promise.allSettled([...[...this.current.values()].map((f) => f.end()), ...this.ending]);
    this.current.clear();
    if (this.failure) throw this.failure;
    await writeManifest(this.dir, this.manifest(this.lineCounts()));
  }

  private open(stream: StreamName): OutFile {
    const list = this.files.get(stream) ?? [];
    const ext = this.gzip ? '.ndjson.gz' : '.ndjson';
    let name: string;
    if (this.opts.splitLines === undefined) {
      name = `${stream}${ext}`;
    } else {
      const index = list.length + 1;
      if (index > MAX_SPLIT_INDEX) {
        throw new RuntimeError(`stream ${stream} needs more than ${MAX_SPLIT_INDEX} split files — raise splitLines`);
      }
      name = `${stream}.${String(index).padStart(4, '0')}${ext}`;
    }
    const file = new OutFile(name, path.join(this.dir, name), this.gzip, (err) => {
      this.failure ??= err;
    });
    list.push(file);
    this.files.set(stream, list);
    this.current.set(stream, file);
    return file;
  }

  private lineCounts(): Map<StreamName, number> {
    const counts = new Map<StreamName, number>();
    for (const [stream, list] of this.files) counts.set(stream, list.reduce((n, f) => n + f.lines, 0));
    return counts;
  }

  private manifest(counts: Map<StreamName, number>): Manifest {
    const streams: Manifest['streams'] = {};
    for (const [stream, list] of this.files) {
      const span = this.spans.get(stream);
      streams[stream] = {
        files: list.map((f) => f.name).sort(),
        lines: counts.get(stream) ?? 0,
        ...(span ? { first_recv_us: span.first, last_recv_us: span.last } : {}),
      };
    }
    const m: Manifest = {
      format: 'heatmap-recording',
      version: 1,
      underlying: this.opts.underlying,
      source: this.opts.source,
      created_us: this.opts.created_us,
      streams,
    };
    if (this.opts.sim) m.sim = this.opts.sim;
    return m;
  }
}

function asRuntimeError(err: unknown, dir: string): Error {
  if (err instanceof RuntimeError) return err;
  return new RuntimeError(`cannot write recording ${dir}: ${err instanceof Error ? err.message : String(err)}`);
}
