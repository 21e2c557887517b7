import { promises as fsp } from 'node:fs';
import { Format2Folder } from '../engine/format2-fold.js';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../errors.js';
import { Tally } from '../engine/tally.js';
import type { LegSource, PublishReason, PublishedLeg, PublishedTile, Right, VersionRecord } from '../engine/types.js';
import { isRecord } from '../massive/values.js';
import { readFileChunks, type ChunkEnd } from '../recording/file-chunks.js';
import { hasGzipMagic } from '../flatfile/csv.js';
import { readManifest } from '../recording/manifest.js';
import { ParquetTableWriter, dateToDays, type TableResult } from './table.js';
import { RecordingRows, type TableName } from './rows.js';
import { PARQUET_TABLES_VERSION, RECORDING_TABLES, TILES } from './tables.js';
import { TileHistoryWriter } from './tiles.js';
import { newReadReport, readRecordingBatches } from '../recording/reader.js';

/**
 * `heatmap convert`: a recording directory → normalised Parquet tables (trades, quotes,
 * chain_quotes, spot, gaps), or a versions NDJSON file (the output of `replay`) → `tiles.parquet`.
 * Streaming: lines are read in replay order and appended to one writer per table, each holding at
 * most one row group in memory.
 */

export interface ConvertOptions {
  readonly rowGroupRows?: number;
  /** Default false: refuse to replace existing `<table>.parquet` files in the output directory. */
  readonly overwrite?: boolean;
  /** Called every `progressEvery` input lines (default 5000) and once at the end. */
  readonly onProgress?: (p: { lines: number; recv_us: number; versions: number }) => void;
  readonly progressEvery?: number;
}

export interface ConvertResult {
  /** `recording` or `versions`. */
  readonly input: 'recording' | 'versions';
  readonly tables: readonly TableResult[];
  /** Input lines read (good and bad). */
  readonly lines: number;
  /** Bad lines and events by reason (details `file:line`); `ws_ignored_*` are valid but not tabulated. */
  readonly bad: Tally;
  /** Truncated input files (everything before the cut was converted). */
  readonly cuts: readonly { file: string; reason: string }[];
}

/** Converts a recording directory or a versions NDJSON file (`.ndjson[.gz]`), by what `input` is. */
export async function convertToParquet(input: string, outDir: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  let st;
  try {
    st = await fsp.stat(input);
  } catch {
    throw new InputError(`${input} does not exist — pass a recording directory or a versions .ndjson file from heatmap replay`);
  }
  return st.isDirectory() ? convertRecording(input, outDir, opts) : convertVersionsFile(input, outDir, opts);
}

/** A recording → one file per table in `outDir` (empty tables are written too: stable layout). */
export async function convertRecording(dir: string, outDir: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const manifest = await readManifest(dir);
  await prepareOutDir(outDir, RECORDING_TABLES.map((t) => t.name), opts.overwrite);
  const metadata = {
    'heatmap.tables_version': PARQUET_TABLES_VERSION,
    'heatmap.underlying': manifest.underlying,
    'heatmap.recording_source': manifest.source,
  };
  const writers = new Map<TableName, ParquetTableWriter>();
  try {
    for (const spec of RECORDING_TABLES) {
      writers.set(spec.name as TableName, ParquetTableWriter.open(path.join(outDir, `${spec.name}.parquet`), spec, { rowGroupRows: opts.rowGroupRows, metadata }));
    }
    const bad = new Tally();
    const rows = new RecordingRows((table, row) => writers.get(table)!.append(row), bad);
    const report = newReadReport();
    const every = opts.progressEvery ?? 5000;
    let lines = 0;
    let last = 0;
    for await (const batch of readRecordingBatches(dir, {}, report)) for (const line of batch) {
      lines++;
      last = line.recv_us;
      rows.add(line);
      if (opts.onProgress && lines % every === 0) opts.onProgress({ lines, recv_us: last, versions: 0 });
    }
    opts.onProgress?.({ lines, recv_us: last, versions: 0 });
    const tables = RECORDING_TABLES.map((spec) => writers.get(spec.name as TableName)!.close());
    bad.merge(report.bad);
    return { input: 'recording', tables, lines: lines + report.bad.total, bad, cuts: report.cuts };
  } catch (err) {
    for (const w of writers.values()) w.abort();
    throw err;
  }
}

/** A versions NDJSON file (stdout of `heatmap replay`, plain or gzip) → `outDir/tiles.parquet`. */
export async function convertVersionsFile(file: string, outDir: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  await prepareOutDir(outDir, [TILES.name], opts.overwrite);
  const writer = TileHistoryWriter.open(path.join(outDir, `${TILES.name}.parquet`), { rowGroupRows: opts.rowGroupRows });
  try {
    const bad = new Tally();
    const name = path.basename(file);
    const every = opts.progressEvery ?? 5000;
    const end: ChunkEnd = {};
    let lines = 0;
    let last = 0;
    // A format 2 stream (DESIGN §3.1) is folded into format 1 lines first: the tile history is
    // the same whichever format the replay wrote.
    const folder = new Format2Folder();
    for await (const { text, line_no } of readTextLines(file, end)) {
      lines++;
      let texts = [text];
      if (text.startsWith('{"type":"version","format":2') || text.startsWith('{"type":"snapshot","format":2')) {
        try {
          texts = folder.push(text);
        } catch {
          bad.add('format2_unfoldable', `${name}:${line_no}`);
          continue;
        }
      }
      for (const t of texts) {
        const v = toVersionRecord(t);
        if (typeof v === 'string') {
          bad.add(v, `${name}:${line_no}`);
          continue;
        }
        if (v === null) continue; // gap, snapshot, summary, error lines: not tile history
        writer.addVersion(v);
        last = v.at_us;
      }
      if (opts.onProgress && lines % every === 0) opts.onProgress({ lines, recv_us: last, versions: writer.versions });
    }
    opts.onProgress?.({ lines, recv_us: last, versions: writer.versions });
    if (lines === 0) bad.add('empty_input', name);
    const cuts = end.cut !== undefined ? [{ file: name, reason: end.cut }] : [];
    return { input: 'versions', tables: [writer.close()], lines, bad, cuts };
  } catch (err) {
    writer.abort();
    throw err;
  }
}

/** Creates `outDir`; refuses to replace existing table files unless `overwrite`. */
async function prepareOutDir(outDir: string, tables: readonly string[], overwrite: boolean | undefined): Promise<void> {
  try {
    await fsp.mkdir(outDir, { recursive: true });
  } catch (err) {
    throw new InputError(`cannot create output directory ${outDir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const existing = new Set(await fsp.readdir(outDir));
  const clash = tables.map((t) => `${t}.parquet`).filter((f) => existing.has(f));
  if (clash.length > 0 && !overwrite) {
    throw new InputError(`${outDir} already holds ${clash.join(', ')} — choose another --out directory or pass --overwrite`);
  }
}

/** Lines of a text file (plain or gzip by magic), 1-based numbers; empty lines skipped. */
async function* readTextLines(file: string, end: ChunkEnd): AsyncGenerator<{ text: string; line_no: number }> {
  const isGzip = await hasGzipMagic(file);
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNo = 0;
  for await (const chunk of readFileChunks(file, isGzip, end)) {
    const text = carry + decoder.write(chunk);
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      lineNo++;
      const line = text.slice(start, nl).replace(/\r$/, '');
      if (line.length > 0) yield { text: line, line_no: lineNo };
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  carry += decoder.end();
  if (carry.trim().length > 0) yield { text: carry, line_no: lineNo + 1 };
}

const REASONS = new Set<string>(['structural', 'value', 'time']);
const SOURCES = new Set<string>(['rest_quote', 'rest_trade', 'ws', 'ws_quote']);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * One NDJSON line → a version record; null for other line types (gap, snapshot, summary, error);
 * a reason string when the line is not a valid version line (DESIGN §3 shape).
 */
export function toVersionRecord(text: string): VersionRecord | null | string {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return 'bad_json';
  }
  if (!isRecord(o)) return 'line_not_object';
  if (o.type !== 'version') return typeof o.type === 'string' ? null : 'line_without_type';
  const { strategy, version, at_us, reasons, upserts } = o;
  if (typeof strategy !== 'string' || !isInt(version) || !isInt(at_us)) return 'version_bad_header';
  if (!Array.isArray(reasons) || !reasons.every((r) => typeof r === 'string' && REASONS.has(r))) return 'version_bad_reasons';
  if (!Array.isArray(upserts)) return 'version_bad_upserts';
  const tiles: PublishedTile[] = [];
  for (const t of upserts) {
    const tile = toTile(t);
    if (tile === null) return 'version_bad_tile';
    tiles.push(tile);
  }
  return {
    type: 'version',
    strategy,
    version,
    at_us,
    reasons: reasons as PublishReason[],
    prev_hash: typeof o.prev_hash === 'string' ? o.prev_hash : '',
    hash: typeof o.hash === 'string' ? o.hash : '',
    upserts: tiles,
    removes: Array.isArray(o.removes) ? o.removes.filter((k): k is string => typeof k === 'string') : [],
    stats: { slots: 0, populated: 0, changed: tiles.length },
  };
}

function toTile(t: unknown): PublishedTile | null {
  if (!isRecord(t)) return null;
  const { key, root, expiration, strategy, right, strikes, legs, value, score, ts_us, confidence, source } = t;
  if (typeof key !== 'string' || typeof root !== 'string' || typeof expiration !== 'string' || typeof strategy !== 'string') return null;
  if ((right !== 'C' && right !== 'P') || !Array.isArray(strikes) || !strikes.every(isNum) || !Array.isArray(legs)) return null;
  if (!isNum(value) || !(score === null || isNum(score)) || !isInt(ts_us) || !isNum(confidence)) return null;
  if (typeof source !== 'string' || !SOURCES.has(source)) return null;
  const outLegs: PublishedLeg[] = [];
  for (const l of legs) {
    if (!isRecord(l) || typeof l.ticker !== 'string' || !isNum(l.ratio) || !isNum(l.price) || !isInt(l.ts_us)) return null;
    if (typeof l.source !== 'string' || !SOURCES.has(l.source)) return null;
    outLegs.push({ ticker: l.ticker, ratio: l.ratio, price: l.price, ts_us: l.ts_us, source: l.source as LegSource });
  }
  if (dateToDays(expiration) === null) return null;
  return {
    key,
    root,
    expiration,
    strategy,
    right: right as Right,
    strikes: strikes as number[],
    legs: outLegs,
    value,
    score: score as number | null,
    ts_us,
    confidence,
    source: source as LegSource,
  };
}
