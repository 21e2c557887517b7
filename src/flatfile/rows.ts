import { parseOptionTicker } from '../massive/ticker.js';
import { nsToUs } from '../massive/timestamps.js';
import { isValidPrice, isValidQuoteSide } from '../massive/values.js';
import type { Tally } from '../engine/tally.js';

/**
 * Rows of Massive flat files (massive-wire.md §5) → typed import events. Columns are looked up by
 * header name, never by position. A row parser returns an event, null for a valid row that is out
 * of scope (counted in `report.ignored`), or the reason the row is bad.
 */

/** What a flat file holds, decided from its header. */
export type FlatFileKind = 'trades' | 'quotes' | 'aggs' | 'values';

/** One fact of the import, in a compact JSON-safe shape (it may be spilled to disk for sorting). */
export type ImportEvent =
  /** Option trade (trades_v1). `ns` is the exact `sip_timestamp` digit string. */
  | { k: 'T'; us: number; n: number; sym: string; p: number; s: number; x: number | null; c: number[]; ns: string; q: number | null }
  /** Option quote (quotes_v1). */
  | {
      k: 'Q';
      us: number;
      n: number;
      sym: string;
      bp: number;
      ap: number;
      bs: number | null;
      as: number | null;
      bx: number | null;
      ax: number | null;
      ns: string;
      q: number | null;
    }
  /** Option aggregate bar (day_aggs_v1 / minute_aggs_v1), stamped at `window_start`. */
  | { k: 'A'; us: number; n: number; sym: string; o: number | null; h: number | null; l: number | null; c: number; v: number | null; ns: string }
  /** Index value (us_indices values: `ticker,value,timestamp`). */
  | { k: 'V'; us: number; n: number; sym: string; val: number }
  /** A trade of the underlying ETF itself (a stocks trades file): ETF spot. */
  | { k: 'S'; us: number; n: number; sym: string; p: number; s: number; x: number | null; q: number | null };

/** What the row parsers need to know about the import. */
export interface ImportScope {
  /** `I:SPX` (index spot from values files) or an ETF symbol such as `SPY` (spot from its trades). */
  readonly underlying: string;
  /** Option roots to keep, e.g. SPX and SPXW. */
  readonly roots: ReadonlySet<string>;
}

/** Counters a file read reports into. */
export interface RowReport {
  /** Bad rows by reason, details `file:line`. */
  readonly bad: Tally;
  /** Valid rows that are out of scope, by reason. */
  readonly ignored: Tally;
}

/** Columns each kind must have (others are optional or ignored). */
export const REQUIRED_COLUMNS: Record<FlatFileKind, readonly string[]> = {
  quotes: ['ticker', 'bid_price', 'ask_price', 'sip_timestamp'],
  aggs: ['ticker', 'close', 'window_start'],
  trades: ['ticker', 'price', 'size', 'sip_timestamp'],
  values: ['ticker', 'value', 'timestamp'],
};

/** The kind of file a header describes, by the columns it names (first match in this order). */
export function detectKind(header: readonly string[]): FlatFileKind | null {
  const names = new Set(header.map((h) => h.trim().toLowerCase()));
  for (const kind of ['quotes', 'aggs', 'trades', 'values'] as const) {
    if (REQUIRED_COLUMNS[kind].every((c) => names.has(c))) return kind;
  }
  return null;
}


/** Column name → index, from the header row. */
export type Columns = ReadonlyMap<string, number>;

/** Parses one data row: an event, null (ignored, counted by the parser), or a bad-row reason. */
export type RowParser = (r: readonly string[], cols: Columns, scope: ImportScope, report: RowReport, next: () => number) => ImportEvent | null | string;

export const ROW_PARSERS: Record<FlatFileKind, RowParser> = { trades: tradeRow, quotes: quoteRow, aggs: aggRow, values: valueRow };

const field = (r: readonly string[], cols: Columns, name: string): string | undefined => {
  const i = cols.get(name);
  return i === undefined ? undefined : r[i];
};

const DECIMAL_RE = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const INT_RE = /^\d+$/;
const STOCK_RE = /^[A-Z][A-Z0-9.]*$/;

/** A strict decimal; '' and junk → undefined. */
function decimal(s: string | undefined): number | undefined {
  if (s === undefined || !DECIMAL_RE.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** An optional non-negative integer column: absent/'' → null, junk → undefined (bad). */
function optInt(s: string | undefined): number | null | undefined {
  if (s === undefined || s === '') return null;
  if (!INT_RE.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** An optional non-negative decimal column (sizes, volume): absent/'' → null, junk → undefined. */
function optSize(s: string | undefined): number | null | undefined {
  if (s === undefined || s === '') return null;
  const n = decimal(s);
  return n !== undefined && n >= 0 ? n : undefined;
}

/** `conditions`: '' → [], `227` → [227], `"12,37"` (quoted) → [12, 37]; junk → undefined. */
export function parseConditions(s: string | undefined): number[] | undefined {
  if (s === undefined || s === '') return [];
  const out: number[] = [];
  for (const part of s.split(',')) {
    const n = optInt(part.trim());
    if (n === null || n === undefined || n > 2147483647) return undefined;
    out.push(n);
  }
  return out;
}

/** A ns stamp column → { us, ns digits }; undefined when it is not a plausible ns time. */
function nsField(s: string | undefined): { us: number; ns: string } | undefined {
  if (s === undefined) return undefined;
  const us = nsToUs(s);
  return us === null ? undefined : { us, ns: s };
}

/** Option ticker in scope → ok; other root → null (ignored, counted); malformed → undefined. */
function optionInScope(ticker: string, scope: ImportScope, report: RowReport): boolean | null | undefined {
  const parsed = parseOptionTicker(ticker);
  if (!parsed.ok) return undefined;
  if (!scope.roots.has(parsed.contract.root)) {
    report.ignored.add('other_root');
    return null;
  }
  return true;
}

function tradeRow(r: readonly string[], cols: Columns, scope: ImportScope, report: RowReport, next: () => number): ImportEvent | null | string {
  const ticker = field(r, cols, 'ticker') ?? '';
  const isOption = ticker.startsWith('O:');
  if (isOption) {
    const ok = optionInScope(ticker, scope, report);
    if (ok === undefined) return 'bad_ticker';
    if (ok === null) return null;
  } else if (ticker !== scope.underlying) {
    if (!STOCK_RE.test(ticker)) return 'bad_ticker';
    report.ignored.add('other_ticker');
    return null;
  }
  const price = decimal(field(r, cols, 'price'));
  if (!isValidPrice(price)) return 'bad_price';
  const size = optSize(field(r, cols, 'size'));
  if (size === undefined || size === null) return 'bad_size';
  const ts = nsField(field(r, cols, 'sip_timestamp'));
  if (!ts) return 'bad_timestamp';
  const exchange = optInt(field(r, cols, 'exchange'));
  if (exchange === undefined) return 'bad_exchange';
  const seq = optInt(field(r, cols, 'sequence_number'));
  if (seq === undefined) return 'bad_sequence';
  const correction = field(r, cols, 'correction');
  if (correction !== undefined && correction !== '' && correction !== '0') {
    if (optInt(correction) === undefined) return 'bad_correction';
    // A corrected or cancelled print is not a price to mark at.
    report.ignored.add('corrected_trade');
    return null;
  }
  if (!isOption) return { k: 'S', us: ts.us, n: next(), sym: ticker, p: price, s: size, x: exchange, q: seq };
  const conditions = parseConditions(field(r, cols, 'conditions'));
  if (!conditions) return 'bad_conditions';
  return { k: 'T', us: ts.us, n: next(), sym: ticker, p: price, s: size, x: exchange, c: conditions, ns: ts.ns, q: seq };
}

function quoteRow(r: readonly string[], cols: Columns, scope: ImportScope, report: RowReport, next: () => number): ImportEvent | null | string {
  const ticker = field(r, cols, 'ticker') ?? '';
  const ok = optionInScope(ticker, scope, report);
  if (ok === undefined) return 'bad_ticker';
  if (ok === null) return null;
  const bid = decimal(field(r, cols, 'bid_price'));
  const ask = decimal(field(r, cols, 'ask_price'));
  if (!isValidQuoteSide(bid) || !isValidQuoteSide(ask)) return 'bad_price';
  const bs = optSize(field(r, cols, 'bid_size'));
  const as = optSize(field(r, cols, 'ask_size'));
  if (bs === undefined || as === undefined) return 'bad_size';
  const bx = optInt(field(r, cols, 'bid_exchange'));
  const ax = optInt(field(r, cols, 'ask_exchange'));
  if (bx === undefined || ax === undefined) return 'bad_exchange';
  const ts = nsField(field(r, cols, 'sip_timestamp'));
  if (!ts) return 'bad_timestamp';
  const seq = optInt(field(r, cols, 'sequence_number'));
  if (seq === undefined) return 'bad_sequence';
  return { k: 'Q', us: ts.us, n: next(), sym: ticker, bp: bid, ap: ask, bs, as, bx, ax, ns: ts.ns, q: seq };
}

function aggRow(r: readonly string[], cols: Columns, scope: ImportScope, report: RowReport, next: () => number): ImportEvent | null | string {
  const ticker = field(r, cols, 'ticker') ?? '';
  const ok = optionInScope(ticker, scope, report);
  if (ok === undefined) return 'bad_ticker';
  if (ok === null) return null;
  const close = decimal(field(r, cols, 'close'));
  if (!isValidPrice(close)) return 'bad_price';
  const opt = (name: string): number | null | undefined => {
    const s = field(r, cols, name);
    if (s === undefined || s === '') return null;
    const n = decimal(s);
    return n !== undefined && n >= 0 ? n : undefined;
  };
  const o = opt('open');
  const h = opt('high');
  const l = opt('low');
  const v = opt('volume');
  if (o === undefined || h === undefined || l === undefined) return 'bad_price';
  if (v === undefined) return 'bad_size';
  const ts = nsField(field(r, cols, 'window_start'));
  if (!ts) return 'bad_timestamp';
  return { k: 'A', us: ts.us, n: next(), sym: ticker, o, h, l, c: close, v, ns: ts.ns };
}

function valueRow(r: readonly string[], cols: Columns, scope: ImportScope, report: RowReport, next: () => number): ImportEvent | null | string {
  const ticker = field(r, cols, 'ticker') ?? '';
  if (ticker === '') return 'bad_ticker';
  const value = decimal(field(r, cols, 'value'));
  if (!isValidPrice(value)) return 'bad_value';
  const us = stampToUs(field(r, cols, 'timestamp'));
  if (us === null) return 'bad_timestamp';
  if (ticker !== scope.underlying) {
    report.ignored.add('other_index');
    return null;
  }
  return { k: 'V', us, n: next(), sym: ticker, val: value };
}

/** 2000-01-01 and 2100-01-01 in µs: the plausible window (as in massive/timestamps.ts). */
const MIN_US = 946_684_800_000_000;
const MAX_US = 4_102_444_800_000_000;

/**
 * An integer timestamp of unknown unit → µs, by magnitude (DESIGN §2.1 advice): ≥ 1e17 ns,
 * ≥ 1e14 µs, ≥ 1e11 ms, else seconds. The values file's unit is not documented (ns expected).
 */
export function stampToUs(s: string | undefined): number | null {
  if (s === undefined || !INT_RE.test(s)) return null;
  let us: number;
  if (s.length >= 18) {
    const v = nsToUs(s);
    if (v === null) return null;
    us = v;
  } else {
    const n = Number(s);
    us = n >= 1e14 ? n : n >= 1e11 ? n * 1000 : n * 1_000_000;
  }
  return Number.isSafeInteger(us) && us >= MIN_US && us < MAX_US ? us : null;
}

