import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILTIN_STRATEGIES, STRATEGY_NAME_RE, type EngineConfig, type ModuleStrategyConfig } from '../engine/config.js';
import { formatStrike, makeTileDef, type Strategy, type StrategyModuleApi } from '../engine/strategy.js';
import type { TileDef } from '../engine/types.js';
import { InputError } from '../errors.js';

/**
 * Strategy modules (DESIGN §2.4): a user's ES module file whose default export (or `strategy`
 * export) is a Strategy — `{ name, usesSpot, enumerate, score }`, the interface of the built-ins —
 * or a factory `(api) => Strategy` given the helpers (`makeTileDef`, `formatStrike`), so that a file
 * outside this package needs no import at all.
 *
 * Loading checks everything a user can get wrong before the run starts, each an InputError (exit 2)
 * naming the file: missing file, a file that does not load, no export, a wrong shape, a name that
 * cannot go into tile keys, a name taken by a built-in, a custom strategy or another module. What
 * only shows while running (enumerate returning something else than tile definitions, a score that
 * is not a number) is checked by a thin wrapper and throws inside the pipeline, which the engine
 * reports as that strategy's error line.
 *
 * Loaded modules are kept per thread by absolute path; a worker thread loads them again from the
 * config it is given (the same absolute paths), so every thread runs the same code.
 */

const API: StrategyModuleApi = Object.freeze({ makeTileDef, formatStrike });

interface LoadedModule {
  readonly name: string;
  /** A fresh strategy (a factory export is called again: a run never shares state with another). */
  readonly make: () => Strategy;
}

const loaded = new Map<string, LoadedModule>();

const NAME_RULE = 'lowercase letters, digits, - and _, starting with a letter, at most 32 characters (it goes into tile keys ROOT:EXPIRATION:STRATEGY:RIGHT:K1/K2)';

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? JSON.stringify(v) : typeof v);

/**
 * Loads every module of `config.strategies.modules` (paths resolved against the working
 * directory; the CLI resolves config-file entries against the config's folder first), checks
 * them, and returns the config with each entry's absolute `file` and its strategy's `name`, sorted
 * by name. A file listed twice is loaded once (the first entry's settings count).
 */
export async function loadStrategyModules(config: EngineConfig): Promise<EngineConfig> {
  const byName = new Map<string, string>();
  const customs = new Set(config.strategies.custom.map((c) => c.name));
  const seen = new Set<string>();
  const out: ModuleStrategyConfig[] = [];
  for (const entry of config.strategies.modules) {
    const file = path.resolve(entry.file);
    if (seen.has(file)) continue;
    seen.add(file);
    const mod = await loadModule(file);
    const name = mod.name;
    const taken = (BUILTIN_STRATEGIES as readonly string[]).includes(name)
      ? 'a built-in strategy'
      : customs.has(name)
        ? 'a custom strategy of the config (strategies.custom)'
        : byName.has(name)
          ? `the strategy of module ${byName.get(name)!}`
          : undefined;
    if (taken) throw new InputError(`strategy module ${file}: its strategy is named "${name}", which is already ${taken} — give it another name`);
    if (entry.name !== undefined && entry.name !== name) {
      throw new InputError(`strategy module ${file}: its strategy is now named "${name}", not "${entry.name}" — did the file change during the run?`);
    }
    byName.set(name, file);
    out.push({ ...entry, file, name });
  }
  out.sort((a, b) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0));
  return { ...config, strategies: { ...config.strategies, modules: out } };
}

/** A fresh strategy of a module loaded in this thread by `loadStrategyModules`. */
export function instantiateModule(file: string): Strategy {
  const mod = loaded.get(file);
  if (!mod) throw new Error(`strategy module ${file} is not loaded in this thread: call loadStrategyModules(config) first`);
  return mod.make();
}

async function loadModule(file: string): Promise<LoadedModule> {
  const known = loaded.get(file);
  if (known) return known;
  try {
    if (!(await stat(file)).isFile()) throw new InputError(`strategy module ${file} is not a file`);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `strategy module ${file} does not exist` : `cannot read strategy module ${file} (${code ?? String(err)})`);
  }
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const why = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
    const hint = /Unexpected token 'export'|Cannot use import statement/.test(why) ? ' (name it .mjs, or put it beside a package.json with "type": "module")' : '';
    throw new InputError(`strategy module ${file} could not be loaded: ${why}${hint}`);
  }
  const exported = ns.default ?? ns.strategy;
  if (exported === undefined) {
    throw new InputError(
      `strategy module ${file} exports no strategy — write \`export default { name, usesSpot, enumerate, score }\` ` +
        '(or `export default function (api) { return { … } }`), or `export const strategy = …`',
    );
  }
  const what = ns.default !== undefined ? 'default export' : '"strategy" export';
  const make = (): Strategy => {
    if (typeof exported !== 'function') return checkShape(exported, file, what);
    let made: unknown;
    try {
      made = (exported as (api: StrategyModuleApi) => unknown)(API);
    } catch (err) {
      throw new InputError(`strategy module ${file}: its ${what} (a factory) threw: ${err instanceof Error ? err.message : String(err)}`);
    }
    return checkShape(made, file, `${what}'s factory result`);
  };
  const mod: LoadedModule = { name: make().name, make };
  loaded.set(file, mod);
  return mod;
}

/** Checks the members of a module's strategy and wraps it (see `guard`). */
function checkShape(s: unknown, file: string, what: string): Strategy {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    throw new InputError(`strategy module ${file}: its ${what} is ${describe(s)}, not a strategy { name, usesSpot, enumerate, score }`);
  }
  const o = s as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof o.name !== 'string') problems.push(`"name" must be a string (got ${describe(o.name)})`);
  else if (!STRATEGY_NAME_RE.test(o.name)) problems.push(`name ${JSON.stringify(o.name)} is not a valid strategy name: ${NAME_RULE}`);
  if (typeof o.usesSpot !== 'boolean') problems.push(`"usesSpot" must be true or false (got ${describe(o.usesSpot)})`);
  if (typeof o.enumerate !== 'function') problems.push(`"enumerate" must be a function (universe, widths) => tile definitions (got ${describe(o.enumerate)})`);
  if (typeof o.score !== 'function') problems.push(`"score" must be a function (def, value, spot) => number or null (got ${describe(o.score)})`);
  if (problems.length > 0) throw new InputError(`strategy module ${file}: its ${what} is not a strategy — ${problems.join('; ')}`);
  return guard(o as unknown as Strategy);
}

/**
 * The module's strategy with its results checked where a mistake would otherwise corrupt the
 * output quietly: tiles of another strategy (their keys would name it), a score that is not a
 * finite number or null. A violation throws inside the pipeline: the engine reports it as the
 * strategy's error line and stops that strategy only.
 */
function guard(s: Strategy): Strategy {
  const name = s.name;
  return {
    name,
    usesSpot: s.usesSpot,
    enumerate(universe, widths) {
      const defs: unknown = s.enumerate(universe, widths);
      if (!Array.isArray(defs)) throw new Error(`enumerate() returned ${describe(defs)}, not an array of tile definitions (makeTileDef)`);
      for (const d of defs as TileDef[]) {
        const ok = typeof d === 'object' && d !== null && d.strategy === name && typeof d.key === 'string' && Array.isArray(d.legs) && d.legs.length > 0;
        if (!ok) {
          const what = typeof d !== 'object' || d === null ? describe(d) : `${String(d.key)} (strategy ${JSON.stringify(d.strategy)}, ${Array.isArray(d.legs) ? d.legs.length : 'no'} legs)`;
          throw new Error(`enumerate() returned ${what} — build every tile with makeTileDef("${name}", root, expiration, right, legs), at least one leg`);
        }
      }
      return defs as TileDef[];
    },
    score(def, value, spot) {
      const r: unknown = s.score(def, value, spot);
      if (r !== null && (typeof r !== 'number' || !Number.isFinite(r))) throw new Error(`score() returned ${describe(r) === 'number' ? String(r) : describe(r)} for ${def.key}: a finite number or null`);
      return r as number | null;
    },
  };
}
