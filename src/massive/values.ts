/**
 * Small value guards shared by the Massive payload parsers (chain snapshot and WS frames).
 * Payloads arrive as `unknown`; these narrow them without ever throwing.
 */

/** Largest price we believe for an option leg or a spot print; anything above is a bad payload. */
export const MAX_PRICE = 1e6;

/** A plain JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A usable price: a finite JS number, > 0 and <= 1e6. Strings are rejected (the spec says number). */
export function isValidPrice(p: unknown): p is number {
  return typeof p === 'number' && Number.isFinite(p) && p > 0 && p <= MAX_PRICE;
}

/**
 * A usable quote side: like `isValidPrice` but 0 is allowed, because far out-of-the-money
 * contracts routinely quote a zero bid (that is "no mid", not a bad payload).
 */
export function isValidQuoteSide(p: unknown): p is number {
  return typeof p === 'number' && Number.isFinite(p) && p >= 0 && p <= MAX_PRICE;
}

const DECIMAL_RE = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A finite number from a JSON number or a plain decimal string. Needed for the indices `V` event:
 * client-js types `val` as a string while the spec says number, so accept both — but only a
 * strict decimal literal (no `''`, `' '`, `'0x10'`, `'Infinity'`, which `Number()` would take).
 */
export function toFiniteNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && DECIMAL_RE.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** WS `q` sequence: a non-negative safe integer, else null (the caller falls back to 0). */
export function toSequence(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

const REASON_SAFE_RE = /[^A-Za-z0-9_-]/g;

/**
 * Makes a server-chosen string (an `ev` name, a REST `status`) safe to embed in a tally reason:
 * ASCII word characters only, at most 32 of them, so a hostile payload cannot flood the report
 * with unbounded distinct reasons of arbitrary length.
 */
export function reasonPart(s: string): string {
  const clean = s.replace(REASON_SAFE_RE, '_').slice(0, 32);
  return clean === '' ? 'empty' : clean;
}

/** A short printable rendering of a bad value for tally samples (never the whole payload). */
export function describeValue(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v);
  else if (v === undefined) s = 'missing';
  // String(), not JSON.stringify: the latter prints NaN and Infinity as `null`.
  else if (typeof v === 'number') s = String(v);
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
