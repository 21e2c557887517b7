import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { parse, type CsvError } from 'csv-parse';
import { InputError } from '../errors.js';
import { REQUIRED_COLUMNS, ROW_PARSERS, detectKind, type Columns, type FlatFileKind, type ImportEvent, type ImportScope, type RowParser, type RowReport } from './rows.js';

export type { FlatFileKind, ImportEvent, ImportScope, RowReport } from './rows.js';
export { detectKind, parseConditions, stampToUs } from './rows.js';

/**
 * Massive flat files (massive-wire.md §5) → typed import events. Files are CSV, optionally gzip
 * (detected by magic bytes, not by name), streamed through csv-parse. Columns are found **by header
 * name, never by position**: trades_v1 exists with 7 columns and with 8 (`participant_timestamp`),
 * and extra or reordered columns are fine. Timestamps are ns (`sip_timestamp`, `window_start`).
 *
 * Never throws on a bad row: it is counted under a reason with `file:line` and skipped, and the
 * import goes on. Rows that are valid but out of scope (another underlying, a corrected trade, an
 * index we do not follow) are counted as ignored.
 */

/** Callbacks of one file read. */
export interface ReadHooks {
  /** Bytes consumed from disk (compressed size for gzip), for a progress bar. */
  onBytes?: (bytes: number) => void;
  /** The file's kind, once its header is read. */
  onKind?: (kind: FlatFileKind) => void;
}

/**
 * Streams the events of one flat file. `nextOrdinal` numbers events across all files of an import
 * (the sort tie-break: equal timestamps keep input order).
 * @throws InputError when the file cannot be read, is empty, or its header is of no known kind.
 */
export async function* readFlatFile(
  file: string,
  scope: ImportScope,
  report: RowReport,
  nextOrdinal: () => number,
  hooks: ReadHooks = {},
): AsyncGenerator<ImportEvent> {
  const name = file.split(/[\\/]/).pop() ?? file;
  const isGzip = await hasGzipMagic(file);
  const src = fs.createReadStream(file);
  const { onBytes } = hooks;
  if (onBytes) src.on('data', (chunk) => onBytes(chunk.length));
  // Lines with broken quoting never reach csv-parse: after a quote error it resynchronises badly
  // and would swallow the rest of the file. The guard drops them (reported) and empty lines, so
  // every line it passes is exactly one record: it queues their numbers for the error reports
  // (cheaper than csv-parse's `info` option, which costs ~10% of the import).
  const guard = new LineGuard((line) => report.bad.add('csv_bad_quoting', `${name}:${line}`));
  const parser = parse({
    bom: true,
    record_delimiter: '\n',
    relax_column_count: true,
    trim: true,
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined) => {
      report.bad.add(`csv_${String(err?.code ?? 'error').replace(/^CSV_/, '').toLowerCase()}`, `${name}:${guard.nextLine()}`);
      return undefined;
    },
  });
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    parser.destroy();
  };
  src.once('error', fail);
  if (isGzip) {
    const gz = zlib.createGunzip();
    gz.once('error', (err) => fail(new InputError(`${file}: gzip data corrupt or truncated (${err.message})`)));
    src.pipe(gz).pipe(guard).pipe(parser);
  } else {
    src.pipe(guard).pipe(parser);
  }
  let cols: Columns | undefined;
  let width = 0;
  let parseRow: RowParser | undefined;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const lineNo = guard.nextLine();
      if (!cols) {
        const header = record.map((h) => h.trim().toLowerCase());
        const kind = detectKind(header);
        if (kind === null) {
          throw new InputError(
            `${file}: header "${record.join(',')}" is not a Massive flat file we import — expected trades_v1 ` +
              `(${REQUIRED_COLUMNS.trades.join(',')}…), quotes_v1 (${REQUIRED_COLUMNS.quotes.join(',')}…), day_aggs_v1 ` +
              `(${REQUIRED_COLUMNS.aggs.join(',')}…) or index values (${REQUIRED_COLUMNS.values.join(',')})`,
          );
        }
        cols = new Map(header.map((h, i) => [h, i]));
        width = header.length;
        parseRow = ROW_PARSERS[kind];
        hooks.onKind?.(kind);
        continue;
      }
      const where = `${name}:${lineNo}`;
      if (record.length !== width) {
        report.bad.add('wrong_column_count', where);
        continue;
      }
      const ev = parseRow!(record, cols, scope, report, nextOrdinal);
      if (typeof ev === 'string') report.bad.add(ev, where);
      else if (ev !== null) yield ev;
    }
  } catch (err) {
    throw failure ?? err;
  } finally {
    src.destroy();
    guard.destroy();
    parser.destroy();
  }
  if (failure) throw failure instanceof InputError ? failure : new InputError(`cannot read ${file}: ${failure.message}`);
  if (!cols) throw new InputError(`${file} is empty — expected a CSV header line`);
}

/** A CSV line whose quoting is well formed: fields plain (no quotes) or fully quoted with `""` escapes. */
const FIELD = '(?:[^",]*|\\s*"(?:[^"]|"")*"\\s*)';
const WELL_QUOTED_RE = new RegExp(`^${FIELD}(?:,${FIELD})*$`);

/**
 * Splits the decoded text into lines (LF or CRLF → LF); drops empty lines, and lines that hold a
 * quote but are not well quoted (reporting their 1-based line number). Flat files never have
 * newlines inside fields (the quoted `conditions` list is the only quoted field), so each line
 * passed on is one record; `nextLine()` hands out their line numbers in order.
 */
export class LineGuard extends Transform {
  private carry = '';
  private lineNo = 0;
  private readonly decoder = new StringDecoder('utf8');
  /** Line numbers of the lines passed on and not yet claimed (a queue: `head` is its front). */
  private passed: number[] = [];
  private head = 0;

  constructor(private readonly onBad: (line: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.emitLines(this.carry + this.decoder.write(chunk), false);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.emitLines(this.carry + this.decoder.end(), true);
    cb();
  }

  private emitLines(text: string, isFinal: boolean): void {
    const out: string[] = [];
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      this.check(text.slice(start, nl), out);
      start = nl + 1;
    }
    this.carry = text.slice(start);
    if (isFinal && this.carry.length > 0) {
      this.check(this.carry, out);
      this.carry = '';
    }
    if (out.length > 0) this.push(out.join('\n') + '\n');
  }

  /** The line number of the next record the parser emits (or skips). */
  nextLine(): number {
    const n = this.passed[this.head++] ?? 0;
    if (this.head > 4096 && this.head * 2 > this.passed.length) {
      this.passed = this.passed.slice(this.head);
      this.head = 0;
    }
    return n;
  }

  /** Adds the line to `out` when it is a record; drops it otherwise. */
  private check(line: string, out: string[]): void {
    this.lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') return;
    if (line.includes('"') && !WELL_QUOTED_RE.test(line)) {
      this.onBad(this.lineNo);
      return;
    }
    this.passed.push(this.lineNo);
    out.push(line);
  }
}


/** True when the file starts with the gzip magic bytes 1f 8b. */
export async function hasGzipMagic(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (err) {
    throw new InputError(`cannot open ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}
