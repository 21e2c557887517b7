import type { ContractUniverse } from './universe.js';
import type { LegDef, Right, TileDef } from './types.js';

/**
 * A strategy: which tiles exist (from the contract universe) and how a tile's value is scored.
 * Implementations are small plain objects, one file each; `index.ts` is the registry.
 */
export interface Strategy {
  readonly name: string;
  /** True when `score` reads spot, so every spot change re-scores the strategy's tiles. */
  readonly usesSpot: boolean;
  /** All tiles whose legs are contracts of the universe, in a deterministic order. */
  enumerate(universe: ContractUniverse, widths: readonly number[]): TileDef[];
  /** Score of a tile with net debit `value`; null when it cannot be computed (no spot yet). */
  score(def: TileDef, value: number, spot: number | undefined): number | null;
}

/** Formats a strike for tile keys: plain decimal, no exponent, no trailing zeros. */
export function formatStrike(k: number): string {
  return String(Math.round(k * 1000) / 1000);
}

/** Builds a TileDef (key `ROOT:EXPIRATION:STRATEGY:RIGHT:K1/K2/…`) with legs sorted by strike. */
export function makeTileDef(strategy: string, root: string, expiration: string, right: Right, legs: readonly LegDef[]): TileDef {
  const sorted = [...legs].sort((a, b) => a.contract.strike - b.contract.strike);
  const strikes = sorted.map((l) => l.contract.strike);
  return {
    key: `${root}:${expiration}:${strategy}:${right}:${strikes.map(formatStrike).join('/')}`,
    root,
    expiration,
    strategy,
    right,
    strikes,
    legs: sorted,
  };
}
