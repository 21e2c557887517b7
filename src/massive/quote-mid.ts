/**
 * The quote-mid rule (DESIGN §2.2), the one home of it: a quote gives a leg mark of (bid + ask) / 2
 * when bid > 0 and ask ≥ bid. A zero bid (far out of the money) has no trustworthy mid; a crossed
 * book (ask < bid) is damaged. Massive's own `midpoint` field is never used.
 */
export type QuoteMid = { readonly mid: number } | { readonly problem: 'no_mid' | 'crossed' };

/** Classifies a quote whose sides are valid numbers (≥ 0). */
export function quoteMid(bid: number, ask: number): QuoteMid {
  if (bid <= 0) return { problem: 'no_mid' };
  if (ask < bid) return { problem: 'crossed' };
  return { mid: (bid + ask) / 2 };
}

/** The mid, or null when the rule gives none (zero bid or crossed book). */
export function midOrNull(bid: number, ask: number): number | null {
  const q = quoteMid(bid, ask);
  return 'mid' in q ? q.mid : null;
}
