import { readFile } from 'node:fs/promises';
import { defaultConfig, selectStrategies, validateConfig, type EngineConfig } from '../engine/config.js';
import { InputError } from '../errors.js';

/** Loads `--config FILE` (or the defaults) and applies `--strategies`. */
export async function loadEngineConfig(path: string | undefined, strategies: string | undefined): Promise<EngineConfig> {
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
  }
  if (strategies !== undefined) {
    const names = strategies.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (names.length === 0) throw new InputError('--strategies needs at least one name, e.g. --strategies fly,vertical');
    config = selectStrategies(config, names);
  }
  return config;
}
