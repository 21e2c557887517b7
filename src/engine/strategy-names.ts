import { BUILTIN_STRATEGIES, ConfigError, type BuiltinStrategy, type EngineConfig, type ModuleStrategyConfig, type StrategyConfig } from './config.js';

/**
 * Strategy names of a config: which strategies exist, which are enabled, in which order the engine
 * evaluates them (built-ins, custom by name, then loaded modules by name; ARCHITECTURE rule 4), and
 * `--strategies` selection. Re-exported by config.ts.
 */

/** Loaded module strategies (named), in their order in the config (by name once loaded). */
function namedModules(config: EngineConfig): (ModuleStrategyConfig & { name: string })[] {
  return config.strategies.modules.filter((m): m is ModuleStrategyConfig & { name: string } => m.name !== undefined);
}

/**
 * All strategy names of a config, in the engine's fixed evaluation order: built-ins, custom by
 * name, then loaded modules by name.
 */
export function allStrategyNames(config: EngineConfig): string[] {
  return [...BUILTIN_STRATEGIES, ...config.strategies.custom.map((c) => c.name), ...namedModules(config).map((m) => m.name)];
}

/** The settings of one strategy by name: a built-in's section, a custom entry or a loaded module's entry. */
export function strategyConfigOf(config: EngineConfig, name: string): StrategyConfig | undefined {
  if ((BUILTIN_STRATEGIES as readonly string[]).includes(name)) return config.strategies[name as BuiltinStrategy];
  return config.strategies.custom.find((c) => c.name === name) ?? namedModules(config).find((m) => m.name === name);
}

/** The names of enabled strategies, in evaluation order. */
export function enabledStrategyNames(config: EngineConfig): string[] {
  const out: string[] = [];
  for (const name of BUILTIN_STRATEGIES) if (config.strategies[name].enabled) out.push(name);
  for (const c of config.strategies.custom) if (c.enabled) out.push(c.name);
  for (const m of namedModules(config)) if (m.enabled) out.push(m.name);
  return out;
}

/**
 * `--strategies a,b`: selects exactly the strategies named (enabling them, disabling the rest).
 * Unknown names are a ConfigError that lists the valid ones.
 */
export function selectStrategies(config: EngineConfig, names: readonly string[]): EngineConfig {
  const valid = allStrategyNames(config);
  for (const n of names) {
    if (!valid.includes(n)) throw new ConfigError(`unknown strategy "${n}" — valid: ${valid.join(', ')}`);
  }
  const on = (n: string) => names.includes(n);
  const s = config.strategies;
  return {
    ...config,
    strategies: {
      single: { ...s.single, enabled: on('single') },
      vertical: { ...s.vertical, enabled: on('vertical') },
      fly: { ...s.fly, enabled: on('fly') },
      custom: s.custom.map((c) => ({ ...c, enabled: on(c.name) })),
      modules: s.modules.map((m) => ({ ...m, enabled: m.name !== undefined && on(m.name) })),
    },
  };
}
