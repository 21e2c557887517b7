import path from 'node:path';
import type { EngineConfig } from '../engine/config.js';
import { InputError } from '../errors.js';
import { startWorker } from '../worker-thread.js';
import type { ProbeMessage } from './module-probe-worker.js';

/**
 * Loads a config's strategy modules once in a throwaway worker thread before the CLI loads them for
 * real, so that a module which never finishes loading (a loop at import time or in its factory) or
 * runs out of memory doing so is reported — exit 2 naming the file — instead of hanging the
 * command on its main thread, where not even Ctrl-C could stop it. A module that loads there loads
 * the same way afterwards (modules are deterministic code: DESIGN §2.4).
 */

/** How long one module may take to load (import + factory + shape checks). */
export const MODULE_LOAD_TIMEOUT_MS = 20_000;

export async function probeStrategyModules(config: EngineConfig, timeoutMs = MODULE_LOAD_TIMEOUT_MS): Promise<void> {
  if (config.strategies.modules.length === 0) return;
  const worker = startWorker('strategies/module-probe-worker.js', { workerData: config });
  let current: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const name = (file: string | undefined): string => (file === undefined ? 'a strategy module' : `strategy module ${path.resolve(file)}`);
  try {
    await new Promise<void>((resolve, reject) => {
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          reject(new InputError(`${name(current)} did not finish loading within ${timeoutMs / 1000} s — does it loop at import time or in its factory?`));
        }, timeoutMs);
      };
      arm();
      worker.on('message', (m: ProbeMessage) => {
        if (m.type === 'loading') {
          current = m.file;
          arm();
        } else if (m.type === 'failed') reject(new InputError(m.message));
        else resolve();
      });
      worker.on('error', (err: Error & { code?: string }) => {
        const why = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'ran out of memory while loading' : `failed while loading: ${err.message}`;
        reject(new InputError(`${name(current)} ${why}`));
      });
      worker.on('exit', () => reject(new InputError(`${name(current)} ended its thread while loading (process.exit?)`)));
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}
