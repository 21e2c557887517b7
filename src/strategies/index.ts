import { BUILTIN_STRATEGIES, enabledStrategyNames, type BuiltinStrategy, type EngineConfig } from '../engine/config.js';
import type { Strategy } from '../engine/strategy.js';
import { createCustomStrategy } from './custom.js';
import { fly } from './fly.js';
import { single } from './single.js';
import { vertical } from './vertical.js';

export type { Strategy } from '../engine/strategy.js';

/**
 * The registry of built-in strategies. Its keys are the config's built-in names
 * (`BUILTIN_STRATEGIES`, the one list of them): the type makes the two agree.
 */
const BUILTIN: Readonly<Record<BuiltinStrategy, Strategy>> = { single, vertical, fly };

function isBuiltin(name: string): name is BuiltinStrategy {
  return (BUILTIN_STRATEGIES as readonly string[]).includes(name);
}

/** Looks up a strategy by name: a built-in, or a custom one defined in the config. */
export function createStrategy(name: string, config: EngineConfig): Strategy {
  if (isBuiltin(name)) return BUILTIN[name];
  const custom = config.strategies.custom.find((c) => c.name === name);
  if (!custom) throw new Error(`unknown strategy "${name}"`);
  return createCustomStrategy(custom);
}

/** The enabled strategies of a config, in evaluation order (what an Engine is given). */
export function resolveStrategies(config: EngineConfig): Strategy[] {
  return enabledStrategyNames(config).map((name) => createStrategy(name, config));
}
