/**
 * Status line and final summary of `heatmap record` (and of `live`, which reuses the recorder).
 * Pure formatting plus one directory listing for file sizes.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { StreamName } from '../recording/lines.js';
import type { RecordBand } from './record-scope.js';

/** A point-in-time view of a running recorder. */
export interface RecorderStatus {
  readonly elapsed_ms: number;
  /** Lines per stream so far. */
  readonly lines: Readonly<Partial<Record<StreamName, number>>>;
  /** WS frames per second per cluster since the previous status. */
  readonly frames_per_s: Readonly<Record<string, number>>;
  /** Connection state per WS cluster (`live`, `connecting`, `waiting`, `closed`). */
  readonly ws: Readonly<Record<string, string>>;
  readonly snapshots: { readonly complete: number; readonly failed: number; readonly last_ms: number | undefined; readonly last_pages: number };
  readonly gaps: number;
  readonly contracts: number;
  /** Total size of the recording's files on disk (0 without an output directory). */
  readonly bytes: number;
  readonly queue_bytes: number;
  readonly dropped_lines: number;
}

/** What a finished recorder did. */
export interface RecorderSummary {
  /** The recording directory, when one was written. */
  readonly outDir: string | undefined;
  readonly started_us: number;
  readonly stopped_us: number;
  /** Why it stopped. `error` summaries are attached to the thrown error as `summary`. */
  readonly stop: 'duration' | 'signal' | 'error';
  readonly lines: Readonly<Partial<Record<StreamName, number>>>;
  /** WS frames received after auth, per cluster. */
  readonly frames: Readonly<Record<string, number>>;
  readonly snapshots: { readonly complete: number; readonly failed: number; readonly pages: number; readonly loops: number; readonly capped: number };
  /** Gap lines written, per stream. */
  readonly gaps: Readonly<Record<string, number>>;
  readonly reconnects: Readonly<Record<string, number>>;
  /** Server notices (max_connections, slow_consumer, …) per cluster and status. */
  readonly notices: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly dropped_lines: number;
  /** Chain contracts dropped from the recorder's view: duplicates and outside the requested filter. */
  readonly chain_dropped: { readonly duplicates: number; readonly out_of_filter: number };
  readonly topology: (RecordBand & { readonly contracts: number }) | null;
  readonly files: readonly { readonly name: string; readonly bytes: number }[];
}

/** The files of a recording directory with their sizes (name order); empty when `dir` is undefined. */
export async function fileSizes(dir: string | undefined): Promise<{ name: string; bytes: number }[]> {
  if (dir === undefined) return [];
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return [];
  }
  const out: { name: string; bytes: number }[] = [];
  for (const name of names) {
    try {
      const st = await fsp.stat(path.join(dir, name));
      if (st.isFile()) out.push({ name, bytes: st.size });
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/** `rec 00:12:03 | options 41.2 f/s | indices 1.0 f/s | chain 52 (3 p, 0.84 s) | gaps 1 | 240 contracts | 12.4 MB` */
export function formatStatus(s: RecorderStatus): string {
  const parts = [`rec ${hms(s.elapsed_ms)}`];
  for (const [cluster, fps] of Object.entries(s.frames_per_s)) {
    const state = s.ws[cluster];
    parts.push(`${cluster} ${fps.toFixed(1)} f/s${state && state !== 'live' ? ` [${state}]` : ''}`);
  }
  const last = s.snapshots.last_ms !== undefined ? ` (${s.snapshots.last_pages} p, ${(s.snapshots.last_ms / 1000).toFixed(2)} s)` : '';
  parts.push(`chain ${s.snapshots.complete}${last}${s.snapshots.failed > 0 ? ` ${s.snapshots.failed} failed` : ''}`);
  parts.push(`gaps ${s.gaps}`);
  parts.push(`${s.contracts} contracts`);
  if (s.bytes > 0) parts.push(formatBytes(s.bytes));
  if (s.queue_bytes > 1048576) parts.push(`queue ${formatBytes(s.queue_bytes)}`);
  if (s.dropped_lines > 0) parts.push(`DROPPED ${s.dropped_lines} lines`);
  return parts.join(' | ');
}

/** A few human lines for stderr at the end of a run. */
export function formatSummary(r: RecorderSummary): string {
  const secs = (r.stopped_us - r.started_us) / 1e6;
  const lines = [`recorded ${hms(secs * 1000)} (${r.stop})${r.outDir !== undefined ? ` to ${r.outDir}` : ''}`];
  const streamText = Object.entries(r.lines).map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`).join(', ');
  lines.push(`  lines: ${streamText || 'none'}`);
  const s = r.snapshots;
  lines.push(`  chain: ${s.complete} snapshots, ${s.pages} pages, ${s.failed} failed requests${s.loops ? `, ${s.loops} looping next_url` : ''}${s.capped ? `, ${s.capped} page-capped` : ''}`);
  const gapText = Object.entries(r.gaps).map(([k, n]) => `${k} ${n}`).join(', ');
  lines.push(`  gaps: ${gapText || 'none'}; reconnects: ${Object.entries(r.reconnects).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const [cluster, notices] of Object.entries(r.notices)) {
    const text = Object.entries(notices).map(([k, n]) => `${k} ×${n}`).join(', ');
    if (text) lines.push(`  ${cluster} server notices: ${text}`);
  }
  if (r.dropped_lines > 0) lines.push(`  WARNING ${r.dropped_lines} lines dropped because the writer could not keep up (gaps recorded)`);
  if (r.chain_dropped.duplicates + r.chain_dropped.out_of_filter > 0) {
    lines.push(`  chain contracts ignored for subscriptions: ${r.chain_dropped.duplicates} duplicates, ${r.chain_dropped.out_of_filter} outside the requested filter`);
  }
  const t = r.topology;
  if (t) lines.push(`  topology: spot ${t.spot} (${t.spotSource}), strikes ${t.lo}..${t.hi}, expirations ${t.expirations.join(', ')}, ${t.contracts} contracts`);
  else lines.push('  topology: not built (no usable chain snapshot)');
  if (r.files.length > 0) lines.push(`  files: ${r.files.map((f) => `${f.name} ${formatBytes(f.bytes)}`).join(', ')}`);
  return lines.join('\n');
}

function hms(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}
