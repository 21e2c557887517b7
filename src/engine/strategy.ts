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
 * A strategy's score by slot number: writes exactly `score(defs[slot], io[at], spot)` to
 * `io[at + 1]` (NaN for null), without the def's lookups. The numbers go in and out through the
 * array: a double passed to or returned from a call that is not inlined is boxed into a new heap
 * number, twice per recompute.
 */
export type SlotScore = (slot: number, io: Float64Array, at: number, spot: number | undefined) => void;
/** Makes a `SlotScore` for the tiles `defs` (slot order); made again when slots are added. */
export type SlotScoreMaker = (defs: readonly TileDef[]) => SlotScore;

/** Slot scores declared with `declarePure`, by the score function they stand for. */
const SLOT_SCORES = new WeakMap<Strategy['score'], SlotScoreMaker>();

/**
 * Declares a strategy's `score` pure: no side effects, never throws, reads `spot` only when
 * `usesSpot`. The engine may then recompute the strategy's tiles when it needs them instead of on
 * every fact (same output, less work: ARCHITECTURE.md, "Performance"). It is the score function
 * that is declared, so a copy of the strategy with another `score` (a test's throwing one, a
 * module's) is recomputed on every fact, and an exception surfaces at the fact that caused it.
 * `bySlot`, when given, must return exactly what `score` returns for the same tile (a test holds
 * the built-ins to that).
 */
export function declarePure<S extends Strategy>(strategy: S, bySlot?: SlotScoreMaker): S {
  PURE_SCORES.add(strategy.score);
  if (bySlot !== undefined) SLOT_SCORES.set(strategy.score, bySlot);
  return strategy;
}

/**
 * The strategy's score by slot (`declarePure`'s `bySlot`: the built-ins read a tile's strikes from
 * typed columns made once, not from its def per recompute), or undefined. Tied to the score
 * function like purity, so a copy of a strategy with another `score` never gets the original's.
 */
export function slotScoreMaker(strategy: Strategy): SlotScoreMaker | undefined {
  return SLOT_SCORES.get(strategy.score);
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
