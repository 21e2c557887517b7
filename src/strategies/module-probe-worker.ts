import { parentPort, workerData } from 'node:worker_threads';
import type { EngineConfig } from '../engine/config.js';
import { loadStrategyModules } from './modules.js';

/**
 * The throwaway thread of `probeStrategyModules` (module-probe.ts): loads each strategy module of
 * the config on its own, saying which one it starts before it starts it, so that a module that
 * never finishes loading can be named and the thread terminated.
 */

export type ProbeMessage =
  | { readonly type: 'loading'; readonly file: string }
  | { readonly type: 'failed'; readonly file: string; readonly message: string }
  | { readonly type: 'done' };

const config = workerData as EngineConfig;
const port = parentPort!;
for (const entry of config.strategies.modules) {
  port.postMessage({ type: 'loading', file: entry.file } satisfies ProbeMessage);
  try {
    await loadStrategyModules({ ...config, strategies: { ...config.strategies, custom: [], modules: [entry] } });
  } catch (err) {
    port.postMessage({ type: 'failed', file: entry.file, message: err instanceof Error ? err.message : String(err) } satisfies ProbeMessage);
    process.exit(0);
  }
}
port.postMessage({ type: 'done' } satisfies ProbeMessage);
