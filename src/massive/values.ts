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
  const s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'missing' : preview(v, 0);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Renders a JSON value at most 3 levels and about 80 characters deep. Not JSON.stringify or String:
 * both recurse through the whole value, and a hostile line nested thousands deep would overflow
 * the stack (at a depth that differs between the main thread and workers).
 */
function preview(v: unknown, depth: number): string {
  // String(), not JSON.stringify, for numbers: the latter prints NaN and Infinity as `null`.
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) : v);
  if (v === null || typeof v !== 'object') return String(v);
  const isArray = Array.isArray(v);
  if (depth >= 3) return isArray ? '[…]' : '{…}';
  const parts: string[] = [];
  let size = 0;
  const keys = isArray ? undefined : Object.keys(v);
  const n = keys ? keys.length : (v as unknown[]).length;
  for (let i = 0; i < n; i++) {
    if (size > 80) {
      parts.push('…');
      break;
    }
    const k = keys?.[i];
    const x = k === undefined ? (v as unknown[])[i] : (v as Record<string, unknown>)[k];
    const item = (k === undefined ? '' : `${JSON.stringify(k)}:`) + preview(x, depth + 1);
    parts.push(item);
    size += item.length;
  }
  return isArray ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
}
