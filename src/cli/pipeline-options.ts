import { UsageError } from '../errors.js';
import { parseDuration, parsePositiveInt } from './parse-options.js';

/**
 * The flags of the worker pipelines (`live`, `replay --sse`, `replay --tui`): the watchdog's stall
 * timeout and each pipeline thread's heap limit. Light on purpose: command files import it for
 * the help text without loading the pool.
 */

/** Raw commander values. */
export interface PipelineCliOptions {
  stallTimeout?: string;
  pipelineHeap?: string;
}

/** Validated settings. */
export interface PipelineSettings {
  readonly stallTimeoutMs: number;
  readonly heapMb: number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 5000;
export const DEFAULT_PIPELINE_HEAP_MB = 1024;

export const PIPELINE_FLAGS = {
  stallTimeout: [
    '--stall-timeout <d>',
    'with strategies in worker pipelines (live, --sse, --tui): a strategy that has not finished an input for this long is stopped and reported as stalled; the others go on (default 5s)',
  ],
  pipelineHeap: ['--pipeline-heap <MiB>', 'heap limit of each strategy\'s worker thread: a strategy that needs more is stopped and reported (default 1024)'],
} as const;

/** Validates the pipeline flags (defaults when absent). */
export function parsePipelineFlags(opts: PipelineCliOptions): PipelineSettings {
  const stallTimeoutMs = opts.stallTimeout === undefined ? DEFAULT_STALL_TIMEOUT_MS : parseDuration(opts.stallTimeout, '--stall-timeout');
  if (stallTimeoutMs < 100) throw new UsageError(`--stall-timeout "${opts.stallTimeout}" is too short: a pipeline gets at least 100ms per input`);
  const heapMb = opts.pipelineHeap === undefined ? DEFAULT_PIPELINE_HEAP_MB : parsePositiveInt(opts.pipelineHeap, '--pipeline-heap');
  if (heapMb < 16) throw new UsageError(`--pipeline-heap ${heapMb} is too small: give each pipeline at least 16 MiB`);
  return { stallTimeoutMs, heapMb };
}
