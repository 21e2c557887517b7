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
 * An integer literal of 17+ digits that is not part of a fraction or exponent: `(?<![\d.eE+-])`
 * stops a match from starting inside a number (the digits after `1.` or `1e+`); `(?![\d.eE])`
 * rejects integers followed by a fraction or exponent, and, because `\d` is in the set, also stops
 * the engine from backtracking to a shorter digit run of the same literal.
 */
const LONG_INT_RE = /(?<![\d.eE+-])-?\d{17,}(?![\d.eE])/g;
/** Cheap pre-check: most frames (WS, ms timestamps) have no 17-digit run at all. */
const LONG_DIGITS_RE = /\d{17}/;
const BACKSLASH = 92; // \

/**
 * The text with every long integer literal outside string literals in quotes. It gives exactly
 * what one left-to-right token scan would, with the string literal pattern
 * `"[^"\\]*(?:\\.[^"\\]*)*"` (a string is skipped verbatim, so digits inside it — including
 * after escaped quotes `\"` — are never touched; a quote that does not start such a literal is an
 * ordinary character) and `LONG_INT_RE` for integers; but strings are skipped with `indexOf`, and
 * only the integers are cut out, instead of a regex callback and a copy per string literal (a chain
 * page has thousands of strings and a few hundred ns stamps: 3× faster).
 */
export function quoteLongIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let pos = 0;
  let next: RegExpExecArray | null | undefined; // the next integer match at or after pos (null: none)
  const slashes = { at: -2 }; // the next backslash at or after a position (−1: none; −2: not looked up)
  for (;;) {
    if (next === undefined || (next !== null && next.index < pos)) {
      LONG_INT_RE.lastIndex = pos;
      next = LONG_INT_RE.exec(text);
    }
    const q = text.indexOf('"', pos);
    if (next !== null && (q < 0 || next.index < q)) {
      const end = next.index + next[0].length;
      out += `${text.slice(copied, next.index)}"${next[0]}"`;
      copied = end;
      pos = end;
      continue;
    }
    if (q < 0) break;
    pos = skipString(text, q, slashes);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Where scanning goes on after a quote at `q`: after the string literal that starts there, or at
 * `q + 1` when none does (no closing quote, or a backslash before a line terminator, which `.` in
 * the literal's pattern does not match). `slashes` caches the next backslash (most texts have
 * none: one search, not one per string).
 */
function skipString(text: string, q: number, slashes: { at: number }): number {
  let from = q + 1;
  for (;;) {
    const close = text.indexOf('"', from);
    if (close < 0) return q + 1;
    if (slashes.at === -2 || (slashes.at >= 0 && slashes.at < from)) slashes.at = text.indexOf('\\', from);
    const slash = slashes.at;
    if (slash < 0 || slash > close) return close + 1;
    // escapes before the candidate closing quote: each backslash takes the next character
    let i = slash;
    while (i < close) {
      if (text.charCodeAt(i) === BACKSLASH) {
        if (isLineTerminator(text.charCodeAt(i + 1))) return q + 1;
        i += 2;
      } else i++;
    }
    if (i === close) return close + 1; // the quote is not escaped
    from = close + 1; // the quote was escaped (i = close + 1)
  }
}

function isLineTerminator(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

/**
 * `JSON.parse`, except that every integer literal of 17 or more digits outside string literals is
 * parsed as a string of its digits (sign kept), so ns timestamps keep full precision. Numbers with
 * a fraction or exponent are left to `JSON.parse`. Throws `SyntaxError` on invalid JSON, exactly
 * like `JSON.parse` (callers at the recording boundary count that as a bad line).
 */
export function parseJsonLossless(text: string): unknown {
  if (!LONG_DIGITS_RE.test(text)) return JSON.parse(text);
  return JSON.parse(quoteLongIntegers(text));
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
