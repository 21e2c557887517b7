import type { OptionContract, Right } from '../engine/types.js';

export type TickerResult =
  | { readonly ok: true; readonly contract: OptionContract }
  | { readonly ok: false; readonly reason: string };

/**
 * The OCC symbology Massive uses: `O:` + root (1–6 chars, may hold digits: `AAPL1`) + `YYMMDD` +
 * `C`/`P` + strike × 1000 on 8 digits. Parsed from the end, because only the tail has fixed widths.
 */
const TAIL_RE = /^(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/;
const ROOT_RE = /^[A-Z][A-Z0-9]{0,5}$/;

/** Results by ticker: a session trades a few thousand contracts, each a million times a day. */
const parsed = new Map<string, TickerResult>();
/** Bound on `parsed` (it starts over when full): memory stays small whatever the input. */
const MAX_CACHED = 100_000;

/**
 * Parses `O:SPXW251121C05900000`; rejects malformed tickers with a reason (never throws). The
 * result is a pure function of the ticker, so it is computed once per ticker and shared (results
 * and contracts are read-only).
 */
export function parseOptionTicker(ticker: string): TickerResult {
  if (typeof ticker !== 'string') return { ok: false, reason: 'ticker_not_string' };
  let r = parsed.get(ticker);
  if (r === undefined) {
    if (parsed.size >= MAX_CACHED) parsed.clear();
    r = parseTicker(ticker);
    parsed.set(ticker, r);
  }
  return r;
}

function parseTicker(ticker: string): TickerResult {
  if (!ticker.startsWith('O:')) return { ok: false, reason: 'ticker_no_O_prefix' };
  const body = ticker.slice(2);
  if (body.length < 16) return { ok: false, reason: 'ticker_too_short' };
  const tail = body.slice(-15);
  const root = body.slice(0, -15);
  const m = TAIL_RE.exec(tail);
  if (!m) return { ok: false, reason: 'ticker_bad_tail' };
  if (!ROOT_RE.test(root)) return { ok: false, reason: 'ticker_bad_root' };
  const [, yy, mm, dd, right, strikeDigits] = m as unknown as [string, string, string, string, Right, string];
  const month = Number(mm);
  const day = Number(dd);
  const year = 2000 + Number(yy);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: 'ticker_bad_date' };
  }
  const strike = Number(strikeDigits) / 1000;
  if (strike <= 0) return { ok: false, reason: 'ticker_bad_strike' };
  return {
    ok: true,
    contract: { ticker, root, expiration: `${year}-${mm}-${dd}`, right, strike },
  };
}

/** Builds the OCC ticker for a contract (inverse of `parseOptionTicker`). */
export function formatOptionTicker(root: string, expiration: string, right: Right, strike: number): string {
  const [y, m, d] = expiration.split('-');
  const milli = Math.round(strike * 1000);
  return `O:${root}${y!.slice(2)}${m}${d}${right}${String(milli).padStart(8, '0')}`;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
