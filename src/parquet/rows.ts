import { midOrNull } from '../massive/quote-mid.js';
import type { Tally } from '../engine/tally.js';
import type { OptionContract } from '../engine/types.js';
import { parseOptionTicker } from '../massive/ticker.js';
import { msToUs, nsToUs, parseJsonLossless } from '../massive/timestamps.js';
import { isRecord, isValidPrice, isValidQuoteSide, reasonPart, toFiniteNumber } from '../massive/values.js';
import type { Row } from './table.js';
import type { RawLine } from '../recording/reader.js';

/**
 * Turns recording lines (DESIGN §4) into rows of the normalised tables (parquet-tables.ts). This is
 * the boundary adapter for `convert`: it reads the raw payloads itself — the engine's parsers keep
 * only what the engine needs (a price and a time), the tables keep sizes, exchanges, conditions,
 * greeks. Never throws on data: a bad line or event is counted in the tally (with `file:line`) and
 * skipped; valid events we do not tabulate (status, aggregates) are counted as `ws_ignored_*`.
 */

export type TableName = 'trades' | 'quotes' | 'chain_quotes' | 'spot' | 'gaps';
export type RowSink = (table: TableName, row: Row) => void;

type Obj = Record<string, unknown>;

export class RecordingRows {
  constructor(
    private readonly sink: RowSink,
    /** Bad lines/events by reason (details `file:line`). */
    readonly bad: Tally,
  ) {}

  /** Tabulates one line. */
  add(line: RawLine): void {
    const where = `${line.file}:${line.line_no}`;
    let obj: unknown;
    try {
      // Chain bodies carry 19-digit ns integers: they must not go through a double.
      obj = parseJsonLossless(line.text);
    } catch {
      this.bad.add('bad_json', where);
      return;
    }
    if (!isRecord(obj)) {
      this.bad.add('line_not_object', where);
      return;
    }
    if ('gap' in obj) return this.gap(obj.gap, line, where);
    if (line.stream === 'chain') return this.chainPage(obj, line, where);
    const frame = obj.frame;
    if (!Array.isArray(frame)) {
      this.bad.add('line_without_frame', where);
      return;
    }
    for (const ev of frame) {
      if (!isRecord(ev) || typeof ev.ev !== 'string') {
        this.bad.add('ws_bad_event', where);
        continue;
      }
      const kind = ev.ev;
      if (kind === 'status') continue;
      if (line.stream === 'options' && kind === 'T') this.optionTrade(ev, line, where);
      else if (line.stream === 'options' && kind === 'Q') this.optionQuote(ev, line, where);
      else if (line.stream === 'indices' && kind === 'V') this.indexValue(ev, line, where);
      else if (line.stream === 'stocks' && kind === 'T') this.stockTrade(ev, line, where);
      else this.bad.add(`ws_ignored_${reasonPart(kind)}`);
    }
  }

  private gap(gap: unknown, line: RawLine, where: string): void {
    if (!isRecord(gap) || !isUs(gap.from_us) || !isUs(gap.to_us) || typeof gap.reason !== 'string') {
      this.bad.add('bad_gap', where);
      return;
    }
    const stream = typeof gap.stream === 'string' ? gap.stream : line.stream;
    this.sink('gaps', { recv_us: line.recv_us, stream, from_us: gap.from_us, to_us: gap.to_us, reason: gap.reason });
  }

  private optionTrade(ev: Obj, line: RawLine, where: string): void {
    const c = this.contract(ev.sym, where, 'trade');
    if (!c) return;
    const ts = msToUs(ev.t);
    if (!isValidPrice(ev.p) || ts === null) {
      this.bad.add(ts === null ? 'trade_bad_ts' : 'trade_bad_price', where);
      return;
    }
    this.sink('trades', {
      recv_us: line.recv_us,
      ts_us: ts,
      ...contractCells(c),
      price: ev.p,
      size: finite(ev.s),
      exchange: int32(ev.x),
      conditions: intList(ev.c),
      seq: int64(ev.q),
    });
  }

  private optionQuote(ev: Obj, line: RawLine, where: string): void {
    const c = this.contract(ev.sym, where, 'quote');
    if (!c) return;
    const ts = msToUs(ev.t);
    const bid = ev.bp;
    const ask = ev.ap;
    if (!isValidQuoteSide(bid) || !isValidQuoteSide(ask) || ts === null) {
      this.bad.add(ts === null ? 'quote_bad_ts' : 'quote_bad_price', where);
      return;
    }
    this.sink('quotes', {
      recv_us: line.recv_us,
      ts_us: ts,
      ...contractCells(c),
      bid,
      ask,
      bid_size: finite(ev.bs),
      ask_size: finite(ev.as),
      bid_exchange: int32(ev.bx),
      ask_exchange: int32(ev.ax),
      mid: midOrNull(bid, ask),
      seq: int64(ev.q),
    });
  }

  private indexValue(ev: Obj, line: RawLine, where: string): void {
    const ticker = ev.T;
    const value = toFiniteNumber(ev.val);
    const ts = msToUs(ev.t);
    if (typeof ticker !== 'string' || ticker === '' || value === null || !isValidPrice(value) || ts === null) {
      this.bad.add('spot_bad_value', where);
      return;
    }
    this.sink('spot', { recv_us: line.recv_us, ts_us: ts, ticker, value, source: 'index', seq: null });
  }

  private stockTrade(ev: Obj, line: RawLine, where: string): void {
    const ticker = ev.sym;
    const ts = msToUs(ev.t);
    if (typeof ticker !== 'string' || ticker === '' || !isValidPrice(ev.p) || ts === null) {
      this.bad.add('spot_bad_value', where);
      return;
    }
    this.sink('spot', { recv_us: line.recv_us, ts_us: ts, ticker, value: ev.p, source: 'stock', seq: int64(ev.q) });
  }

  private chainPage(obj: Obj, line: RawLine, where: string): void {
    const { snapshot, page, status, body } = obj;
    if (!isUs(snapshot) || !isUs(page) || page > 2147483647 || body === undefined) {
      this.bad.add('chain_bad_envelope', where);
      return;
    }
    if (status !== undefined && status !== 200) {
      this.bad.add(`chain_http_${reasonPart(String(status))}`, where);
      return;
    }
    const results = isRecord(body) ? body.results : undefined;
    if (!Array.isArray(results)) {
      this.bad.add('chain_bad_body', where);
      return;
    }
    for (const item of results) {
      if (!isRecord(item) || !isRecord(item.details)) {
        this.bad.add('chain_bad_item', where);
        continue;
      }
      const c = this.contract(item.details.ticker, where, 'chain');
      if (!c) continue;
      const q = isRecord(item.last_quote) ? item.last_quote : {};
      const t = isRecord(item.last_trade) ? item.last_trade : {};
      const g = isRecord(item.greeks) ? item.greeks : {};
      const d = isRecord(item.day) ? item.day : {};
      const bid = finite(q.bid);
      const ask = finite(q.ask);
      const qts = nsStamp(q.last_updated);
      const tts = nsStamp(t.sip_timestamp);
      this.sink('chain_quotes', {
        snapshot,
        page,
        recv_us: line.recv_us,
        ...contractCells(c),
        bid,
        ask,
        bid_size: finite(q.bid_size),
        ask_size: finite(q.ask_size),
        mid: bid !== null && ask !== null ? midOrNull(bid, ask) : null,
        quote_ts_us: qts?.us ?? null,
        quote_ts_ns: qts?.ns ?? null,
        last_price: finite(t.price),
        last_size: finite(t.size),
        last_exchange: int32(t.exchange),
        last_conditions: intList(t.conditions),
        last_ts_us: tts?.us ?? null,
        last_ts_ns: tts?.ns ?? null,
        iv: finite(item.implied_volatility),
        delta: finite(g.delta),
        gamma: finite(g.gamma),
        theta: finite(g.theta),
        vega: finite(g.vega),
        open_interest: finite(item.open_interest),
        day_open: finite(d.open),
        day_high: finite(d.high),
        day_low: finite(d.low),
        day_close: finite(d.close),
        day_volume: finite(d.volume),
        day_vwap: finite(d.vwap),
      });
    }
  }

  private contract(sym: unknown, where: string, what: string): OptionContract | null {
    const parsed = typeof sym === 'string' ? parseOptionTicker(sym) : null;
    if (parsed === null || !parsed.ok) {
      this.bad.add(`${what}_bad_ticker`, where);
      return null;
    }
    return parsed.contract;
  }
}

function contractCells(c: OptionContract): Row {
  return { ticker: c.ticker, root: c.root, expiration: c.expiration, right: c.right, strike: c.strike };
}

const isUs = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A finite JSON number, else null (strings, NaN, missing). */
function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function int32(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? v : null;
}

/** An integer sequence: a safe JS number, or the digit string lossless parsing made of a big one. */
function int64(v: unknown): bigint | number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) {
    const b = BigInt(v);
    return b >= -(2n ** 63n) && b < 2n ** 63n ? b : null;
  }
  return null;
}

/** Condition ids: null when absent or not a list of int32s, [] when empty. */
function intList(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  const out: number[] = [];
  for (const x of v) {
    const n = int32(x);
    if (n === null) return null;
    out.push(n);
  }
  return out;
}


/** A Massive ns timestamp → µs (truncated) and the exact ns integer; null when not a plausible ns stamp. */
function nsStamp(v: unknown): { us: number; ns: bigint } | null {
  const us = nsToUs(v);
  if (us === null) return null;
  // nsToUs accepted it, so it is an 18–19 digit string or an integer-valued double.
  return { us, ns: BigInt(v as string | number) };
}
