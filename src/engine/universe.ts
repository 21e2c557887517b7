import type { TopologyConfig } from './config.js';
import type { LegMarks } from './marks.js';
import type { OptionContract, Right } from './types.js';

/**
 * The contracts a topology may use: those listed by complete chain snapshots, restricted to the
 * scope fixed when the first complete snapshot arrived (expirations, strike band). The scope never
 * moves during a run; later snapshots may only add contracts inside it.
 */

export interface Scope {
  /** Spot used to centre the band (index value, else put–call parity). */
  readonly spot: number;
  readonly spotSource: 'index' | 'parity';
  readonly lo: number;
  readonly hi: number;
  /** Sorted. */
  readonly expirations: readonly string[];
  /** The session date (America/New_York) the DTEs were counted from. */
  readonly sessionDate: string;
}

export interface Group {
  readonly root: string;
  readonly expiration: string;
  readonly right: Right;
}

/** Contract lookup by (root, expiration, right, strike), iterated in sorted order. */
export class ContractUniverse {
  private readonly byTicker = new Map<string, OptionContract>();
  private readonly groups = new Map<string, Map<number, OptionContract>>();
  private sortedGroups: Group[] | null = [];
  private readonly sortedStrikes = new Map<string, number[]>();

  /** Adds a contract; returns false when it was already known. */
  add(c: OptionContract): boolean {
    if (this.byTicker.has(c.ticker)) return false;
    this.byTicker.set(c.ticker, c);
    const gk = groupKey(c.root, c.expiration, c.right);
    let g = this.groups.get(gk);
    if (!g) {
      g = new Map();
      this.groups.set(gk, g);
      this.sortedGroups = null;
    }
    g.set(c.strike, c);
    this.sortedStrikes.delete(gk);
    return true;
  }

  get size(): number {
    return this.byTicker.size;
  }

  get(root: string, expiration: string, right: Right, strike: number): OptionContract | undefined {
    return this.groups.get(groupKey(root, expiration, right))?.get(strike);
  }

  /** Groups sorted by root, expiration, right. */
  listGroups(): readonly Group[] {
    if (this.sortedGroups === null) {
      this.sortedGroups = [...this.groups.keys()].sort().map((k) => {
        const [root, expiration, right] = k.split('|') as [string, string, Right];
        return { root, expiration, right };
      });
    }
    return this.sortedGroups;
  }

  /** Strikes of a group, ascending. */
  strikes(g: Group): readonly number[] {
    const gk = groupKey(g.root, g.expiration, g.right);
    let s = this.sortedStrikes.get(gk);
    if (!s) {
      s = [...(this.groups.get(gk)?.keys() ?? [])].sort((a, b) => a - b);
      this.sortedStrikes.set(gk, s);
    }
    return s;
  }
}

function groupKey(root: string, expiration: string, right: Right): string {
  return `${root}|${expiration}|${right}`;
}

const etFormatter = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The New York calendar date (`YYYY-MM-DD`) of an instant: the session date for DTE counting. */
export function sessionDateOf(us: number): string {
  return etFormatter.format(new Date(Math.floor(us / 1000)));
}

/**
 * Days to expiration counted in weekdays (Mon–Fri) from `from` to `to` (both `YYYY-MM-DD`):
 * a Friday session sees Monday's expiry as 1 DTE. Exchange holidays are not known to the engine.
 * Negative when `to` is before `from`.
 */
export function weekdayDte(from: string, to: string): number {
  const a = Date.parse(`${from}T00:00:00Z`);
  const b = Date.parse(`${to}T00:00:00Z`);
  if (b < a) return -1;
  let n = 0;
  for (let t = a; t < b; t += 86_400_000) {
    const next = new Date(t + 86_400_000).getUTCDay();
    if (next !== 0 && next !== 6) n++;
  }
  return n;
}

/** Expirations in scope: the explicit list, else those with 0 ≤ weekday DTE ≤ max_dte. */
export function expirationsInScope(cfg: TopologyConfig, available: Iterable<string>, sessionDate: string): string[] {
  const all = [...new Set(available)].sort();
  if (cfg.expirations) return all.filter((e) => cfg.expirations!.includes(e));
  return all.filter((e) => {
    if (e < sessionDate) return false;
    return weekdayDte(sessionDate, e) <= cfg.max_dte;
  });
}

/**
 * Spot from put–call parity on the nearest expiration: at the strike where |C − P| is smallest,
 * S ≈ K + C − P (rates and dividends ignored over 0–few DTE). Undefined when no strike has both marks.
 */
export function spotFromParity(contracts: readonly OptionContract[], marks: LegMarks, sessionDate: string): number | undefined {
  const byExp = new Map<string, Map<string, { c?: number; p?: number; k: number }>>();
  for (const c of contracts) {
    if (c.expiration < sessionDate) continue;
    const m = marks.get(c.ticker);
    if (!m) continue;
    let e = byExp.get(c.expiration);
    if (!e) byExp.set(c.expiration, (e = new Map()));
    const sk = `${c.root}|${c.strike}`;
    const pair = e.get(sk) ?? { k: c.strike };
    if (c.right === 'C') pair.c = m.price;
    else pair.p = m.price;
    e.set(sk, pair);
  }
  for (const exp of [...byExp.keys()].sort()) {
    let best: { diff: number; spot: number; key: string } | undefined;
    for (const [key, pair] of [...byExp.get(exp)!.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (pair.c === undefined || pair.p === undefined) continue;
      const diff = Math.abs(pair.c - pair.p);
      if (!best || diff < best.diff) best = { diff, spot: pair.k + pair.c - pair.p, key };
    }
    if (best) return Math.round(best.spot * 100) / 100;
  }
  return undefined;
}
