/**
 * Massive timestamps, normalised to the engine's integer microseconds (DESIGN §2.1).
 *
 * Units differ by feed: REST snapshot `last_quote.last_updated` / `last_trade.sip_timestamp` are
 * int64 **nanoseconds** (19 digits, above 2^53 — `JSON.parse` rounds them to the nearest double,
 * polygon-io/issues#140), while WS `t` fields are **milliseconds**. Every converter checks the
 * magnitude, so a value in the wrong unit is rejected instead of landing decades away.
 */

/** 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z in µs: the plausible window for market data. */
const MIN_US = 946_684_800_000_000;
const MAX_US = 4_102_444_800_000_000;
const MIN_MS = MIN_US / 1000;
const MAX_MS = MAX_US / 1000;

/**
 * One token scanner for the whole text: either a complete JSON string literal (skipped verbatim,
 * so digits inside strings — including after escaped quotes `\"` — are never touched), or an
 * integer literal of 17+ digits that is not part of a fraction or exponent.
 *
 * - `"[^"\\]*(?:\\.[^"\\]*)*"` is the unrolled string pattern: linear, no catastrophic backtracking.
 * - `(?<![\d.eE+-])` stops a match from starting inside a number (the digits after `1.` or `1e+`).
 * - `(?![\d.eE])` rejects integers followed by a fraction or exponent, and, because `\d` is in the
 *   set, also stops the engine from backtracking to a shorter digit run of the same literal.
 */
const TOKEN_RE = /"[^"\\]*(?:\\.[^"\\]*)*"|(?<![\d.eE+-])-?\d{17,}(?![\d.eE])/g;
/** Cheap pre-check: most frames (WS, ms timestamps) have no 17-digit run at all. */
const LONG_DIGITS_RE = /\d{17}/;

/**
 * `JSON.parse`, except that every integer literal of 17 or more digits outside string literals is
 * parsed as a string of its digits (sign kept), so ns timestamps keep full precision. Numbers with
 * a fraction or exponent are left to `JSON.parse`. Throws `SyntaxError` on invalid JSON, exactly
 * like `JSON.parse` (callers at the recording boundary count that as a bad line).
 */
export function parseJsonLossless(text: string): unknown {
  if (!LONG_DIGITS_RE.test(text)) return JSON.parse(text);
  const quoted = text.replace(TOKEN_RE, (tok) => (tok.charCodeAt(0) === 34 /* " */ ? tok : `"${tok}"`));
  return JSON.parse(quoted);
}

/** 18 or 19 digits, no sign, no leading zero: the only shapes a 2000..2100 ns stamp can take. */
const NS_DIGITS_RE = /^[1-9]\d{17,18}$/;

/**
 * A nanosecond timestamp → integer µs, by truncation (drop the last 3 digits), or null when the
 * value is not a plausible ns stamp: not a digit string or number, negative, NaN, or outside
 * 2000..2100 — which also rejects ms/µs/s values (wrong units).
 *
 * Accepts the digit strings `parseJsonLossless` produces (exact) and plain JS numbers. A number
 * above 2^53 has already been rounded by `JSON.parse` (spacing 256 ns at today's epoch), so the
 * result may then be off by ≤ 1 µs; ordering is preserved because the rounding is monotone.
 */
export function nsToUs(v: unknown): number | null {
  let digits: string;
  if (typeof v === 'string') digits = v;
  // String() of an integer-valued double below 1e21 is plain decimal digits (no exponent);
  // fractions, negatives and NaN fail the digit pattern below.
  else if (typeof v === 'number' && Number.isFinite(v)) digits = String(v);
  else return null;
  if (!NS_DIGITS_RE.test(digits)) return null;
  // Truncate on the string: the µs part has at most 16 digits, < 2^53, so Number() is exact.
  const us = Number(digits.slice(0, -3));
  return us >= MIN_US && us < MAX_US ? us : null;
}

/**
 * A WS millisecond timestamp (`t` of T, Q, V events) → integer µs, or null unless it is a finite
 * integer number of ms within 2000..2100. ns, µs and seconds values fall outside that window and
 * are rejected as wrong units (one Massive indices page claims seconds; the samples are ms).
 */
export function msToUs(v: unknown): number | null {
  if (typeof v !== 'number' || !Number.isInteger(v)) return null;
  return v >= MIN_MS && v < MAX_MS ? v * 1000 : null;
}
