import { readFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { allStrategyNames, ConfigError, DEFAULT_PUBLISH, defaultConfig, enabledStrategyNames, selectStrategies, validateConfig, type EngineConfig } from '../engine/config.js';
import { InputError } from '../errors.js';
import { loadStrategyModules } from '../strategies/modules.js';
import { probeStrategyModules } from '../strategies/module-probe.js';

export interface LoadEngineConfigOptions {
  /**
   * The command runs the config's strategies (replay, verify, live): a config that enables none of
   * them would compute nothing and exit 0, so it is a ConfigError (exit 2). `record` reads only the
   * topology of the same file and leaves this off.
   */
  readonly runsStrategies?: boolean;
  /**
   * `--strategy-module FILE…` (relative to the working directory), added to the config's
   * `strategies.modules` (relative to the config file). Modules are loaded and checked only by
   * commands that run strategies.
   */
  readonly modules?: readonly string[];
}

/** Loads `--config FILE` (or the defaults), loads the strategy modules and applies `--strategies`. */
export async function loadEngineConfig(path: string | undefined, strategies: string | undefined, opts: LoadEngineConfigOptions = {}): Promise<EngineConfig> {
  let config = defaultConfig();
  if (path !== undefined) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(code === 'ENOENT' ? `config file ${path} does not exist` : `cannot read config file ${path} (${code ?? 'error'})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new InputError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
    }
    config = validateConfig(json);
    const base = nodePath.dirname(nodePath.resolve(path));
    const modules = config.strategies.modules.map((m) => ({ ...m, file: nodePath.resolve(base, m.file) }));
    config = { ...config, strategies: { ...config.strategies, modules } };
  }
  if (opts.runsStrategies) {
    const fromCli = (opts.modules ?? []).map((f) => ({ file: nodePath.resolve(f), enabled: true, publish: DEFAULT_PUBLISH }));
    const withModules = { ...config, strategies: { ...config.strategies, modules: [...config.strategies.modules, ...fromCli] } };
    await probeStrategyModules(withModules); // a module that hangs while loading must not hang us
    config = await loadStrategyModules(withModules);
  }
  if (strategies !== undefined) {
    const names = strategies.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (names.length === 0) throw new InputError('--strategies needs at least one name, e.g. --strategies fly,vertical');
    config = selectStrategies(config, names);
  }
  if (opts.runsStrategies && enabledStrategyNames(config).length === 0) {
    // Only a config can get here: --strategies enables at least the one strategy it names.
    const all = allStrategyNames(config);
    throw new ConfigError(
      `no strategy is enabled: ${path !== undefined ? `config file ${path}` : 'the config'} sets "enabled": false on every strategy (${all.join(', ')}) — ` +
        `enable one there, or pick some with --strategies ${all.join(',')}`,
    );
  }
  return config;
}
