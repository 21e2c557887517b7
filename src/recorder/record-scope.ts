/**
 * What the recorder captures: the REST filter and the contracts to subscribe, derived from the
 * engine configuration exactly as the engine derives its topology (DESIGN §2.3, §2.6) — expirations
 * by explicit list or weekday DTE from the session date, a strike band around spot (index value,
 * else put–call parity of the first snapshot) fixed at the first complete snapshot — but with a
 * wider band (`recordBandPoints`), so that a replay with a somewhat wider band, or one whose spot at
 * its first snapshot differs a little, still finds every contract it needs.
 *
 * Snapshot pages are recorded verbatim; this view of them is deduplicated by ticker and drops
 * contracts outside the requested filter (server bugs #237: other expiries on later pages; #289:
 * looping pages), so such contracts never become subscriptions.
 */
import type { TopologyConfig } from '../engine/config.js';
import { LegMarks } from '../engine/marks.js';
import { Tally } from '../engine/tally.js';
import type { OptionContract } from '../engine/types.js';
import { expirationsInScope, sessionDateOf, spotFromParity, weekdayDte, type Scope } from '../engine/universe.js';
import { parseChainBody } from '../massive/chain.js';
import type { CompletedSnapshot } from '../massive/chain-poller.js';
import type { ChainFilter } from '../massive/rest-client.js';

export interface RecordScopeOptions {
  readonly topology: TopologyConfig;
  /** ± points around spot recorded (≥ the engine's `strike_band_points`). */
  readonly recordBandPoints: number;
}

/** The fixed scope, once the first usable snapshot arrived: the engine's Scope, with the recorder's wider band. */
export type RecordBand = Scope;

/** What one snapshot changed. */
export interface ScopeUpdate {
  /** Contracts newly in scope (to subscribe), sorted by ticker. */
  readonly added: readonly OptionContract[];
  /** Contracts of the snapshot after dedupe and filter check. */
  readonly contracts: number;
  readonly duplicates: number;
  readonly outOfFilter: number;
  /** Set when this snapshot fixed the scope. */
  readonly built?: RecordBand;
  /** Why the scope could not be fixed yet. */
  readonly waiting?: string;
}

export class RecordScope {
  private fixed: RecordBand | undefined;
  private readonly inScope = new Map<string, OptionContract>();
  /** Payload problems seen while reading snapshots (for the summary). */
  readonly bad = new Tally();

  constructor(private readonly o: RecordScopeOptions) {}

  get band(): RecordBand | undefined {
    return this.fixed;
  }

  /** Contracts in scope so far. */
  get size(): number {
    return this.inScope.size;
  }

  /** The filter of the next snapshot at receive time `now_us`, with the current spot if any. */
  filter(now_us: number, spot: number | undefined): ChainFilter {
    const exps = this.expirationRange(now_us);
    if (this.fixed) return { ...exps, strikeGte: this.fixed.lo, strikeLte: this.fixed.hi };
    if (spot !== undefined) return { ...exps, strikeGte: spot - this.o.recordBandPoints, strikeLte: spot + this.o.recordBandPoints };
    return exps; // no spot yet: the whole strike range, and parity will centre the band
  }

  private expirationRange(now_us: number): ChainFilter {
    const explicit = this.o.topology.expirations;
    const list = explicit ?? (this.fixed && this.fixed.expirations.length > 0 ? this.fixed.expirations : undefined);
    if (list && list.length > 0) return { expirationGte: list[0], expirationLte: list[list.length - 1] };
    const session = sessionDateOf(now_us);
    return { expirationGte: session, expirationLte: lastDateWithinDte(session, this.o.topology.max_dte) };
  }

  /** Reads a complete snapshot: fixes the scope when possible, returns the contracts it adds. */
  onSnapshot(snap: CompletedSnapshot, indexSpot: number | undefined, now_us: number): ScopeUpdate {
    const byTicker = new Map<string, OptionContract>();
    const marks = new LegMarks();
    let duplicates = 0;
    let outOfFilter = 0;
    snap.pages.forEach((body, page) => {
      const ev = parseChainBody(body, { recv_us: snap.finished_us, snapshot: snap.snapshot, page, last: false }, this.bad);
      for (const c of ev.contracts) {
        if (byTicker.has(c.ticker)) duplicates++;
        else if (!matchesFilter(c, snap.filter)) outOfFilter++;
        else byTicker.set(c.ticker, c);
      }
      for (const f of ev.facts) if (byTicker.has(f.contract.ticker)) marks.admit(f);
    });
    const contracts = [...byTicker.values()];
    const base = { contracts: contracts.length, duplicates, outOfFilter };
    let built: RecordBand | undefined;
    if (!this.fixed) {
      const sessionDate = sessionDateOf(now_us);
      const expirations = expirationsInScope(this.o.topology, contracts.map((c) => c.expiration), sessionDate);
      if (expirations.length === 0) {
        return { ...base, added: [], waiting: `no expiration in scope for session ${sessionDate} among ${contracts.length} contracts (topology.expirations / max_dte)` };
      }
      const f = snap.filter;
      if (f.strikeGte !== undefined && f.strikeLte !== undefined) {
        // The request was already centred on the index value (see filter()): keep exactly its range.
        built = { spot: (f.strikeGte + f.strikeLte) / 2, spotSource: 'index', lo: f.strikeGte, hi: f.strikeLte, expirations, sessionDate };
      } else {
        const spot = indexSpot ?? spotFromParity(contracts, marks, sessionDate);
        if (spot === undefined) return { ...base, added: [], waiting: 'no spot yet (no index value, and no strike with both a call and a put mark)' };
        const band = this.o.recordBandPoints;
        built = { spot, spotSource: indexSpot !== undefined ? 'index' : 'parity', lo: spot - band, hi: spot + band, expirations, sessionDate };
      }
      this.fixed = built;
    }
    const scope = this.fixed;
    const added: OptionContract[] = [];
    for (const c of contracts) {
      if (c.strike < scope.lo || c.strike > scope.hi || !scope.expirations.includes(c.expiration)) continue;
      if (this.inScope.has(c.ticker)) continue;
      this.inScope.set(c.ticker, c);
      added.push(c);
    }
    added.sort((a, b) => (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0));
    return built ? { ...base, added, built } : { ...base, added };
  }

  /** In-scope contracts ordered by distance of strike from spot (nearest first), for capped quote subscriptions. */
  nearestFirst(): OptionContract[] {
    const spot = this.fixed?.spot ?? 0;
    return [...this.inScope.values()].sort((a, b) => Math.abs(a.strike - spot) - Math.abs(b.strike - spot) || (a.ticker < b.ticker ? -1 : 1));
  }
}

/** The server must have honoured the filter; a contract outside it is a server bug (#237). */
function matchesFilter(c: OptionContract, f: ChainFilter): boolean {
  if (f.expirationGte !== undefined && c.expiration < f.expirationGte) return false;
  if (f.expirationLte !== undefined && c.expiration > f.expirationLte) return false;
  if (f.strikeGte !== undefined && c.strike < f.strikeGte) return false;
  if (f.strikeLte !== undefined && c.strike > f.strikeLte) return false;
  return true;
}

/** The last calendar date whose weekday DTE from `session` is ≤ maxDte (a Friday + 1 DTE → Monday). */
export function lastDateWithinDte(session: string, maxDte: number): string {
  const start = Date.parse(`${session}T00:00:00Z`);
  let last = session;
  // Each weekday adds one DTE, so maxDte + a weekend or two is always enough; bounded either way.
  for (let d = 1; d <= maxDte * 2 + 7; d++) {
    const date = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
    if (weekdayDte(session, date) > maxDte) break;
    last = date;
  }
  return last;
}
