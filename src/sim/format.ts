/**
 * Number formatting for payload text built by hand. Prices come from integers (0.0001 units or
 * cents) and are printed with string math, so no float artefact (`12.340000000000002`) can appear;
 * nanosecond timestamps are concatenated from integer µs and a 3-digit tail, never computed as a
 * float above 2^53.
 */

/** An integer count of 0.0001 as a decimal: 123400 → "12.34", 5 → "0.0005", 0 → "0". */
export function formatUnits4(units: number): string {
  const neg = units < 0;
  const abs = Math.abs(units);
  const whole = Math.floor(abs / 10_000);
  const frac = abs - whole * 10_000;
  const sign = neg ? '-' : '';
  if (frac === 0) return `${sign}${whole}`;
  return `${sign}${whole}.${String(frac).padStart(4, '0').replace(/0+$/, '')}`;
}

/** An integer count of cents as a decimal: 1240 → "12.4". */
export function formatCents(cents: number): string {
  return formatUnits4(cents * 100);
}

/**
 * A float rounded to `decimals` (≤ 6) places, in plain notation: ≥ 1e-6 never prints with an
 * exponent, and -0 prints as "0". Non-finite values print as "0" (they never reach a payload).
 */
export function formatRounded(x: number, decimals: number): string {
  if (!Number.isFinite(x)) return '0';
  const f = Math.pow(10, decimals);
  const v = Math.round(x * f) / f;
  return v === 0 ? '0' : String(v);
}

/** A 19-digit nanosecond literal from integer µs and the sub-µs nanoseconds (0..999). */
export function formatNs(us: number, subUsNs: number): string {
  return `${us}${String(subUsNs).padStart(3, '0')}`;
}
