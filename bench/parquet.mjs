#!/usr/bin/env node
// Parquet library bench: how fast can we write and read a trades-shaped table, and is INT64 exact?
//
//   npm run build && node bench/parquet.mjs [rows=1000000] [--json]
//
// Writers: hyparquet-writer through our streaming ParquetTableWriter (dist/parquet/table.js,
// what `heatmap convert` ships), and parquetjs-lite 0.8.7 (its row API). @dsnp/parquetjs, the
// maintained parquetjs fork, needs Node >= 24 and is not measured here.
// Readers: hyparquet (columnar, all rows), parquetjs-lite's row cursor, and DuckDB (@duckdb/node-api,
// an independent C++ reader: full scan with a sum over every numeric column).
// Each figure is the best of 3 runs. Files go to bench/data/ (git-ignored).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.join(here, 'data');
fs.mkdirSync(dataDir, { recursive: true });
const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const asJson = args.includes('--json');
const RUNS = 3;
const log = (...a) => { if (!asJson) console.error(...a); };

const { ParquetTableWriter } = await import(path.join(here, '../dist/parquet/table.js'));
const parquet = (await import('parquetjs-lite')).default;
const { parquetRead, asyncBufferFromFile } = await import('hyparquet');
let duck;
try {
  duck = await import('@duckdb/node-api');
} catch {
  log('(@duckdb/node-api not installed: DuckDB figures skipped)');
}

// Deterministic trades-like rows: sorted µs timestamps, 500 tickers, prices with cents.
const T0 = 1_763_735_400_000_000;
const tickers = Array.from({ length: 500 }, (_, i) => `O:SPXW251121${i % 2 ? 'P' : 'C'}0${5500 + 5 * (i >> 1)}000`);
function row(i) {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  return {
    recv_us: T0 + i * 23 + (h % 7),
    ticker: tickers[h % 500],
    strike: 5500 + 5 * ((h % 500) >> 1),
    price: ((h >>> 9) % 10000) / 100 + 0.05,
    size: 1 + ((h >>> 3) % 50),
    exchange: 300 + (h % 17),
    seq: 1_000_000 + i,
  };
}
const SPEC = {
  name: 'bench_trades',
  columns: [
    { name: 'recv_us', type: 'timestamp_us' },
    { name: 'ticker', type: 'string' },
    { name: 'strike', type: 'double' },
    { name: 'price', type: 'double' },
    { name: 'size', type: 'int32' },
    { name: 'exchange', type: 'int32' },
    { name: 'seq', type: 'int64' },
  ],
};

async function best(label, fn) {
  let bestMs = Infinity;
  let out;
  for (let r = 0; r < RUNS; r++) {
    globalThis.gc?.();
    const t = performance.now();
    out = await fn();
    bestMs = Math.min(bestMs, performance.now() - t);
  }
  log(`  ${label.padEnd(48)} ${(N / (bestMs / 1000) / 1000).toFixed(0).padStart(6)} k rows/s  (${(bestMs / 1000).toFixed(2)} s)`);
  return { ms: bestMs, rows_per_s: Math.round(N / (bestMs / 1000)), out };
}

const results = { rows: N, node: process.version, write: {}, read: {}, size_bytes: {}, int64: {}, peak_rss_mb: {} };
const hyFile = path.join(dataDir, 'bench-hyparquet.parquet');
const pjFile = path.join(dataDir, 'bench-parquetjs-lite.parquet');

log(`parquet bench: ${N.toLocaleString('en-US')} rows, Node ${process.version}`);
log('write');
// Peak RSS is sampled inside the write loops (they are synchronous for hyparquet-writer).
let peak = 0;
const sample = (i) => {
  if (i % 8192 === 0) peak = Math.max(peak, process.memoryUsage().rss);
};
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
results.write.hyparquet_writer = await best('hyparquet-writer 0.17 (ParquetTableWriter)', () => {
  const w = ParquetTableWriter.open(hyFile, SPEC);
  for (let i = 0; i < N; i++) {
    w.append(row(i));
    sample(i);
  }
  return w.close();
});
results.peak_rss_mb.baseline = Math.round(rssBefore / 2 ** 20);
results.peak_rss_mb.hyparquet_writer = Math.round(peak / 2 ** 20);
results.size_bytes.hyparquet_writer = fs.statSync(hyFile).size;

peak = 0;
results.write.parquetjs_lite = await best('parquetjs-lite 0.8.7 (appendRow)', async () => {
  // SNAPPY on every column, like hyparquet-writer's default (parquetjs-lite defaults to none).
  const c = 'SNAPPY';
  const schema = new parquet.ParquetSchema({
    recv_us: { type: 'TIMESTAMP_MICROS', compression: c },
    ticker: { type: 'UTF8', compression: c },
    strike: { type: 'DOUBLE', compression: c },
    price: { type: 'DOUBLE', compression: c },
    size: { type: 'INT32', compression: c },
    exchange: { type: 'INT32', compression: c },
    seq: { type: 'INT64', compression: c },
  });
  const w = await parquet.ParquetWriter.openFile(schema, pjFile);
  w.setRowGroupSize(122_880);
  for (let i = 0; i < N; i++) {
    const r = row(i);
    // parquetjs-lite takes TIMESTAMP_MICROS as a Date (ms) or a number of µs.
    await w.appendRow(r);
    sample(i);
  }
  await w.close();
});
results.peak_rss_mb.parquetjs_lite = Math.round(peak / 2 ** 20);
results.size_bytes.parquetjs_lite = fs.statSync(pjFile).size;
log(`  sizes: hyparquet-writer ${(results.size_bytes.hyparquet_writer / 2 ** 20).toFixed(1)} MiB, parquetjs-lite ${(results.size_bytes.parquetjs_lite / 2 ** 20).toFixed(1)} MiB`);
log(`  peak RSS while writing (process, baseline ${results.peak_rss_mb.baseline} MiB): hyparquet-writer ${results.peak_rss_mb.hyparquet_writer} MiB, parquetjs-lite ${results.peak_rss_mb.parquetjs_lite} MiB`);

log('read');
results.read.hyparquet = await best('hyparquet 1.31 (all 7 columns, our file)', async () => {
  const file = await asyncBufferFromFile(hyFile);
  let rows = 0;
  let sum = 0;
  await parquetRead({
    file,
    onChunk: (chunk) => {
      if (chunk.columnName === 'price') {
        rows += chunk.rowEnd - chunk.rowStart;
        for (const v of chunk.columnData) sum += v;
      }
    },
  });
  if (rows !== N) throw new Error(`hyparquet read ${rows} rows`);
  return sum;
});
results.read.hyparquet_rows = await best('hyparquet 1.31 (row objects, our file)', async () => {
  const file = await asyncBufferFromFile(hyFile);
  let rows = 0;
  await parquetRead({ file, rowFormat: 'object', onComplete: (r) => (rows = r.length) });
  if (rows !== N) throw new Error(`hyparquet read ${rows} rows`);
});
results.read.parquetjs_lite_cursor = await best('parquetjs-lite cursor (its own file)', async () => {
  const r = await parquet.ParquetReader.openFile(pjFile);
  const cur = r.getCursor();
  let rows = 0;
  while (await cur.next()) rows++;
  await r.close();
  if (rows !== N) throw new Error(`parquetjs-lite read ${rows} rows`);
});
try {
  const r = await parquet.ParquetReader.openFile(hyFile);
  await r.close();
  results.read.parquetjs_lite_opens_hyparquet_file = true;
} catch (err) {
  results.read.parquetjs_lite_opens_hyparquet_file = `no: ${String(err?.message ?? err)}`;
  log(`  parquetjs-lite cannot open the hyparquet-writer file: ${results.read.parquetjs_lite_opens_hyparquet_file}`);
}
if (duck) {
  const inst = await duck.DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  for (const [key, file] of [['duckdb_hyparquet_file', hyFile], ['duckdb_parquetjs_file', pjFile]]) {
    results.read[key] = await best(`DuckDB scan (${path.basename(file)})`, async () => {
      const q = await con.runAndReadAll(`select count(*) n, sum(price) p, sum(size) s, sum(seq) q, max(recv_us) t from read_parquet('${file}')`);
      const n = Number(q.getRows()[0][0]);
      if (n !== N) throw new Error(`duckdb read ${n} rows`);
    });
  }
  con.closeSync?.();
}

log('INT64 exactness (2^53 + 1 = 9007199254740993)');
const BIG = 2n ** 53n + 1n;
{
  const f = path.join(dataDir, 'int64-hyparquet.parquet');
  const w = ParquetTableWriter.open(f, { name: 'int64', columns: [{ name: 'v', type: 'int64' }] });
  w.append({ v: BIG });
  w.close();
  const back = await new Promise((resolve) =>
    asyncBufferFromFile(f).then((file) => parquetRead({ file, rowFormat: 'object', onComplete: (rows) => resolve(rows[0].v) })),
  );
  results.int64.hyparquet_writer = String(back) === String(BIG) ? 'exact' : `read back ${back}`;
  if (duck) {
    const inst = await duck.DuckDBInstance.create(':memory:');
    const con = await inst.connect();
    const q = await con.runAndReadAll(`select v from read_parquet('${f}')`);
    results.int64.hyparquet_writer_duckdb = String(q.getRows()[0][0]) === String(BIG) ? 'exact' : `read back ${q.getRows()[0][0]}`;
  }
}
{
  const f = path.join(dataDir, 'int64-parquetjs-lite.parquet');
  const schema = new parquet.ParquetSchema({ v: { type: 'INT64' } });
  const w = await parquet.ParquetWriter.openFile(schema, f);
  let wrote;
  try {
    await w.appendRow({ v: BIG });
    wrote = 'bigint';
  } catch {
    await w.appendRow({ v: Number(BIG) }); // a JS number cannot even hold 2^53 + 1
    wrote = 'number';
  }
  await w.close();
  const r = await parquet.ParquetReader.openFile(f);
  const back = (await r.getCursor().next()).v;
  await r.close();
  results.int64.parquetjs_lite = String(back) === String(BIG) ? 'exact' : `lossy: wrote ${wrote}, read back ${back}`;
}
log(`  ${JSON.stringify(results.int64)}`);

if (asJson) console.log(JSON.stringify(results, null, 2));
else console.error(JSON.stringify(results));
