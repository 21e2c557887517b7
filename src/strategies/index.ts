import type { EngineConfig } from '../engine/config.js';
import { createCustomStrategy } from './custom.js';
import { fly } from './fly.js';
import { single } from './single.js';
import type { Strategy } from './types.js';
import { vertical } from './vertical.js';

export type { Strategy } from './types.js';

const BUILTIN: Readonly<Record<string, Strategy>> = { single, vertical, fly };

/** Looks up a strategy by name: a built-in, or a custom one defined in the config. */
export function createStrategy(name: string, config: EngineConfig): Strategy {
  const builtin = BUILTIN[name];
  if (builtin) return builtin;
  const custom = config.strategies.custom.find((c) => c.name === name);
  if (!custom) throw new Error(`unknown strategy "${name}"`);
  return createCustomStrategy(custom);
}
