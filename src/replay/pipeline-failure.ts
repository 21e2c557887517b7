import type { PipelineSummary } from '../engine/engine.js';
import type { PipelineErrorRecord, PipelineFailure } from '../engine/types.js';

/**
 * What the main thread says about a pipeline whose worker it lost — stalled (stopped by the
 * watchdog), out of memory, crashed, or too far behind a live feed — when the worker itself can no
 * longer say anything: its error line and its summary entry.
 */

/** Why the pool stopped a pipeline, in words for the error line and the summary. */
export interface LostPipeline {
  readonly reason: Exclude<PipelineFailure, 'threw'>;
  readonly message: string;
}

/** The error line's record. */
export function lostRecord(strategy: string, at_us: number, lost: LostPipeline): PipelineErrorRecord {
  return { type: 'error', strategy, at_us, reason: lost.reason, message: lost.message };
}

const VERSION_PREFIX = Buffer.from('{"type":"version"');
const ERROR_PREFIX = Buffer.from('{"type":"error"');

function startsWith(line: Uint8Array, prefix: Uint8Array): boolean {
  if (line.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (line[i] !== prefix[i]) return false;
  return true;
}

/** True when an NDJSON line (bytes) is a version line. */
export function isVersionLine(line: Uint8Array): boolean {
  return startsWith(line, VERSION_PREFIX);
}

/** True when an NDJSON line (bytes) is an error line. */
export function isErrorLine(line: Uint8Array): boolean {
  return startsWith(line, ERROR_PREFIX);
}

/**
 * The summary entry of a lost pipeline, from its last version line (the only state of it the main
 * thread holds): versions and final hash as published, slots and populated tiles as of that
 * version, nothing pending (what it had staged since is gone with its thread).
 */
export function lostSummary(lastVersionLine: Uint8Array | undefined, lost: LostPipeline): PipelineSummary {
  let versions = 0;
  let final_hash = '';
  let slots = 0;
  let populated = 0;
  if (lastVersionLine) {
    const v = JSON.parse(Buffer.from(lastVersionLine).toString('utf8')) as { version: number; hash: string; stats: { slots: number; populated: number } };
    versions = v.version;
    final_hash = v.hash;
    slots = v.stats.slots;
    populated = v.stats.populated;
  }
  return { versions, final_hash, slots, populated, pending: 0, error: `${lost.reason}: ${lost.message}` };
}

/** `8 MiB`, `512 KiB`. */
export function formatBytes(n: number): string {
  return n >= 1048576 && n % 1048576 === 0 ? `${n / 1048576} MiB` : `${Math.round(n / 1024)} KiB`;
}

/** `3 s`, `500 ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
