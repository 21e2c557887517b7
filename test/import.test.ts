import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../src/massive/timestamps.js';
import { detectKind, parseConditions, stampToUs } from '../src/flatfile/csv.js';
import { importFlatFiles } from '../src/flatfile/import.js';
import { ROOT, parseNdjson, runCli, tempDir } from './helpers/cli.js';

// Massive flat files → recording → replay. Fixtures (fixtures/flatfiles/) follow the documented
// headers: trades_v1 with 7 columns (plain) and 8 columns (gzip), quotes_v1, day_aggs_v1 and an
// index values file, each with a few bad rows at known line numbers.

const FX = path.join(ROOT, 'fixtures', 'flatfiles');
const TRADES7 = path.join(FX, 'trades_v1-2025-11-21.csv');
const TRADES8 = path.join(FX, 'trades_v1-8col-2025-11-21.csv.gz');
const QUOTES = path.join(FX, 'quotes_v1-2025-11-21.csv');
const AGGS = path.join(FX, 'day_aggs_v1-2025-11-20.csv');
const VALUES = path.join(FX, 'values-I_SPX-2025-11-21.csv');
const ALL = [AGGS, TRADES7, TRADES8, QUOTES, VALUES];

let work: { dir: string; cleanup: () => Promise<void> };
let all: string;
let summary: Record<string, unknown>;

/** Every line of one stream of a recording (lossless: ns digits stay strings). */
async function streamLines(dir: string, stream: string): Promise<Record<string, unknown>[]> {
  const files = (await readdir(dir)).filter((f) => f.startsWith(`${stream}.`)).sort();
  const out: Record<string, unknown>[] = [];
  for (const f of files) {
    const text = gunzipSync(await readFile(path.join(dir, f))).toString('utf8');
    for (const l of text.split('\n')) if (l) out.push(parseJsonLossless(l) as Record<string, unknown>);
  }
  return out;
}

async function filesOf(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = await readFile(path.join(dir, f));
  return out;
}

beforeAll(async () => {
  work = await tempDir();
  all = path.join(work.dir, 'all');
  const r = await runCli(['import', ...ALL, '--out', all, '--no-progress']);
  expect(r.code, r.stderr).toBe(0);
  summary = parseNdjson(r.stdout)[0]!;
}, 60_000);

afterAll(async () => {
  await work.cleanup();
});

describe('heatmap import: flat files → recording', () => {
  it('detects each file by its header and keeps the in-scope rows', () => {
    const files = summary.files as { file: string; kind: string; rows: number; events: number }[];
    expect(files.map((f) => [path.basename(f.file), f.kind, f.rows, f.events])).toEqual([
      ['day_aggs_v1-2025-11-20.csv', 'aggs', 20, 18],
      ['trades_v1-2025-11-21.csv', 'trades', 46, 40],
      ['trades_v1-8col-2025-11-21.csv.gz', 'trades', 21, 20],
      ['quotes_v1-2025-11-21.csv', 'quotes', 91, 89],
      ['values-I_SPX-2025-11-21.csv', 'values', 22, 18],
    ]);
    expect(summary.events).toEqual({ T: 60, Q: 89, A: 18, V: 18, S: 0 });
  });

  it('counts rows that do not parse and reports them with file:line', () => {
    const bad = summary.bad as { total: number; reasons: Record<string, number>; samples: Record<string, string[]> };
    expect(bad.reasons).toEqual({ bad_price: 3, bad_ticker: 1, bad_timestamp: 1, bad_value: 1, csv_bad_quoting: 1, wrong_column_count: 2 });
    expect(bad.samples).toEqual({
      bad_price: ['day_aggs_v1-2025-11-20.csv:21', 'trades_v1-2025-11-21.csv:4', 'quotes_v1-2025-11-21.csv:6'],
      bad_ticker: ['trades_v1-2025-11-21.csv:22'],
      bad_timestamp: ['trades_v1-2025-11-21.csv:16'],
      bad_value: ['values-I_SPX-2025-11-21.csv:7'],
      // an unclosed quote is one bad row, not the end of the file
      csv_bad_quoting: ['trades_v1-8col-2025-11-21.csv.gz:5'],
      wrong_column_count: ['trades_v1-2025-11-21.csv:10', 'quotes_v1-2025-11-21.csv:10'],
    });
    expect(summary.ignored).toEqual({ corrected_trade: 1, other_index: 3, other_root: 2 });
  });

  it('writes a v1 recording with source "import" and receive time = event time', async () => {
    const manifest = JSON.parse(await readFile(path.join(all, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ format: 'heatmap-recording', version: 1, underlying: 'I:SPX', source: 'import', created_us: 1763614800000000 });
    const options = await streamLines(all, 'options');
    const events = options.flatMap((l) => (l.frame as Record<string, unknown>[]).map((ev) => ({ recv: l.recv_us as number, ev })));
    expect(events.length).toBe(60);
    // trades_v1-2025-11-21.csv line 2: quoted multi-value conditions, ns → µs (recv) and ms (WS t)
    const first = events.find((e) => e.ev.sym === 'O:SPXW251121C05880000' && e.ev.p === 23.44)!;
    expect(first.recv).toBe(1763735413376492);
    expect(first.ev).toEqual({ ev: 'T', sym: 'O:SPXW251121C05880000', x: 316, p: 23.44, s: 2, c: [209, 219], t: 1763735413376, q: first.ev.q });
    // frames are in time order, q counts the trades in that order
    expect(events.map((e) => e.recv)).toEqual([...events.map((e) => e.recv)].sort((a, b) => a - b));
    expect(events.map((e) => e.ev.q)).toEqual(events.map((_, i) => i + 1));
    const indices = await streamLines(all, 'indices');
    expect(indices.length).toBe(18);
    expect(indices[0]).toEqual({ recv_us: 1763735400000000, frame: [{ ev: 'V', val: 5900, T: 'I:SPX', t: 1763735400000 }] });
  });

  it('synthesises chain snapshots in the REST page shape: last quote and trade per ticker before the snapshot time', async () => {
    const chain = await streamLines(all, 'chain');
    // day aggs (2025-11-20 05:00Z) → one snapshot a minute later; 2025-11-21 14:30–14:32 → three
    expect(chain.map((l) => [l.recv_us, l.snapshot, l.page, l.last, l.status])).toEqual([
      [1763614860000000, 0, 0, true, 200],
      [1763735460000000, 1, 0, true, 200],
      [1763735520000000, 2, 0, true, 200],
      [1763735580000000, 3, 0, true, 200],
    ]);
    const at1431 = (chain[1]!.body as { results: Record<string, Record<string, unknown>>[] }).results;
    expect(at1431.map((r) => r.details!.ticker)).toEqual([...at1431.map((r) => r.details!.ticker)].sort());
    const c5880 = at1431.find((r) => r.details!.ticker === 'O:SPXW251121C05880000')!;
    // quotes at 14:30:00.25 and 14:30:37.73 precede 14:31; the one at 14:31:15 does not
    expect(c5880.last_quote).toEqual({ ask: 24.25, ask_exchange: 302, ask_size: 35, bid: 24.15, bid_exchange: 302, bid_size: 7, last_updated: '1763735437733238596' });
    // trade at 14:30:13.38 (the one at 14:31:50 is later); ns digits copied exactly
    expect(c5880.last_trade).toEqual({ conditions: [209, 219], exchange: 316, price: 23.44, sip_timestamp: '1763735413376492167', size: 2 });
    expect(c5880.day).toMatchObject({ close: 19.07, last_updated: '1763614800000000000' });
    expect(c5880.details).toEqual({ contract_type: 'call', expiration_date: '2025-11-21', strike_price: 5880, ticker: 'O:SPXW251121C05880000' });
  });

  it('replays: the engine builds a topology and publishes versions for every strategy', async () => {
    const r = await runCli(['replay', all]);
    expect(r.code, r.stderr).toBe(0);
    const lines = parseNdjson(r.stdout);
    const s = lines.at(-1) as { type: string; bad: { total: number }; topology: unknown; strategies: Record<string, { versions: number }> };
    expect(s.type).toBe('summary');
    expect(s.bad.total).toBe(0);
    expect(s.topology).not.toBeNull();
    for (const name of ['single', 'vertical', 'fly']) expect(s.strategies[name]!.versions).toBeGreaterThan(0);
  }, 60_000);

  it('same-day files alone: topology from the index spot at the first snapshot', async () => {
    const dir = path.join(work.dir, 'sameday');
    const imp = await runCli(['import', TRADES7, QUOTES, VALUES, '--out', dir, '--snapshot-every', '30s', '--no-progress']);
    expect(imp.code, imp.stderr).toBe(0);
    const r = await runCli(['replay', dir]);
    expect(r.code, r.stderr).toBe(0);
    const s = parseNdjson(r.stdout).at(-1) as { topology: { spot_source: string; built_at_us: number; spot: number }; strategies: Record<string, { versions: number }> };
    expect(s.topology).toMatchObject({ spot_source: 'index', built_at_us: 1763735430000000, spot: 5900.96 });
    for (const v of Object.values(s.strategies)) expect(v.versions).toBeGreaterThan(0);
  }, 60_000);

  it('is deterministic: same inputs, same bytes — whether or not the sort spills to disk', async () => {
    const a = path.join(work.dir, 'det-a');
    const b = path.join(work.dir, 'det-b');
    const opts = { underlying: 'I:SPX', snapshotEveryMs: 60_000 };
    const ra = await importFlatFiles(ALL, a, opts);
    const rb = await importFlatFiles(ALL, b, { ...opts, runLimit: 7 });
    expect(ra.spilled).toBe(0);
    expect(rb.spilled).toBeGreaterThan(10);
    expect(await filesOf(b)).toEqual(await filesOf(a)); // also: no temporary run directory left behind
    expect(await filesOf(a)).toEqual(await filesOf(all));
  });

  it('reads columns by header name: reordered columns and CRLF give the same recording', async () => {
    const text = await readFile(TRADES7, 'utf8');
    const rows = text.trimEnd().split('\n').map(splitCsvLine);
    const order = [6, 5, 4, 3, 2, 1, 0];
    const shuffled = rows.map((r) => (r.length === 7 ? order.map((i) => r[i]).join(',') : r.join(','))).join('\r\n') + '\r\n';
    const file = path.join(work.dir, 'trades-reordered.csv');
    await writeFile(file, shuffled);
    const a = path.join(work.dir, 'order-a');
    const b = path.join(work.dir, 'order-b');
    const ra = await importFlatFiles([TRADES7], a, { underlying: 'I:SPX', snapshotEveryMs: 60_000, spot: 5900 });
    const rb = await importFlatFiles([file], b, { underlying: 'I:SPX', snapshotEveryMs: 60_000, spot: 5900 });
    expect(rb.events).toEqual(ra.events);
    expect(rb.bad.toJSON()).toEqual(ra.bad.toJSON());
    expect(rb.bad.sampleDetails().bad_ticker).toEqual(['trades-reordered.csv:22']);
    expect((await filesOf(b))['options.ndjson.gz']).toEqual((await filesOf(a))['options.ndjson.gz']);
  });

  it('--spot N writes one index value at the first event', async () => {
    const dir = path.join(work.dir, 'spot');
    const r = await runCli(['import', TRADES8, '--out', dir, '--spot', '5901.5', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const indices = await streamLines(dir, 'indices');
    const options = await streamLines(dir, 'options');
    expect(indices).toEqual([{ recv_us: options[0]!.recv_us, frame: [{ ev: 'V', val: 5901.5, T: 'I:SPX', t: Math.floor((options[0]!.recv_us as number) / 1000) }] }]);
  });

  it('an ETF underlying takes its spot from its own trades (stocks stream)', async () => {
    const stocks = path.join(work.dir, 'spy-stock-trades.csv');
    await writeFile(
      stocks,
      'ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,sip_timestamp,size,tape,trf_id,trf_timestamp\n' +
        'SPY,"12,37",0,11,52983525029462,1763735400000000100,590.12,1001,1763735400000001000,100,1,,\n' +
        'QQQ,,0,11,1,1763735400100000000,510.00,1002,1763735400100000000,5,3,,\n' +
        'SPY,,0,4,52983525029463,1763735401000000000,590.10,1003,1763735401000000500,20,1,,\n',
    );
    const opts = path.join(work.dir, 'spy-options.csv');
    await writeFile(opts, 'ticker,conditions,correction,exchange,price,sip_timestamp,size\nO:SPY251121C00590000,209,0,302,3.10,1763735400500000000,1\n');
    const dir = path.join(work.dir, 'spy');
    const r = await importFlatFiles([stocks, opts], dir, { underlying: 'SPY', snapshotEveryMs: 60_000 });
    expect(r.events).toEqual({ T: 1, Q: 0, A: 0, V: 0, S: 2 });
    expect(r.ignored.toJSON()).toEqual({ other_ticker: 1 });
    const lines = await streamLines(dir, 'stocks');
    expect(lines.map((l) => l.frame)).toEqual([
      [{ ev: 'T', sym: 'SPY', x: 11, p: 590.12, s: 100, t: 1763735400000, q: 1001 }],
      [{ ev: 'T', sym: 'SPY', x: 4, p: 590.1, s: 20, t: 1763735401000, q: 1003 }],
    ]);
  });

  it('fails with exit 2 on an unknown header, a missing file, or nothing in scope', async () => {
    const odd = path.join(work.dir, 'odd.csv');
    await writeFile(odd, 'a,b,c\n1,2,3\n');
    const r1 = await runCli(['import', odd, '--out', path.join(work.dir, 'x1')]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/header "a,b,c" is not a Massive flat file/);
    const r2 = await runCli(['import', path.join(work.dir, 'missing.csv'), '--out', path.join(work.dir, 'x2')]);
    expect(r2.code).toBe(2);
    const r3 = await runCli(['import', TRADES7, '--underlying', 'I:NDX', '--out', path.join(work.dir, 'x3'), '--no-progress']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/no rows of I:NDX/);
    const r4 = await runCli(['import', TRADES7, '--out', all]);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/already holds a recording/);
  });
});

/** Splits one CSV line on commas outside quotes (quotes kept). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuotes = false;
  for (const ch of line) {
    if (ch === '"') inQuotes = !inQuotes;
    if (ch === ',' && !inQuotes) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

describe('flat-file field parsers', () => {
  it('detects kinds by header names, in any order', () => {
    expect(detectKind('ticker,conditions,correction,exchange,price,sip_timestamp,size'.split(','))).toBe('trades');
    expect(detectKind('size,sip_timestamp,price,participant_timestamp,exchange,correction,conditions,ticker'.split(','))).toBe('trades');
    expect(detectKind('ticker,ask_exchange,ask_price,ask_size,bid_exchange,bid_price,bid_size,sequence_number,sip_timestamp'.split(','))).toBe('quotes');
    expect(detectKind('ticker,volume,open,close,high,low,window_start,transactions'.split(','))).toBe('aggs');
    expect(detectKind(['Ticker', 'Value', 'Timestamp'])).toBe('values');
    expect(detectKind(['ticker', 'price'])).toBeNull();
  });

  it('parses conditions lists', () => {
    expect(parseConditions('')).toEqual([]);
    expect(parseConditions('227')).toEqual([227]);
    expect(parseConditions('12,37')).toEqual([12, 37]);
    expect(parseConditions('12,x')).toBeUndefined();
  });

  it('normalises value timestamps by magnitude (ns, µs, ms, s)', () => {
    expect(stampToUs('1763735400123456789')).toBe(1763735400123456);
    expect(stampToUs('1763735400123456')).toBe(1763735400123456);
    expect(stampToUs('1763735400123')).toBe(1763735400123000);
    expect(stampToUs('1763735400')).toBe(1763735400000000);
    expect(stampToUs('12')).toBeNull();
    expect(stampToUs('-5')).toBeNull();
  });
});
