import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';

/**
 * `manifest.json` of a recording directory (DESIGN §4, format v1). The manifest says what the
 * recording is; its `streams` block (files and line counts) is informative only — readers trust
 * the directory listing, so a recorder killed between two manifest rewrites still replays fully.
 */

/** The manifest of recording format v1. */
export interface Manifest {
  format: 'heatmap-recording';
  version: 1;
  underlying: string;
  source: 'massive' | 'sim' | 'import';
  created_us: number;
  /** Per stream name: its files in name order and the number of lines written to them. */
  streams: Record<string, StreamInfo>;
  /** Present for simulated recordings: everything needed to regenerate them. */
  sim?: { seed: number; params: Record<string, unknown> };
}

/** One stream's entry: files in name order, lines written, and (when known) its receive-time span. */
export interface StreamInfo {
  files: string[];
  lines: number;
  first_recv_us?: number;
  last_recv_us?: number;
}

export const MANIFEST_FILE = 'manifest.json';
const SOURCES: readonly Manifest['source'][] = ['massive', 'sim', 'import'];

/**
 * Reads and validates `DIR/manifest.json`.
 * @throws InputError with a one-line message naming what to fix (missing directory, not a
 * directory, no manifest, invalid JSON, wrong `format`/`version`/field type).
 */
export async function readManifest(dir: string): Promise<Manifest> {
  let st;
  try {
    st = await fsp.stat(dir);
  } catch (err) {
    if (isCode(err, 'ENOENT')) throw new InputError(`recording ${dir} does not exist`);
    throw new InputError(`cannot open recording ${dir}: ${errMessage(err)}`);
  }
  if (!st.isDirectory()) {
    throw new InputError(`recording ${dir} is not a directory — pass the recording directory (the one holding manifest.json)`);
  }
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if (isCode(err, 'ENOENT')) throw new InputError(`recording ${dir} has no ${MANIFEST_FILE} — is it a recording directory?`);
    throw new InputError(`cannot read ${path.join(dir, MANIFEST_FILE)}: ${errMessage(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`recording ${dir}: ${MANIFEST_FILE} is not valid JSON (${oneLine(errMessage(err))}) — repair or recreate it`);
  }
  return validateManifest(raw, dir);
}

/** Checks the shape of a parsed manifest; unknown keys are ignored (forward compatible). */
export function validateManifest(raw: unknown, dir: string): Manifest {
  const where = `recording ${dir}: ${MANIFEST_FILE}`;
  if (!isObject(raw)) throw new InputError(`${where} must be a JSON object`);
  const field = (name: string, expected: string): InputError =>
    new InputError(`${where} field "${name}" is ${describe(raw[name])}, expected ${expected}`);
  if (raw.format !== 'heatmap-recording') throw field('format', '"heatmap-recording"');
  if (raw.version !== 1) {
    if (typeof raw.version === 'number' && raw.version > 1) {
      throw new InputError(`${where} field "version" is ${raw.version}; this heatmap reads recording format version 1 — upgrade heatmap`);
    }
    throw field('version', '1');
  }
  if (typeof raw.underlying !== 'string' || raw.underlying === '') throw field('underlying', 'a ticker string such as "I:SPX"');
  if (!SOURCES.includes(raw.source as Manifest['source'])) throw field('source', SOURCES.map((s) => `"${s}"`).join(' | '));
  if (!isNonNegInt(raw.created_us)) throw field('created_us', 'a non-negative integer (µs since the epoch)');
  if (!isObject(raw.streams)) throw field('streams', 'an object');
  const streams: Manifest['streams'] = {};
  for (const [name, s] of Object.entries(raw.streams)) {
    if (!isObject(s) || !Array.isArray(s.files) || !s.files.every((f) => typeof f === 'string') || !isNonNegInt(s.lines)) {
      throw new InputError(`${where} field "streams.${name}" must be {"files": [names…], "lines": <int>}`);
    }
    streams[name] = { files: [...(s.files as string[])], lines: s.lines, ...spanOfRaw(s) };
  }
  const m: Manifest = {
    format: 'heatmap-recording',
    version: 1,
    underlying: raw.underlying,
    source: raw.source as Manifest['source'],
    created_us: raw.created_us,
    streams,
  };
  if (raw.sim !== undefined) {
    const sim = raw.sim;
    if (!isObject(sim) || typeof sim.seed !== 'number' || !isObject(sim.params)) {
      throw field('sim', '{"seed": <number>, "params": {…}}');
    }
    m.sim = { seed: sim.seed, params: sim.params };
  }
  return m;
}

let tmpCounter = 0;

/**
 * Writes `DIR/manifest.json` atomically (temp file + rename: readers never see half a manifest).
 * Pretty-printed, keys in a fixed order (format, version, underlying, source, created_us, streams
 * sorted by name, sim), nested `sim.params` keys sorted, so equal manifests are equal bytes.
 */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), formatManifest(manifest));
}

/**
 * Writes `target` atomically: a temp file `.<name>.<pid>.<n>.tmp` beside it, then a rename, so a
 * reader sees the old file or the new one, never half of one. When the write or the rename fails
 * (ENOSPC, EACCES…) the temp file is removed — a full disk leaves no 0-byte leftovers — and the
 * error is rethrown unchanged (it names the temp file; callers say which file they were writing).
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${++tmpCounter}.tmp`);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined); // e.g. ENOTDIR: there is nothing to remove
    throw err;
  }
}

/** The exact bytes `writeManifest` writes (fixed key order, trailing newline). */
export function formatManifest(m: Manifest): string {
  const streams: Manifest['streams'] = {};
  for (const name of Object.keys(m.streams).sort()) {
    const s = m.streams[name]!;
    streams[name] = { files: [...s.files].sort(), lines: s.lines, ...spanOfRaw(s as unknown as Record<string, unknown>) };
  }
  const ordered: Record<string, unknown> = {
    format: m.format,
    version: m.version,
    underlying: m.underlying,
    source: m.source,
    created_us: m.created_us,
    streams,
  };
  if (m.sim) ordered.sim = { seed: m.sim.seed, params: sortKeys(m.sim.params) };
  return JSON.stringify(ordered, null, 2) + '\n';
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 37) + '…' : s;
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

/** The optional receive-time span of a stream entry (ignored unless both ends are integers). */
function spanOfRaw(s: Record<string, unknown>): { first_recv_us?: number; last_recv_us?: number } {
  const a = s.first_recv_us;
  const b = s.last_recv_us;
  return isNonNegInt(a) && isNonNegInt(b) ? { first_recv_us: a, last_recv_us: b } : {};
}
