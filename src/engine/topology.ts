import type { CustomStrategyConfig, TopologyConfig } from './config.js';
import type { LegMarks } from './marks.js';
import { formatStrike } from './strategy.js';
import type { ChainPageEvent, OptionContract, Right } from './types.js';
import { expirationsInScope, sessionDateOf, spotFromParity, type ContractUniverse, type Scope } from './universe.js';

/**
 * Topology (DESIGN §2.3): chain pages are assembled into snapshots, and the first complete
 * snapshot with a usable spot fixes the scope (session date, strike band, expirations) for the run.
 * Later complete snapshots only add the contracts inside that scope. A strategy left without a
 * slot gets a reason in the summary (`noSlotsReason`), so an empty heatmap is never silent.
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

/** What `noSlotsReason` needs to know about the strategy: its name and, for a custom one, its legs. */
export interface NoSlotsSubject {
  readonly name: string;
  /** The config entry when the strategy is a custom one (legs from config). */
  readonly custom?: CustomStrategyConfig;
}

/**
 * Why a strategy has no slot once the topology is built, from the facts: the chain's expirations
 * against the config's, the band against the listed strikes, the widths (vertical, fly) or the
 * custom legs against the contracts in scope. When the facts explain nothing (a strategy whose
 * rule the engine does not know), it says plainly that the strategy made no tile.
 * `chainExpirations`: the expirations listed by the snapshot that fixed the scope (sorted, unique).
 */
export function noSlotsReason(subject: NoSlotsSubject, cfg: TopologyConfig, scope: Scope, chainExpirations: readonly string[], universe: ContractUniverse): string {
  if (scope.expirations.length === 0) {
    const asks = cfg.expirations ? `expirations ${listOf(cfg.expirations)}` : `max_dte ${cfg.max_dte} from the session date ${scope.sessionDate}`;
    return `no expiration of the chain is in scope (chain has ${chainExpirations.length > 0 ? listOf(chainExpirations) : 'none'}; config asks ${asks})`;
  }
  const band = `[${formatStrike(scope.lo)}, ${formatStrike(scope.hi)}]`;
  if (universe.size === 0) {
    return `no strike of the chain is inside the band ${band} (spot ${formatStrike(scope.spot)} ± ${formatStrike(cfg.strike_band_points)}; expirations in scope: ${listOf(scope.expirations)})`;
  }
  const widths = `[${cfg.widths.join(', ')}]`;
  /** Whether some group of the universe has a strike K with every strike K + offset listed. */
  const fits = (offsetSets: readonly (readonly number[])[], rights?: readonly Right[]): boolean =>
    universe.listGroups().some(
      (g) =>
        (!rights || rights.includes(g.right)) &&
        universe.strikes(g).some((k) => offsetSets.some((offsets) => offsets.every((o) => universe.get(g.root, g.expiration, g.right, k + o) !== undefined))),
    );
  if (subject.custom) {
    const c = subject.custom;
    if (!fits([c.legs.map((l) => l.offset)], c.rights)) {
      const offsets = c.legs.map((l) => (l.offset > 0 ? `+${l.offset}` : String(l.offset))).join(', ');
      return `no contract of the chain fits the custom legs (right ${c.rights.join(', ')}; offsets ${offsets}) inside the band ${band}`;
    }
  } else if (subject.name === 'vertical' || subject.name === 'fly') {
    if (!fits(cfg.widths.map((w) => [0, w]))) return `no strike pair at widths ${widths} inside the band ${band}`;
    if (subject.name === 'fly' && !fits(cfg.widths.map((w) => [-w, 0, w]))) return `no strikes K−w, K, K+w at widths ${widths} inside the band ${band}`;
  }
  return `the strategy made no tile from the ${universe.size} contracts in scope`;
}

/** A list for a message: all of it when short, else its ends and the count. */
function listOf(xs: readonly string[]): string {
  return xs.length <= 8 ? xs.join(', ') : `${xs.slice(0, 4).join(', ')}, …, ${xs.slice(-2).join(', ')} (${xs.length} in all)`;
}
