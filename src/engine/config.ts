import type { Right } from './types.js';

/**
 * Engine configuration (DESIGN §2.6). The keys are a contract; the defaults are ours and are
 * documented in the README. Validation is pure: `validateConfig` takes parsed JSON and either
 * returns a complete config or throws a ConfigError naming the offending key.
 */

export interface PublishConfig {
  /** Value condition: ≥ N changed tiles (null = off). */
  readonly min_changed: number | null;
  /** Value condition: ≥ X % of slots changed (null = off). */
  readonly min_changed_pct: number | null;
  /** Value condition: Σ|Δscore| over changed tiles ≥ D (null = off). */
  readonly min_score_delta: number | null;
  /** Time condition: this much engine time since the last version with ≥ 1 pending change (null = off). */
  readonly max_interval_ms: number | null;
  /** Throttle on the value and time conditions (not on structural). */
  readonly min_interval_ms: number;
}

export interface StrategyConfig {
  readonly enabled: boolean;
  readonly publish: PublishConfig;
}

export interface CustomLeg {
  readonly ratio: number;
  /** Strike offset in points from the tile's anchor strike. */
  readonly offset: number;
}

export interface CustomStrategyConfig extends StrategyConfig {
  readonly name: string;
  readonly rights: readonly Right[];
  readonly legs: readonly CustomLeg[];
}

/**
 * A strategy module (`strategies.modules`, `--strategy-module`): a user's ES module file. Its name
 * is the module's own, known once the file is loaded (`loadStrategyModules` in src/strategies);
 * until then `name` is undefined and `file` is as written (relative to the config file).
 */
export interface ModuleStrategyConfig extends StrategyConfig {
  readonly file: string;
  readonly name?: string;
}

export interface TopologyConfig {
  /** Explicit expirations (`YYYY-MM-DD`); wins over max_dte when set. */
  readonly expirations: readonly string[] | null;
  /** Expirations whose distance in weekdays from the session date is 0..max_dte. */
  readonly max_dte: number;
  /** ± points around spot when the topology is built. */
  readonly strike_band_points: number;
  /** Widths (points) of verticals and flies. */
  readonly widths: readonly number[];
}

export interface EngineConfig {
  readonly tick_ms: number;
  readonly topology: TopologyConfig;
  readonly strategies: {
    readonly single: StrategyConfig;
    readonly vertical: StrategyConfig;
    readonly fly: StrategyConfig;
    readonly custom: readonly CustomStrategyConfig[];
    /** Sorted by name once loaded; in the order written before. */
    readonly modules: readonly ModuleStrategyConfig[];
  };
}

export const BUILTIN_STRATEGIES = ['single', 'vertical', 'fly'] as const;
export type BuiltinStrategy = (typeof BUILTIN_STRATEGIES)[number];

export const DEFAULT_PUBLISH: PublishConfig = {
  min_changed: null,
  min_changed_pct: 5,
  min_score_delta: null,
  max_interval_ms: 1000,
  min_interval_ms: 500,
};

export const DEFAULT_TOPOLOGY: TopologyConfig = {
  expirations: null,
  max_dte: 2,
  strike_band_points: 50,
  widths: [5, 10, 15, 20, 25, 30, 40, 50],
};

export const DEFAULT_TICK_MS = 100;

/** A configuration problem; exit code 2 (bad input). */
export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The built-in default configuration (all built-in strategies on, no custom ones). */
export function defaultConfig(): EngineConfig {
  return validateConfig({});
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Json, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj).sort()) {
    if (!allowed.includes(k)) {
      const where = path ? `${path}.${k}` : k;
      throw new ConfigError(`config: unknown key "${where}" (allowed here: ${allowed.join(', ')})`);
    }
  }
}

function num(v: unknown, path: string, opts: { min?: number; integer?: boolean; nullable?: boolean; positive?: boolean }): number | null {
  if (v === null && opts.nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(`config: "${path}" must be a number${opts.nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`);
  }
  if (opts.integer && !Number.isInteger(v)) throw new ConfigError(`config: "${path}" must be an integer, got ${v}`);
  if (opts.positive && v <= 0) throw new ConfigError(`config: "${path}" must be > 0, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new ConfigError(`config: "${path}" must be ≥ ${opts.min}, got ${v}`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`config: "${path}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function validatePublish(raw: unknown, path: string): PublishConfig {
  if (raw === undefined) return DEFAULT_PUBLISH;
  if (!isObject(raw)) throw new ConfigError(`config: "${path}" must be an object`);
  checkKeys(raw, Object.keys(DEFAULT_PUBLISH), path);
  const pick = <K extends keyof PublishConfig>(k: K): unknown => (k in raw ? raw[k] : DEFAULT_PUBLISH[k]);
  return {
    min_changed: num(pick('min_changed'), `${path}.min_changed`, { nullable: true, integer: true, min: 1 }),
    min_changed_pct: num(pick('min_changed_pct'), `${path}.min_changed_pct`, { nullable: true, positive: true }),
    min_score_delta: num(pick('min_score_delta'), `${path}.min_score_delta`, { nullable: true, positive: true }),
    max_interval_ms: num(pick('max_interval_ms'), `${path}.max_interval_ms`, { nullable: true, integer: true, positive: true }),
    min_interval_ms: num(pick('min_interval_ms'), `${path}.min_interval_ms`, { integer: true, min: 0 }) as number,
  };
}

function validateStrategy(raw: unknown, path: string): StrategyConfig {
  if (raw === undefined) return { enabled: true, publish: DEFAULT_PUBLISH };
  if (!isObject(raw)) throw new ConfigError(`config: "${path}" must be an object`);
  checkKeys(raw, ['enabled', 'publish'], path);
  return {
    enabled: raw.enabled === undefined ? true : bool(raw.enabled, `${path}.enabled`),
    publish: validatePublish(raw.publish, `${path}.publish`),
  };
}

/**
 * Names of custom and module strategies: they go into tile keys (`ROOT:EXPIRATION:STRATEGY:RIGHT:K1/K2`)
 * and URLs (`/sse/heatmap/{strategy}`), so no `:`, `/` or spaces.
 */
export const STRATEGY_NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const NAME_RE = STRATEGY_NAME_RE;

function validateCustom(raw: unknown, i: number): CustomStrategyConfig {
  const path = `strategies.custom[${i}]`;
  if (!isObject(raw)) throw new ConfigError(`config: "${path}" must be an object`);
  checkKeys(raw, ['name', 'right', 'legs', 'enabled', 'publish'], path);
  const name = raw.name;
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new ConfigError(`config: "${path}.name" must be a lowercase name like "bwb" (letters, digits, - and _), got ${JSON.stringify(name)}`);
  }
  if ((BUILTIN_STRATEGIES as readonly string[]).includes(name)) {
    throw new ConfigError(`config: "${path}.name" "${name}" is a built-in strategy; pick another name`);
  }
  let rights: Right[];
  if (raw.right === undefined || raw.right === 'both') rights = ['C', 'P'];
  else if (raw.right === 'C' || raw.right === 'P') rights = [raw.right];
  else throw new ConfigError(`config: "${path}.right" must be "C", "P" or "both", got ${JSON.stringify(raw.right)}`);
  if (!Array.isArray(raw.legs) || raw.legs.length === 0) {
    throw new ConfigError(`config: "${path}.legs" must be a non-empty array of {"ratio", "offset"}`);
  }
  const legs = raw.legs.map((leg, j): CustomLeg => {
    const lp = `${path}.legs[${j}]`;
    if (!isObject(leg)) throw new ConfigError(`config: "${lp}" must be an object`);
    checkKeys(leg, ['ratio', 'offset'], lp);
    const ratio = num(leg.ratio, `${lp}.ratio`, { integer: true }) as number;
    if (ratio === 0) throw new ConfigError(`config: "${lp}.ratio" must not be 0`);
    return { ratio, offset: num(leg.offset, `${lp}.offset`, {}) as number };
  });
  const offsets = legs.map((l) => l.offset);
  if (new Set(offsets).size !== offsets.length) throw new ConfigError(`config: "${path}.legs" has two legs at the same offset`);
  if (legs.length > 1 && Math.max(...offsets) === Math.min(...offsets)) throw new ConfigError(`config: "${path}.legs" span no strikes`);
  const base = validateStrategy({ enabled: raw.enabled, publish: raw.publish }, path);
  return { name, rights, legs: [...legs].sort((a, b) => a.offset - b.offset), ...base };
}

/** `strategies.modules[i]`: a path, or `{"path", "enabled", "publish"}` to set the strategy's settings. */
function validateModule(raw: unknown, i: number): ModuleStrategyConfig {
  const path = `strategies.modules[${i}]`;
  const entry = typeof raw === 'string' ? { path: raw } : raw;
  if (!isObject(entry)) throw new ConfigError(`config: "${path}" must be a file path or {"path", "enabled", "publish"}, got ${JSON.stringify(raw)}`);
  checkKeys(entry, ['path', 'enabled', 'publish'], path);
  if (typeof entry.path !== 'string' || entry.path.length === 0) throw new ConfigError(`config: "${path}${typeof raw === 'string' ? '' : '.path'}" must be a non-empty file path`);
  return { file: entry.path, ...validateStrategy({ enabled: entry.enabled, publish: entry.publish }, path) };
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Why a `YYYY-MM-DD` string is not a date of the (proleptic Gregorian) calendar — month 13,
 * 2025-02-29 — or undefined when it is one. The shape is checked by the caller.
 */
function calendarProblem(date: string): string | undefined {
  const [, y, m, d] = DATE_RE.exec(date)!;
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  if (month < 1 || month > 12) return `month ${m} does not exist`;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (day < 1) return `day ${d} does not exist`;
  if (day > days) return `${y}-${m} has ${days} days`;
  return undefined;
}

function validateExpirations(raw: unknown): string[] {
  const key = 'topology.expirations';
  if (!Array.isArray(raw)) throw new ConfigError(`config: "${key}" must be a list of YYYY-MM-DD dates (or null), got ${JSON.stringify(raw)}`);
  raw.forEach((e: unknown, i) => {
    if (typeof e !== 'string' || !DATE_RE.test(e)) {
      throw new ConfigError(`config: "${key}" must be a list of YYYY-MM-DD dates (or null); item ${i} is ${JSON.stringify(e)}`);
    }
    const problem = calendarProblem(e);
    if (problem) throw new ConfigError(`config: "${key}" item ${i} ${JSON.stringify(e)} is not a calendar date (${problem})`);
  });
  return [...new Set(raw as string[])].sort();
}

function validateTopology(raw: unknown): TopologyConfig {
  if (raw === undefined) return DEFAULT_TOPOLOGY;
  if (!isObject(raw)) throw new ConfigError('config: "topology" must be an object');
  checkKeys(raw, ['expirations', 'max_dte', 'strike_band_points', 'widths'], 'topology');
  const expirations = raw.expirations === undefined || raw.expirations === null ? null : validateExpirations(raw.expirations);
  const widthsRaw = 'widths' in raw ? raw.widths : DEFAULT_TOPOLOGY.widths;
  if (!Array.isArray(widthsRaw) || widthsRaw.length === 0) throw new ConfigError('config: "topology.widths" must be a non-empty list of positive numbers');
  const widths = [...new Set(widthsRaw.map((w, i) => num(w, `topology.widths[${i}]`, { positive: true }) as number))].sort((a, b) => a - b);
  return {
    expirations,
    max_dte: num('max_dte' in raw ? raw.max_dte : DEFAULT_TOPOLOGY.max_dte, 'topology.max_dte', { integer: true, min: 0 }) as number,
    strike_band_points: num('strike_band_points' in raw ? raw.strike_band_points : DEFAULT_TOPOLOGY.strike_band_points, 'topology.strike_band_points', { positive: true }) as number,
    widths,
  };
}

/** Validates parsed JSON into a complete config; throws ConfigError naming the bad key. */
export function validateConfig(raw: unknown): EngineConfig {
  if (!isObject(raw)) throw new ConfigError('config: the top level must be a JSON object');
  checkKeys(raw, ['tick_ms', 'topology', 'strategies'], '');
  const strategies = 'strategies' in raw ? raw.strategies : {};
  if (!isObject(strategies)) throw new ConfigError('config: "strategies" must be an object');
  checkKeys(strategies, [...BUILTIN_STRATEGIES, 'custom', 'modules'], 'strategies');
  const customRaw = 'custom' in strategies ? strategies.custom : [];
  if (!Array.isArray(customRaw)) throw new ConfigError('config: "strategies.custom" must be a list');
  const custom = customRaw.map(validateCustom);
  const names = custom.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ConfigError(`config: custom strategy name "${dup}" is used twice`);
  const modulesRaw = 'modules' in strategies ? strategies.modules : [];
  if (!Array.isArray(modulesRaw)) throw new ConfigError('config: "strategies.modules" must be a list of module file paths');
  return {
    tick_ms: num('tick_ms' in raw ? raw.tick_ms : DEFAULT_TICK_MS, 'tick_ms', { integer: true, positive: true }) as number,
    topology: validateTopology(raw.topology),
    strategies: {
      single: validateStrategy(strategies.single, 'strategies.single'),
      vertical: validateStrategy(strategies.vertical, 'strategies.vertical'),
      fly: validateStrategy(strategies.fly, 'strategies.fly'),
      custom: [...custom].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      modules: modulesRaw.map(validateModule),
    },
  };
}

// The strategy-name functions (evaluation order, `--strategies`) live beside, re-exported here.
export { allStrategyNames, enabledStrategyNames, selectStrategies, strategyConfigOf } from './strategy-names.js';
