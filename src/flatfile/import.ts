import { promises as fsp } from 'node:fs';
import { InputError } from '../errors.js';
import { Tally } from '../engine/tally.js';
import { ChainBook } from './chain.js';
import { readFlatFile, type FlatFileKind, type ImportEvent, type ImportScope } from './csv.js';
import { EventSorter } from './sort.js';
import { wsLine, type StreamName } from '../recording/lines.js';
import { MANIFEST_FILE } from '../recording/manifest.js';
import { STREAM_FILE_RE } from '../recording/reader.js';
import { RecordingWriter } from '../recording/writer.js';

/**
 * `heatmap import`: Massive flat files → a recording (format v1, source `import`) that replays.
 *
 * 1. Read every file (csv-parse, streaming), keep the rows of the underlying's option roots as
 *    typed events, count bad rows with `file:line`; sort all events by (event time, input order)
 *    with an external sort (flat files are grouped by ticker, recordings are in time order).
 * 2. Walk the events in time order and write the recording:
 *    - **receive time = event time** (`sip_timestamp` ns → µs, truncated): there was no receiver;
 *    - option trades → options WS frames `[{"ev":"T","sym","x","p","s","c","t","q"}]` (`t` in ms as
 *      on the wire; `q` = the `sequence_number` column if present, else the trade's 1-based rank in
 *      time order — trades_v1 has no sequence, and the engine's newness key needs a tie-break within
 *      a millisecond); trades at the same µs share one frame;
 *    - quotes / aggregates / trades update a chain book; a full chain snapshot (REST page shape) is
 *      written at the first multiple of `snapshotEveryMs` (epoch-aligned) strictly after the first
 *      change not yet shown, so a snapshot at T shows exactly the events before T;
 *    - index values of the underlying → indices `V` frames; trades of an ETF underlying → stocks
 *      `T` frames; `--spot N` → one spot frame at the first event's time.
 * Deterministic: the same files in the same order give the same bytes (RecordingWriter without
 * timed flushes; `created_us` = the first event's time, not the wall clock).
 */

export interface ImportOptions {
  /** `I:SPX` (default roots SPX, SPXW) or an ETF such as `SPY`. */
  readonly underlying: string;
  /** Option roots to keep; default: the underlying's symbol and symbol + `W`. */
  readonly roots?: readonly string[];
  /** A constant spot written at the first event (when there is no index values file). */
  readonly spot?: number;
  readonly snapshotEveryMs: number;
  readonly overwrite?: boolean;
  /** Where temporary sort runs go (default: the output directory). */
  readonly tmpDir?: string;
  /** Events held in memory before a sort run is spilled (default 500 000). */
  readonly runLimit?: number;
  readonly onProgress?: (p: ImportProgress) => void;
}

export interface ImportProgress {
  readonly phase: 'read' | 'write';
  readonly done: number;
  readonly total: number;
}

export interface ImportResult {
  readonly dir: string;
  readonly files: readonly { file: string; kind: FlatFileKind | null; rows: number; events: number }[];
  /** Events kept (in scope) by kind: T option trades, Q quotes, A aggregates, V index values, S ETF trades. */
  readonly events: Record<ImportEvent['k'], number>;
  readonly lines: Partial<Record<StreamName, number>>;
  readonly snapshots: number;
  readonly contracts: number;
  readonly first_us: number | undefined;
  readonly last_us: number | undefined;
  /** Rows that did not parse, by reason (details `file:line`). */
  readonly bad: Tally;
  /** Valid rows out of scope (other roots, corrected trades, other indices). */
  readonly ignored: Tally;
  /** Sort runs spilled to disk (0 when everything fit in memory). */
  readonly spilled: number;
}

const DRAIN_BYTES = 8 * 1024 * 1024;

/** Default option roots of an underlying: `I:SPX` → SPX, SPXW; `SPY` → SPY, SPYW. */
export function defaultRoots(underlying: string): string[] {
  const sym = underlying.replace(/^I:/, '');
  return [sym, `${sym}W`];
}

/** Imports `files` (in the order given) into a new recording at `outDir`. */
export async function importFlatFiles(files: readonly string[], outDir: string, opts: ImportOptions): Promise<ImportResult> {
  if (files.length === 0) throw new InputError('no input files — pass one or more Massive flat files (.csv or .csv.gz)');
  let totalBytes = 0;
  for (const f of files) {
    const st = await fsp.stat(f).catch(() => undefined);
    if (!st || !st.isFile()) throw new InputError(`${f} does not exist or is not a file`);
    totalBytes += st.size;
  }
  const everyUs = opts.snapshotEveryMs * 1000;
  if (!Number.isSafeInteger(everyUs) || everyUs <= 0) throw new InputError(`snapshot interval must be a positive whole number of ms, got ${opts.snapshotEveryMs}`);
  const scope: ImportScope = { underlying: opts.underlying, roots: new Set(opts.roots ?? defaultRoots(opts.underlying)) };
  const isIndex = opts.underlying.startsWith('I:');
  await fsp.mkdir(outDir, { recursive: true });
  // Fail before reading (which can take minutes), not when the recording is about to be written.
  const existing = (await fsp.readdir(outDir)).filter((f) => f === MANIFEST_FILE || STREAM_FILE_RE.test(f));
  if (existing.length > 0 && !opts.overwrite) {
    throw new InputError(`${outDir} already holds a recording (${existing.sort().join(', ')}) — choose another output directory or pass --overwrite`);
  }
  if (opts.tmpDir !== undefined && !(await fsp.stat(opts.tmpDir).catch(() => undefined))?.isDirectory()) {
    throw new InputError(`--tmp-dir ${opts.tmpDir} is not a directory`);
  }

  const bad = new Tally(10);
  const ignored = new Tally();
  const sorter = new EventSorter(opts.tmpDir ?? outDir, opts.runLimit);
  const fileStats: { file: string; kind: FlatFileKind | null; rows: number; events: number }[] = [];
  let ordinal = 0;
  const next = (): number => ++ordinal;
  let bytes = 0;
  try {
    // Phase 1: read, parse, filter, sort.
    for (const file of files) {
      const stat = { file, kind: null as FlatFileKind | null, rows: 0, events: 0 };
      fileStats.push(stat);
      const badBefore = bad.total;
      const ignoredBefore = ignored.total;
      const hooks = {
        onBytes: (n: number) => {
          bytes += n;
          opts.onProgress?.({ phase: 'read', done: bytes, total: totalBytes });
        },
        onKind: (k: FlatFileKind) => (stat.kind = k),
      };
      for await (const ev of readFlatFile(file, scope, { bad, ignored }, next, hooks)) {
        stat.events++;
        const spill = sorter.add(ev);
        if (spill) await spill;
      }
      stat.rows = stat.events + (bad.total - badBefore) + (ignored.total - ignoredBefore);
    }

    // Phase 2: walk in time order, write the recording.
    const events: Record<ImportEvent['k'], number> = { T: 0, Q: 0, A: 0, V: 0, S: 0 };
    const lines: Partial<Record<StreamName, number>> = {};
    const book = new ChainBook(opts.underlying);
    let writer: RecordingWriter | undefined;
    let first: number | undefined;
    let last: number | undefined;
    let due: number | undefined;
    let snapshots = 0;
    let tradeBatch: string[] = [];
    let tradeUs = 0;
    let done = 0;
    const total = sorter.size;
    const write = (stream: StreamName, line: string): void => {
      writer!.writeLine(stream, line);
      lines[stream] = (lines[stream] ?? 0) + 1;
    };
    const flushTrades = (): void => {
      if (tradeBatch.length === 0) return;
      write('options', wsLine(tradeUs, `[${tradeBatch.join(',')}]`));
      tradeBatch = [];
    };
    const snapshot = (at: number): void => {
      for (const line of book.snapshotLines(snapshots, at)) write('chain', line);
      snapshots++;
    };
    const changed = (us: number): void => {
      due ??= (Math.floor(us / everyUs) + 1) * everyUs;
    };
    for await (const ev of sorter.sorted()) {
      if (writer === undefined) {
        first = ev.us;
        writer = await RecordingWriter.create(outDir, {
          underlying: opts.underlying,
          source: 'import',
          created_us: ev.us,
          flushIntervalMs: 0,
          overwrite: opts.overwrite === true,
        });
        if (opts.spot !== undefined) write(isIndex ? 'indices' : 'stocks', spotFrame(opts.underlying, isIndex, opts.spot, ev.us));
      }
      last = ev.us;
      while (due !== undefined && ev.us >= due) {
        const at = due;
        due = undefined;
        snapshot(at);
      }
      if (ev.k !== 'T' || ev.us !== tradeUs) flushTrades();
      events[ev.k]++;
      switch (ev.k) {
        case 'T':
          tradeUs = ev.us;
          tradeBatch.push(tradeEvent(ev, events.T));
          book.applyTrade(ev);
          changed(ev.us);
          break;
        case 'Q':
          book.applyQuote(ev);
          changed(ev.us);
          break;
        case 'A':
          book.applyAgg(ev);
          changed(ev.us);
          break;
        case 'V':
          if (isIndex) write('indices', wsLine(ev.us, `[{"ev":"V","val":${JSON.stringify(ev.val)},"T":${JSON.stringify(ev.sym)},"t":${msOf(ev.us)}}]`));
          break;
        case 'S':
          write('stocks', wsLine(ev.us, `[${stockEvent(ev, events.S)}]`));
          break;
      }
      done++;
      if (writer.pendingBytes > DRAIN_BYTES) await writer.drain();
      if (opts.onProgress && done % 10_000 === 0) opts.onProgress({ phase: 'write', done, total });
    }
    flushTrades();
    if (due !== undefined) snapshot(due);
    opts.onProgress?.({ phase: 'write', done, total });
    await writer?.close();
    return {
      dir: outDir,
      files: fileStats,
      events,
      lines,
      snapshots,
      contracts: book.size,
      first_us: first,
      last_us: last,
      bad,
      ignored,
      spilled: sorter.spilled,
    };
  } finally {
    await sorter.cleanup();
  }
}

const msOf = (us: number): number => Math.floor(us / 1000);

/**
 * An options WS trade event (massive-wire.md §4.3) for a flat-file trade. `q` is the file's
 * `sequence_number` when it has one, else `ordinal`: the trade's 1-based rank in time order, so
 * that of two trades in the same millisecond the later one is the newer fact.
 */
function tradeEvent(ev: Extract<ImportEvent, { k: 'T' }>, ordinal: number): string {
  const x = ev.x === null ? '' : `"x":${ev.x},`;
  return `{"ev":"T","sym":${JSON.stringify(ev.sym)},${x}"p":${JSON.stringify(ev.p)},"s":${JSON.stringify(ev.s)},"c":[${ev.c.join(',')}],"t":${msOf(ev.us)},"q":${ev.q ?? ordinal}}`;
}

/** A stocks WS trade event (§4.5) for a trade of the ETF underlying (`q` as for options trades). */
function stockEvent(ev: Extract<ImportEvent, { k: 'S' }>, ordinal: number): string {
  const x = ev.x === null ? '' : `"x":${ev.x},`;
  return `{"ev":"T","sym":${JSON.stringify(ev.sym)},${x}"p":${JSON.stringify(ev.p)},"s":${JSON.stringify(ev.s)},"t":${msOf(ev.us)},"q":${ev.q ?? ordinal}}`;
}

/** The `--spot N` frame: an index `V` value, or an ETF trade. */
function spotFrame(underlying: string, isIndex: boolean, value: number, us: number): string {
  const sym = JSON.stringify(underlying);
  const ev = isIndex
    ? `{"ev":"V","val":${JSON.stringify(value)},"T":${sym},"t":${msOf(us)}}`
    : `{"ev":"T","sym":${sym},"p":${JSON.stringify(value)},"s":0,"t":${msOf(us)},"q":0}`;
  return wsLine(us, `[${ev}]`);
}
