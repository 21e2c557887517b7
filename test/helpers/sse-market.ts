/**
 * A small deterministic market for the SSE and live tests: the raw Massive payloads (chain pages
 * with ns timestamps, options `T` frames, index `V` frames) of a few seconds of SPX around 5900,
 * written as a recording with the real writer. The payloads are built as text, the way Massive
 * sends them, so the whole decode path runs. A seeded generator makes every run identical.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { formatOptionTicker } from '../../src/massive/ticker.js';
import { chainLine, wsLine, type StreamName } from '../../src/recording/lines.js';
import { RecordingWriter } from '../../src/recording/writer.js';
import { EXP, MS, SEC, T0, modelPrice, strip } from './engine-fixtures.js';

export interface MarketLine {
  readonly stream: StreamName;
  readonly recv_us: number;
  /** The recording line (DESIGN §4), payload embedded verbatim. */
  readonly line: string;
}

export interface MarketOptions {
  /** Seconds of trading after the chain snapshot (default 20). */
  readonly seconds?: number;
  readonly seed?: number;
  /** Receive time of the chain snapshot's first page, ms after the first index value (default 300; may be negative). */
  readonly chainAtMs?: number;
  /** Move option frames that come shortly before an index value onto its receive time (ties across streams). */
  readonly ties?: boolean;
}

/** Strikes 5850..5950 step 5, both rights: 42 contracts of one SPXW expiration. */
export const STRIKES = Array.from({ length: 21 }, (_, i) => 5850 + 5 * i);

/** The engine config (as JSON, for `--config`) the market is built for: eager publishing. */
export const MARKET_CONFIG = {
  tick_ms: 100,
  topology: { expirations: [EXP], strike_band_points: 50, widths: [10] },
  strategies: {
    single: { publish: { min_changed: 1, min_changed_pct: null, min_score_delta: null, max_interval_ms: 1000, min_interval_ms: 0 } },
    vertical: { publish: { min_changed: 1, min_changed_pct: null, min_score_delta: null, max_interval_ms: 1000, min_interval_ms: 0 } },
    fly: { publish: { min_changed: 3, min_changed_pct: null, min_score_delta: null, max_interval_ms: 1000, min_interval_ms: 200 } },
    custom: [],
  },
};

/** mulberry32: a tiny seeded PRNG (test data only). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cents = (x: number): number => Math.max(0.05, Math.round(x * 20) / 20);

/** One chain page body, as Massive sends it (ns integers written as digits, never through a double). */
function chainBody(contracts: ReturnType<typeof strip>, spot: number, event_us: number): string {
  const results = contracts.map((c) => {
    const mark = modelPrice(c, spot);
    const bid = cents(mark - 0.1);
    const ask = cents(mark + 0.1);
    const ns = `${event_us}123`;
    return (
      `{"details":{"contract_type":"${c.right === 'C' ? 'call' : 'put'}","exercise_style":"european","expiration_date":"${c.expiration}",` +
      `"shares_per_contract":100,"strike_price":${c.strike},"ticker":"${c.ticker}"},` +
      `"last_quote":{"ask":${ask},"ask_size":10,"bid":${bid},"bid_size":12,"last_updated":${ns},"midpoint":${(bid + ask) / 2},"timeframe":"REAL-TIME"},` +
      `"last_trade":{"price":${cents(mark)},"sip_timestamp":${ns},"size":1,"exchange":302,"timeframe":"REAL-TIME"},` +
      `"underlying_asset":{"ticker":"I:SPX","value":4483.78,"last_updated":1680814651655000000,"timeframe":"REAL-TIME"}}`
    );
  });
  return `{"results":[${results.join(',')}],"status":"OK","request_id":"test"}`;
}

/** The market's recording lines in replay order (by receive time, then stream name). */
export function buildMarket(opts: MarketOptions = {}): MarketLine[] {
  const rand = rng(opts.seed ?? 7);
  const seconds = opts.seconds ?? 20;
  const contracts = strip(STRIKES);
  const out: MarketLine[] = [];
  let spot = 5900;
  const end = T0 + (seconds + 1) * SEC;
  // Index values every 250 ms, received 2 ms after their event time.
  const spots: { t: number; v: number }[] = [];
  for (let t = T0; t < end; t += 250 * MS) {
    spot = Math.round((spot + (rand() - 0.5) * 0.8) * 100) / 100;
    spots.push({ t, v: spot });
    out.push({ stream: 'indices', recv_us: t + 2 * MS, line: wsLine(t + 2 * MS, `[{"ev":"V","val":${spot},"T":"I:SPX","t":${t / MS}}]`) });
  }
  const spotAt = (t: number): number => spots.filter((s) => s.t <= t).at(-1)?.v ?? 5900;
  // One chain snapshot in two pages; quotes and trades stamped 1 s before receipt.
  const half = Math.ceil(contracts.length / 2);
  for (const [page, cs] of [contracts.slice(0, half), contracts.slice(half)].entries()) {
    const recv = T0 + (opts.chainAtMs ?? 300) * MS + page * 40 * MS;
    const meta = { recv_us: recv, req_us: recv - 20 * MS, snapshot: 1, page, last: page === 1, url: '/v3/snapshot/options/I:SPX?limit=250', status: 200 };
    out.push({ stream: 'chain', recv_us: recv, line: chainLine(meta, chainBody(cs, spotAt(recv), recv - SEC)) });
  }
  // Option trades: a frame every 40-160 ms with 1-3 trades, prices around the model.
  let q = 1000;
  for (let step = T0 + 500 * MS; step < end; step += Math.round(40 + rand() * 120) * MS) {
    // With `ties`, a frame up to 30 ms before the next index value is received at the same µs as it.
    const nextIndex = T0 + 2 * MS + Math.ceil((step - T0 - 2 * MS) / (250 * MS)) * 250 * MS;
    const t = opts.ties && nextIndex - step <= 30 * MS ? nextIndex : step;
    const n = 1 + Math.floor(rand() * 3);
    const events: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = contracts[Math.floor(rand() * contracts.length)]!;
      const price = cents(modelPrice(c, spotAt(t)) + (rand() - 0.5) * 0.6);
      events.push(`{"ev":"T","sym":"${c.ticker}","x":302,"p":${price},"s":${1 + Math.floor(rand() * 5)},"c":[209],"t":${(t - 5 * MS) / MS},"q":${q++}}`);
    }
    out.push({ stream: 'options', recv_us: t, line: wsLine(t, `[${events.join(',')}]`) });
  }
  return out.sort((a, b) => a.recv_us - b.recv_us || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
}

/** Writes the market as a recording directory (plain NDJSON, byte-deterministic) and its config file. */
export async function writeMarket(dir: string, opts: MarketOptions = {}): Promise<{ rec: string; config: string; lines: MarketLine[] }> {
  const rec = path.join(dir, 'rec');
  const w = await RecordingWriter.create(rec, { underlying: 'I:SPX', source: 'sim', created_us: T0, gzip: false, flushIntervalMs: 0 });
  const lines = buildMarket(opts);
  for (const l of lines) w.writeLine(l.stream, l.line);
  await w.close();
  const config = path.join(dir, 'config.json');
  await fsp.writeFile(config, JSON.stringify(MARKET_CONFIG, null, 2));
  return { rec, config, lines };
}

/** A ticker of the market (for assertions). */
export function marketTicker(strike: number, right: 'C' | 'P'): string {
  return formatOptionTicker('SPXW', EXP, right, strike);
}
