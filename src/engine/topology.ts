import type { TopologyConfig } from './config.js';
import type { LegMarks } from './marks.js';
import type { ChainPageEvent, OptionContract } from './types.js';
import { expirationsInScope, sessionDateOf, spotFromParity, type Scope } from './universe.js';

/**
 * Topology (DESIGN §2.3): chain pages are assembled into snapshots, and the first complete
 * snapshot with a usable spot fixes the scope (session date, strike band, expirations) for the run.
 * Later complete snapshots only add the contracts inside that scope.
 */

interface PendingSnapshot {
  readonly snapshot: number;
  readonly pages: Set<number>;
  lastPage: number | undefined;
  readonly contracts: OptionContract[];
}

/** Assembles chain pages into snapshots: a snapshot is complete when pages 0..last all arrived. */
export class SnapshotAssembler {
  readonly counts = { complete: 0, incomplete: 0 };
  private pending: PendingSnapshot | undefined;

  /**
   * Takes one page; returns the snapshot's contracts when this page completed it. A page of another
   * snapshot abandons the one being assembled (counted incomplete: interleaved or never finished).
   */
  add(page: ChainPageEvent): readonly OptionContract[] | undefined {
    if (this.pending && this.pending.snapshot !== page.snapshot) {
      this.counts.incomplete++;
      this.pending = undefined;
    }
    this.pending ??= { snapshot: page.snapshot, pages: new Set(), lastPage: undefined, contracts: [] };
    const snap = this.pending;
    snap.pages.add(page.page);
    snap.contracts.push(...page.contracts);
    if (page.last) snap.lastPage = page.page;
    if (snap.lastPage === undefined || snap.pages.size !== snap.lastPage + 1) return undefined;
    this.pending = undefined;
    this.counts.complete++;
    return snap.contracts;
  }
}

/**
 * The scope fixed by the first complete snapshot at engine time `nowUs`: spot from the index value
 * when there is one, else put–call parity of the chain; undefined when neither exists yet.
 */
export function buildScope(cfg: TopologyConfig, contracts: readonly OptionContract[], marks: LegMarks, indexSpot: number | undefined, nowUs: number): Scope | undefined {
  const sessionDate = sessionDateOf(nowUs);
  const spot = indexSpot ?? spotFromParity(contracts, marks, sessionDate);
  if (spot === undefined) return undefined;
  return {
    spot,
    spotSource: indexSpot !== undefined ? 'index' : 'parity',
    lo: spot - cfg.strike_band_points,
    hi: spot + cfg.strike_band_points,
    expirations: expirationsInScope(cfg, contracts.map((c) => c.expiration), sessionDate),
    sessionDate,
  };
}

/** Whether a contract lies inside the scope: strike in the band (inclusive), expiration in scope. */
export function isInScope(scope: Scope, c: OptionContract): boolean {
  return c.strike >= scope.lo && c.strike <= scope.hi && scope.expirations.includes(c.expiration);
}
