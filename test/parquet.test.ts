import { fold2to1 } from '../src/engine/format2-fold.js';
import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../src/massive/timestamps.js';
import { ParquetTableWriter, type TableSpec } from '../src/parquet/table.js';
import { convertRecording } from '../src/parquet/convert.js';
import { RecordingWriter } from '../src/recording/writer.js';
import { chainLine, gapLine, wsLine } from '../src/recording/lines.js';
import { parseNdjson, runCli, tempDir } from './helpers/cli.js';

// Parquet output checked with an independent reader: DuckDB (C++, @duckdb/node-api) — not
// hyparquet, the writer's sibling. Round trip: sim → convert → DuckDB gives the recording's rows.

let work: { dir: string; cleanup: () => Promise<void> };
let rec: string;
let out: string;
let db: DuckDBConnection;
let convertStdout: string;

/** Rows of a query as plain JS (BIGINT → bigint, lists → arrays). */
async function q(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** All lines of one recording stream file, parsed (lossless: 19-digit ns stay digit strings). */
async function streamLines(dir: string, stream: string): Promise<Record<string, unknown>[]> {
  const files = (await readdir(dir)).filter((f) => f.startsWith(`${stream}.`)).sort();
  const lines: Record<string, unknown>[] = [];
  for (const f of files) {
    const buf = await readFile(path.join(dir, f));
    const text = (f.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
    for (const l of text.split('\n')) if (l.length > 0) lines.push(parseJsonLossless(l) as Record<string, unknown>);
  }
  return lines;
}

beforeAll(async () => {
  work = await tempDir();
  rec = path.join(work.dir, 'rec');
  out = path.join(work.dir, 'pq');
  const sim = await runCli(['sim', '--out', rec, '--duration', '2m', '--seed', '1', '--no-progress']);
  expect(sim.code, sim.stderr).toBe(0);
  const conv = await runCli(['convert', rec, '--to', 'parquet', '--out', out, '--no-progress']);
  expect(conv.code, conv.stderr).toBe(0);
  convertStdout = conv.stdout;
  db = await (await DuckDBInstance.create(':memory:')).connect();
  // One thread keeps the scan in file order, so rows compare positionally with the recording.
  await db.run('SET threads TO 1');
}, 120_000);

afterAll(async () => {
  db?.closeSync();
  await work.cleanup();
});

describe('heatmap convert: recording → Parquet (read back by DuckDB)', () => {
  it('writes one file per table and a JSON summary', async () => {
    const files = (await readdir(out)).sort();
    expect(files).toEqual(['chain_quotes.parquet', 'gaps.parquet', 'quotes.parquet', 'spot.parquet', 'trades.parquet']);
    const summary = parseNdjson(convertStdout)[0] as { type: string; tables: { name: string; rows: number }[]; bad: { total: number } };
    expect(summary.type).toBe('convert');
    expect(summary.bad.total).toBe(0);
    for (const t of summary.tables) {
      const [{ n }] = (await q(`select count(*) as n from read_parquet('${path.join(out, `${t.name}.parquet`)}')`)) as [{ n: bigint }];
      expect(Number(n)).toBe(t.rows);
    }
  });

  it('trades: same rows and values as the options stream, in order', async () => {
    const expected: unknown[][] = [];
    for (const line of await streamLines(rec, 'options')) {
      for (const ev of line.frame as Record<string, unknown>[]) {
        if (ev.ev !== 'T') continue;
        expected.push([line.recv_us, (ev.t as number) * 1000, ev.sym, ev.p, ev.s, ev.x, ev.c ?? null, ev.q]);
      }
    }
    expect(expected.length).toBeGreaterThan(1000);
    const rows = await q(
      `select epoch_us(recv_us) r, epoch_us(ts_us) t, ticker, price, size, exchange, conditions, seq from read_parquet('${out}/trades.parquet')`,
    );
    const got = rows.map((r) => [Number(r.r), Number(r.t), r.ticker, r.price, r.size, r.exchange, r.conditions, Number(r.seq)]);
    expect(got).toEqual(expected);
  });

  it('trades: contract columns are typed (DATE, TIMESTAMPTZ, INTEGER[]) and consistent with the ticker', async () => {
    const cols = await q(`describe select * from read_parquet('${out}/trades.parquet')`);
    const types = Object.fromEntries(cols.map((c) => [c.column_name, c.column_type]));
    expect(types).toMatchObject({
      recv_us: 'TIMESTAMP WITH TIME ZONE',
      ts_us: 'TIMESTAMP WITH TIME ZONE',
      ticker: 'VARCHAR',
      expiration: 'DATE',
      strike: 'DOUBLE',
      conditions: 'INTEGER[]',
      seq: 'BIGINT',
    });
    const bad = await q(
      `select count(*) n from read_parquet('${out}/trades.parquet')
       where ticker <> 'O:' || root || strftime(expiration, '%y%m%d') || "right" || lpad(cast(cast(strike * 1000 as bigint) as varchar), 8, '0')`,
    );
    expect(Number(bad[0]!.n)).toBe(0);
  });

  it('chain_quotes: one row per contract per page; ns stamps exact above 2^53', async () => {
    const expected: unknown[][] = [];
    for (const line of await streamLines(rec, 'chain')) {
      for (const item of (line.body as { results: Record<string, Record<string, unknown>>[] }).results) {
        const lq = item.last_quote ?? {};
        const lt = item.last_trade ?? {};
        expected.push([line.snapshot, line.page, line.recv_us, item.details!.ticker, lq.bid ?? null, lq.ask ?? null, lq.last_updated ?? null, lt.price ?? null, lt.sip_timestamp ?? null]);
      }
    }
    expect(expected.length).toBeGreaterThan(100);
    const rows = await q(
      `select snapshot, page, epoch_us(recv_us) r, ticker, bid, ask, quote_ts_ns, last_price, last_ts_ns from read_parquet('${out}/chain_quotes.parquet')`,
    );
    const str = (v: unknown): unknown => (v === null || v === undefined ? null : String(v));
    const got = rows.map((r) => [Number(r.snapshot), Number(r.page), Number(r.r), r.ticker, r.bid, r.ask, str(r.quote_ts_ns), r.last_price, str(r.last_ts_ns)]);
    expect(got).toEqual(expected.map((e) => [...e.slice(0, 6), str(e[6]), e[7], str(e[8])]));
    // the ns digits really are beyond double precision somewhere, and survived
    expect(expected.some((e) => typeof e[6] === 'string' && BigInt(e[6] as string) > 2n ** 53n && Number(e[6]) !== Number(BigInt(e[6] as string) + 1n))).toBe(true);
    // µs columns are the ns stamps truncated (the engine's rule)
    const trunc = await q(`select count(*) n from read_parquet('${out}/chain_quotes.parquet') where epoch_us(quote_ts_us) <> quote_ts_ns // 1000`);
    expect(Number(trunc[0]!.n)).toBe(0);
  });

  it('spot: the index V values', async () => {
    const expected: unknown[][] = [];
    for (const line of await streamLines(rec, 'indices')) {
      for (const ev of line.frame as Record<string, unknown>[]) if (ev.ev === 'V') expected.push([line.recv_us, (ev.t as number) * 1000, ev.T, ev.val]);
    }
    const rows = await q(`select epoch_us(recv_us) r, epoch_us(ts_us) t, ticker, value from read_parquet('${out}/spot.parquet')`);
    expect(rows.map((r) => [Number(r.r), Number(r.t), r.ticker, r.value])).toEqual(expected);
    expect(expected.length).toBeGreaterThan(10);
  });

  it('writes column statistics and the TIMESTAMP(MICROS, UTC) logical type', async () => {
    const meta = await q(
      `select path_in_schema p, stats_min_value mn, stats_max_value mx from parquet_metadata('${out}/trades.parquet') where path_in_schema in ('recv_us', 'ticker', 'price')`,
    );
    expect(meta.length).toBe(3);
    for (const m of meta) {
      expect(m.mn).not.toBeNull();
      expect(m.mx).not.toBeNull();
    }
    const schema = await q(`select name, converted_type, logical_type from parquet_schema('${out}/trades.parquet') where name = 'recv_us'`);
    expect(schema[0]!.converted_type).toBe('TIMESTAMP_MICROS');
    expect(String(schema[0]!.logical_type)).toMatch(/isAdjustedToUTC=1.*MICROS=MicroSeconds/);
  });

  it('is deterministic and independent of the row-group size', async () => {
    const again = path.join(work.dir, 'pq-again');
    const small = path.join(work.dir, 'pq-small');
    expect((await runCli(['convert', rec, '--to', 'parquet', '--out', again, '--no-progress'])).code).toBe(0);
    expect((await runCli(['convert', rec, '--to', 'parquet', '--out', small, '--row-group-size', '1000', '--no-progress'])).code).toBe(0);
    for (const f of await readdir(out)) expect(await readFile(path.join(again, f))).toEqual(await readFile(path.join(out, f)));
    const groups = await q(`select count(distinct row_group_id) g from parquet_metadata('${small}/trades.parquet')`);
    expect(Number(groups[0]!.g)).toBeGreaterThan(5);
    const diff = await q(
      `select count(*) n from (select * from read_parquet('${out}/trades.parquet') except all select * from read_parquet('${small}/trades.parquet'))`,
    );
    expect(Number(diff[0]!.n)).toBe(0);
  });

  it('refuses to overwrite tables without --overwrite (exit 2), replaces them with it', async () => {
    const r = await runCli(['convert', rec, '--to', 'parquet', '--out', out, '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already holds .*trades\.parquet.*--overwrite/);
    const ok = await runCli(['convert', rec, '--to', 'parquet', '--out', out, '--overwrite', '--no-progress']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('rejects --to other than parquet and a missing input with exit 2', async () => {
    const csv = await runCli(['convert', rec, '--to', 'csv', '--out', path.join(work.dir, 'x')]);
    expect(csv.code).toBe(2);
    expect(csv.stderr).toMatch(/use parquet or ndjson/);
    const missing = await runCli(['convert', path.join(work.dir, 'nope'), '--to', 'parquet', '--out', path.join(work.dir, 'x')]);
    expect(missing.code).toBe(2);
  });
});

describe('tile history: replay --parquet and convert of a versions file', () => {
  it('writes one row per upserted tile per version, the same either way', async () => {
    const hist = path.join(work.dir, 'hist');
    const versionsFile = path.join(work.dir, 'versions.ndjson');
    const r = await runCli(['replay', rec, '--strategies', 'fly,vertical', '--out', versionsFile, '--parquet', hist, '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const conv = path.join(work.dir, 'hist-conv');
    const c = await runCli(['convert', versionsFile, '--to', 'parquet', '--out', conv, '--no-progress']);
    expect(c.code, c.stderr).toBe(0);

    // The replay wrote format 2 (the default): fold it into format 1 to read the upserts.
    const folded: string[] = [];
    for await (const l of fold2to1((await readFile(versionsFile, 'utf8')).split('\n'))) folded.push(l);
    const versions = parseNdjson(folded.join('\n')).filter((o) => o.type === 'version') as unknown as {
      strategy: string;
      version: number;
      at_us: number;
      upserts: { key: string; value: number; score: number | null; ts_us: number; legs: { price: number }[] }[];
    }[];
    const expected = versions.flatMap((v) => v.upserts.map((t) => [v.strategy, v.version, v.at_us, t.key, t.value, t.score, t.ts_us, t.legs.map((l) => l.price)]));
    expect(expected.length).toBeGreaterThan(100);
    for (const dir of [hist, conv]) {
      const rows = await q(
        `select strategy, version, epoch_us(at_us) a, key, value, score, epoch_us(event_us) e, leg_prices from read_parquet('${dir}/tiles.parquet')`,
      );
      expect(rows.map((x) => [x.strategy, Number(x.version), Number(x.a), x.key, x.value, x.score, Number(x.e), x.leg_prices])).toEqual(expected);
    }
    const cols = await q(`describe select * from read_parquet('${hist}/tiles.parquet')`);
    const types = Object.fromEntries(cols.map((x) => [x.column_name, x.column_type]));
    expect(types).toMatchObject({ strikes: 'DOUBLE[]', leg_tickers: 'VARCHAR[]', leg_ts_us: 'TIMESTAMP WITH TIME ZONE[]', at_us: 'TIMESTAMP WITH TIME ZONE' });
  }, 60_000);

  it('counts bad version lines with their line numbers and goes on', async () => {
    const file = path.join(work.dir, 'bad-versions.ndjson');
    const good = (await readFile(path.join(work.dir, 'versions.ndjson'), 'utf8')).split('\n').filter((l) => l.startsWith('{"type":"version"')).slice(0, 3);
    await writeFile(file, [good[0], 'not json', good[1], '{"type":"version","strategy":"fly"}', good[2], '{"type":"summary"}'].join('\n') + '\n');
    const dir = path.join(work.dir, 'bad-hist');
    const r = await runCli(['convert', file, '--to', 'parquet', '--out', dir, '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const summary = parseNdjson(r.stdout)[0] as { bad: { total: number; reasons: Record<string, number> } };
    expect(summary.bad.reasons).toEqual({ bad_json: 1, version_bad_header: 1 });
    expect(r.stderr).toMatch(/bad_json: e\.g\. bad-versions\.ndjson:2/);
    expect(r.stderr).toMatch(/version_bad_header: e\.g\. bad-versions\.ndjson:4/);
    const n = await q(`select count(distinct version) v from read_parquet('${dir}/tiles.parquet')`);
    expect(Number(n[0]!.v)).toBeGreaterThan(0);
  });
});

describe('ParquetTableWriter', () => {
  const SPEC: TableSpec = {
    name: 't',
    columns: [
      { name: 'ts', type: 'timestamp_us' },
      { name: 'big', type: 'int64', nullable: true },
      { name: 'd', type: 'date' },
      { name: 's', type: 'string', nullable: true },
      { name: 'x', type: 'double', nullable: true },
      { name: 'ok', type: 'bool' },
      { name: 'ints', type: 'list_int32', nullable: true },
      { name: 'strs', type: 'list_string' },
    ],
  };

  it('round-trips nulls, lists, dates and INT64 beyond 2^53 across row groups', async () => {
    const dir = path.join(work.dir, 'unit');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 't.parquet');
    const w = ParquetTableWriter.open(file, SPEC, { rowGroupRows: 2 });
    const big = 2n ** 62n + 12345n;
    w.append({ ts: 1, big, d: '2025-11-21', s: 'a', x: 1.5, ok: true, ints: [209, 219], strs: ['p', 'q'] });
    w.append({ ts: 1763740812000001, big: null, d: '1970-01-01', s: null, x: null, ok: false, ints: [], strs: [] });
    w.append({ ts: 2 ** 52, big: 7, d: '2000-02-29', ok: true, ints: null, strs: ['é'] });
    const res = w.close();
    expect(res).toMatchObject({ rows: 3, rowGroups: 2 });
    expect((await readdir(dir)).sort()).toEqual(['t.parquet']); // no .tmp left
    const rows = await q(`select epoch_us(ts) ts, big, cast(d as varchar) d, s, x, ok, ints, strs from read_parquet('${file}')`);
    expect(rows).toEqual([
      { ts: 1n, big, d: '2025-11-21', s: 'a', x: 1.5, ok: true, ints: [209, 219], strs: ['p', 'q'] },
      { ts: 1763740812000001n, big: null, d: '1970-01-01', s: null, x: null, ok: false, ints: [], strs: [] },
      { ts: BigInt(2 ** 52), big: 7n, d: '2000-02-29', s: null, x: null, ok: true, ints: null, strs: ['é'] },
    ]);
  });

  it('writes a readable empty table', async () => {
    const file = path.join(work.dir, 'unit', 'empty.parquet');
    ParquetTableWriter.open(file, SPEC).close();
    const cols = await q(`describe select * from read_parquet('${file}')`);
    expect(cols.map((c) => c.column_name)).toEqual(SPEC.columns.map((c) => c.name));
    expect(Number((await q(`select count(*) n from read_parquet('${file}')`))[0]!.n)).toBe(0);
  });

  it('rejects a null in a required column and values of the wrong type', () => {
    const w = ParquetTableWriter.open(path.join(work.dir, 'unit', 'bad.parquet'), SPEC, { rowGroupRows: 1 });
    expect(() => w.append({ ts: null, d: '2025-01-01', ok: true, strs: [] })).toThrow(/column ts is required/);
    expect(() => w.append({ ts: 1.5, d: '2025-01-01', ok: true, strs: [] })).toThrow(/column ts \(timestamp_us\) cannot hold 1.5/);
    w.abort();
  });

  it('aborting removes the partial file', async () => {
    const dir = path.join(work.dir, 'unit-abort');
    await mkdir(dir, { recursive: true });
    const w = ParquetTableWriter.open(path.join(dir, 'x.parquet'), SPEC);
    w.append({ ts: 1, d: '2025-01-01', ok: true, strs: [] });
    w.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('convertRecording: damaged input', () => {
  it('counts bad lines and events with file:line, converts the rest, tabulates gaps', async () => {
    const dir = path.join(work.dir, 'damaged');
    const w = await RecordingWriter.create(dir, { underlying: 'I:SPX', source: 'massive', created_us: 1, flushIntervalMs: 0, gzip: false });
    const t = 1763735400000000;
    w.writeLine('options', wsLine(t, '[{"ev":"T","sym":"O:SPXW251121C05900000","x":302,"p":7.2,"s":3,"c":[209,219],"t":1763735400000,"q":18446744073709551615}]'));
    w.writeLine('options', wsLine(t + 1, '[{"ev":"T","sym":"O:BAD","p":1,"s":1,"t":1763735400000},{"ev":"T","sym":"O:SPXW251121P05900000","p":-1,"s":1,"t":1763735400000}]'));
    w.writeLine('options', `{"recv_us":${t + 2},"frame":[{"ev":"T"`); // torn JSON
    w.writeLine('options', wsLine(t + 3, '[{"ev":"status","status":"success","message":"ok"},{"ev":"A","sym":"O:X"}]'));
    w.writeLine('options', wsLine(t + 3, '[{"ev":"Q","sym":"O:SPXW251121C05900000","bx":302,"ax":303,"bp":7.1,"ap":7.3,"bs":17,"as":24,"t":1763735400001,"q":844090872}]'));
    w.writeLine('options', gapLine(t + 4, { stream: 'options', from_us: t, to_us: t + 4, reason: 'disconnect' }));
    w.writeLine(
      'chain',
      chainLine(
        { recv_us: t, req_us: t, snapshot: 0, page: 0, last: true, url: '/v3/snapshot/options/I:SPX', status: 200 },
        '{"results":[{"details":{"ticker":"O:SPXW251121C05900000"},"last_quote":{"bid":7,"ask":7.4,"last_updated":1763735399123456789}},{"details":{"ticker":"nope"}}],"status":"OK"}',
      ),
    );
    await w.close();
    const pq = path.join(work.dir, 'damaged-pq');
    const r = await convertRecording(dir, pq);
    expect(r.bad.toJSON()).toEqual({ bad_json: 1, chain_bad_ticker: 1, trade_bad_price: 1, trade_bad_ticker: 1, ws_ignored_A: 1 });
    expect(r.bad.sampleDetails().bad_json).toEqual(['options.ndjson:3']);
    const trades = await q(`select seq, conditions from read_parquet('${pq}/trades.parquet')`);
    // q beyond int64 is not a sequence we can store: null, the trade itself is kept
    expect(trades).toEqual([{ seq: null, conditions: [209, 219] }]);
    const gaps = await q(`select stream, epoch_us(from_us) f, epoch_us(to_us) t, reason from read_parquet('${pq}/gaps.parquet')`);
    expect(gaps).toEqual([{ stream: 'options', f: BigInt(t), t: BigInt(t + 4), reason: 'disconnect' }]);
    const chain = await q(`select ticker, mid, quote_ts_ns from read_parquet('${pq}/chain_quotes.parquet')`);
    expect(chain).toEqual([{ ticker: 'O:SPXW251121C05900000', mid: 7.2, quote_ts_ns: 1763735399123456789n }]);
    const quotes = await q(`select epoch_us(recv_us) r, epoch_us(ts_us) t, ticker, strike, bid, ask, bid_size, ask_size, bid_exchange, ask_exchange, mid, seq from read_parquet('${pq}/quotes.parquet')`);
    expect(quotes).toEqual([
      { r: BigInt(t + 3), t: 1763735400001000n, ticker: 'O:SPXW251121C05900000', strike: 5900, bid: 7.1, ask: 7.3, bid_size: 17, ask_size: 24, bid_exchange: 302, ask_exchange: 303, mid: (7.1 + 7.3) / 2, seq: 844090872n },
    ]);
    expect((await stat(path.join(pq, 'spot.parquet'))).size).toBeGreaterThan(0);
  });
});
