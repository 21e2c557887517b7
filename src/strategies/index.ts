import { BUILTIN_STRATEGIES, enabledStrategyNames, type BuiltinStrategy, type EngineConfig } from '../engine/config.js';
import type { Strategy } from '../engine/strategy.js';
import { createCustomStrategy } from './custom.js';
import { fly } from './fly.js';
import { instantiateModule } from './modules.js';
import { single } from './single.js';
import { vertical } from './vertical.js';

export type { Strategy } from '../engine/strategy.js';
export { loadStrategyModules } from './modules.js';

/**
 * The registry of built-in strategies. Its keys are the config's built-in names
 * (`BUILTIN_STRATEGIES`, the one list of them): the type makes the two agree.
 */
const BUILTIN: Readonly<Record<BuiltinStrategy, Strategy>> = { single, vertical, fly };

function isBuiltin(name: string): name is BuiltinStrategy {
  return (BUILTIN_STRATEGIES as readonly string[]).includes(name);
}

/**
 * Looks up a strategy by name: a built-in, a custom one defined in the config, or a strategy
 * module's (loaded in this thread by `loadStrategyModules`).
 */
export function createStrategy(name: string, config: EngineConfig): Strategy {
  if (isBuiltin(name)) return BUILTIN[name];
  const custom = config.strategies.custom.find((c) => c.name === name);
  if (custom) return createCustomStrategy(custom);
  const mod = config.strategies.modules.find((m) => m.name === name);
  if (mod) return instantiateModule(mod.file);
  throw new Error(`unknown strategy "${name}"`);
}

/** The enabled strategies of a config, in evaluation order (what an Engine is given). */
export function resolveStrategies(config: EngineConfig): Strategy[] {
  const unloaded = config.strategies.modules.find((m) => m.name === undefined);
  if (unloaded) throw new Error(`strategy module ${unloaded.file} is not loaded: call loadStrategyModules(config) first`);
  return enabledStrategyNames(config).map((name) => createStrategy(name, config));
}
