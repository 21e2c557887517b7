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

/** Score functions declared pure by `declarePure`. */
const PURE_SCORES = new WeakSet<Strategy['score']>();

/**
 * Declares a strategy's `score` pure: no side effects, never throws, reads `spot` only when
 * `usesSpot`. The engine may then recompute the strategy's tiles when it needs them instead of on
 * every fact (same output, less work: ARCHITECTURE.md, "Performance"). It is the score function
 * that is declared, so a copy of the strategy with another `score` (a test's throwing one, a
 * module's) is recomputed on every fact, and an exception surfaces at the fact that caused it.
 */
export function declarePure<S extends Strategy>(strategy: S): S {
  PURE_SCORES.add(strategy.score);
  return strategy;
}

/** True when the strategy's `score` was declared pure (`declarePure`). */
export function hasPureScore(strategy: Strategy): boolean {
  return PURE_SCORES.has(strategy.score);
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

/**
 * What a strategy module's factory is given (`export default function (api) { … }`): the helpers a
 * module needs, so that a file anywhere — outside this package, where `import 'heatmap'` does not
 * resolve — can build tiles.
 */
export interface StrategyModuleApi {
  readonly makeTileDef: typeof makeTileDef;
  readonly formatStrike: typeof formatStrike;
}

/**
 * A strategy module's default export (or its `strategy` export): a Strategy, or a factory that
 * returns one. A factory is called once per run, so a run never sees another run's state.
 */
export type StrategyExport = Strategy | ((api: StrategyModuleApi) => Strategy);
