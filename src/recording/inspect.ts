import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Tally } from '../engine/tally.js';
import { parseJsonLossless } from '../massive/timestamps.js';
import type { StreamName } from './lines.js';
import { readManifest, type Manifest } from './manifest.js';
import { listRecordingFiles, newReadReport, readStreamLines, type ReaderOptions } from './reader.js';

/**
 * `heatmap inspect`: one streaming pass over every stream of a recording, counting what is there.
 * Memory is constant in the recording's length (only counters and the gap list are kept).
 */

export interface StreamInspection {
  files: { name: string; bytes: number }[];
  lines: number;
  first_recv_us: number | null;
  last_recv_us: number | null;
  /** Lines whose recv_us is below the previous line's (replay order would be wrong). */
  recv_regressions: number;
  /** Events by type: WS `ev` values (T, Q, V, status…), or `page` / `result` for the chain. */
  events: Record<string, number>;
}

export interface Inspection {
  recording: string;
  manifest: Pick<Manifest, 'underlying' | 'source' | 'created_us'> & { sim?: Manifest['sim'] };
  streams: Record<string, StreamInspection>;
  other_files: string[];
  span_us: [number, number] | null;
  chain: { snapshots: number; complete_snapshots: number; pages: number; results: number; non_200: number };
  gaps: { stream: string; from_us: number; to_us: number; reason: string }[];
  bad_lines: { total: number; reasons: Record<string, number>; examples: Record<string, readonly string[]> };
  truncated: { file: string; reason: string }[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function inspectRecording(dir: string, opts: ReaderOptions = {}): Promise<Inspection> {
  const manifest = await readManifest(dir);
  const { streams: files, other } = await listRecordingFiles(dir);
  const report = newReadReport();
  const bad = new Tally(3);
  const out: Inspection = {
    recording: dir,
    manifest: { underlying: manifest.underlying, source: manifest.source, created_us: manifest.created_us, ...(manifest.sim ? { sim: manifest.sim } : {}) },
    streams: {},
    other_files: other,
    span_us: null,
    chain: { snapshots: 0, complete_snapshots: 0, pages: 0, results: 0, non_200: 0 },
    gaps: [],
    bad_lines: { total: 0, reasons: {}, examples: {} },
    truncated: [],
  };
  const snapshotPages = new Map<number, { pages: Set<number>; last?: number }>();
  for (const stream of [...files.keys()].sort() as StreamName[]) {
    const names = files.get(stream)!;
    const info: StreamInspection = { files: [], lines: 0, first_recv_us: null, last_recv_us: null, recv_regressions: 0, events: {} };
    for (const name of names) info.files.push({ name, bytes: (await stat(path.join(dir, name))).size });
    const events = new Tally();
    for await (const line of readStreamLines(dir, stream, names, report, opts)) {
      info.lines++;
      if (info.last_recv_us !== null && line.recv_us < info.last_recv_us) info.recv_regressions++;
      info.first_recv_us ??= line.recv_us;
      info.last_recv_us = line.recv_us;
      let obj: unknown;
      try {
        obj = stream === 'chain' ? parseJsonLossless(line.text) : JSON.parse(line.text);
      } catch {
        bad.add('bad_json', `${line.file}:${line.line_no}`);
        continue;
      }
      if (!isObj(obj)) {
        bad.add('line_not_object', `${line.file}:${line.line_no}`);
        continue;
      }
      if (isObj(obj.gap)) {
        const g = obj.gap;
        events.add('gap');
        out.gaps.push({ stream: String(g.stream ?? stream), from_us: Number(g.from_us), to_us: Number(g.to_us), reason: String(g.reason) });
      } else if (stream === 'chain') {
        countChainLine(obj, out, snapshotPages, events);
      } else if (Array.isArray(obj.frame)) {
        for (const ev of obj.frame) events.add(isObj(ev) && typeof ev.ev === 'string' ? ev.ev : 'malformed_event');
      } else {
        bad.add('line_without_frame', `${line.file}:${line.line_no}`);
      }
    }
    info.events = events.toJSON();
    out.streams[stream] = info;
  }
  for (const [, s] of snapshotPages) if (s.last !== undefined && s.pages.size === s.last + 1) out.chain.complete_snapshots++;
  out.chain.snapshots = snapshotPages.size;
  bad.merge(report.bad);
  out.bad_lines = { total: bad.total, reasons: bad.toJSON(), examples: bad.sampleDetails() };
  out.truncated = report.cuts;
  const firsts = Object.values(out.streams).map((s) => s.first_recv_us).filter((v): v is number => v !== null);
  const lasts = Object.values(out.streams).map((s) => s.last_recv_us).filter((v): v is number => v !== null);
  if (firsts.length > 0) out.span_us = [Math.min(...firsts), Math.max(...lasts)];
  out.gaps.sort((a, b) => a.from_us - b.from_us || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  return out;
}

function countChainLine(obj: Obj, out: Inspection, snapshots: Map<number, { pages: Set<number>; last?: number }>, events: Tally): void {
  events.add('page');
  out.chain.pages++;
  if (obj.status !== undefined && obj.status !== 200) out.chain.non_200++;
  if (typeof obj.snapshot === 'number' && typeof obj.page === 'number') {
    const s = snapshots.get(obj.snapshot) ?? { pages: new Set<number>() };
    s.pages.add(obj.page);
    if (obj.last === true) s.last = obj.page;
    snapshots.set(obj.snapshot, s);
  }
  const body = obj.body;
  if (isObj(body) && Array.isArray(body.results)) {
    out.chain.results += body.results.length;
    events.add('result', undefined, body.results.length);
  }
}

const iso = (us: number | null): string => (us === null ? '-' : new Date(Math.floor(us / 1000)).toISOString());

const human = (bytes: number): string =>
  bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${bytes} B`;

/** The text report. */
export function formatInspection(r: Inspection): string {
  const lines: string[] = [];
  lines.push(`recording ${r.recording}`);
  lines.push(`  underlying ${r.manifest.underlying}, source ${r.manifest.source}${r.manifest.sim ? `, sim seed ${r.manifest.sim.seed}` : ''}`);
  if (r.span_us) {
    const secs = (r.span_us[1] - r.span_us[0]) / 1e6;
    lines.push(`  span ${iso(r.span_us[0])} → ${iso(r.span_us[1])} (${secs.toFixed(1)} s of receive time)`);
  } else lines.push('  span: empty recording');
  lines.push('streams:');
  for (const [name, s] of Object.entries(r.streams)) {
    const size = s.files.reduce((n, f) => n + f.bytes, 0);
    lines.push(`  ${name.padEnd(8)} ${String(s.lines).padStart(9)} lines  ${human(size).padStart(9)}  ${s.files.map((f) => f.name).join(', ')}`);
    lines.push(`           ${iso(s.first_recv_us)} → ${iso(s.last_recv_us)}${s.recv_regressions ? `  (${s.recv_regressions} lines go back in time)` : ''}`);
    const ev = Object.entries(s.events).map(([k, n]) => `${k} ${n}`).join(', ');
    if (ev) lines.push(`           events: ${ev}`);
  }
  const c = r.chain;
  lines.push(`chain: ${c.snapshots} snapshots (${c.complete_snapshots} complete), ${c.pages} pages, ${c.results} results${c.non_200 ? `, ${c.non_200} non-200 pages` : ''}`);
  lines.push(`gaps: ${r.gaps.length}`);
  for (const g of r.gaps.slice(0, 20)) lines.push(`  ${g.stream} ${iso(g.from_us)} → ${iso(g.to_us)} (${((g.to_us - g.from_us) / 1e6).toFixed(1)} s, ${g.reason})`);
  if (r.gaps.length > 20) lines.push(`  … ${r.gaps.length - 20} more (use --json)`);
  lines.push(`bad lines: ${r.bad_lines.total}`);
  for (const [reason, n] of Object.entries(r.bad_lines.reasons)) {
    lines.push(`  ${reason} ${n}  e.g. ${(r.bad_lines.examples[reason] ?? []).join(', ')}`);
  }
  for (const t of r.truncated) lines.push(`truncated: ${t.file}: ${t.reason}`);
  if (r.other_files.length) lines.push(`other files (ignored): ${r.other_files.join(', ')}`);
  return lines.join('\n') + '\n';
}
