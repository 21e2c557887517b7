import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import chalk from 'chalk';
import { enabledStrategyNames } from '../engine/config.js';
import { readManifest, writeFileAtomic, type Manifest } from '../recording/manifest.js';
import { replayInParallel, workerCount } from '../replay/parallel-replay.js';
import { Pacer } from '../replay/pacer.js';
import { replayRecording, type ReplayOutcome } from '../replay/replay.js';
import { outputBytes } from '../engine/output-lines.js';
import { loadEngineConfig } from './config-file.js';
import { InputError, RuntimeError } from '../errors.js';
import { parseFormat, parseMaxLineBytes, parsePositiveNumber } from './parse-options.js';
import { spanOf } from './replay-run.js';
import type { VerifyCliOptions } from './verify.js';
import type { EngineConfig } from '../engine/config.js';

/** What one run produced, compactly: a digest per output line plus the version identities. */
interface RunTrace {
  readonly lines: string[];
  readonly versions: { strategy: string; version: number; at_us: number; hash: string }[];
  readonly strategies: Record<string, { versions: number; final_hash: string }>;
  /** Per strategy left without a slot by the topology: why (the summary's `no_slots_reason`). */
  readonly noSlots: Record<string, string>;
}

/** The expect file: per strategy, the version count, the final hash, and every version's hash prefix. */
export interface ExpectFile {
  /** Format 1 hash chains (the original section). */
  strategies: ExpectStrategies;
  /** Format 2 hash chains (DESIGN §3.1). */
  format2?: { strategies: ExpectStrategies };
}
type ExpectStrategies = Record<string, { versions: number; final_hash: string; hashes?: string[] }>;

/** Hash prefix length kept per version in expect files: enough to name the first diverging version. */
const PREFIX = 16;

/** Per strategy: version count and final hash. */
function strategyTrace(r: ReplayOutcome): RunTrace['strategies'] {
  const strategies: RunTrace['strategies'] = {};
  for (const [name, s] of Object.entries(r.summary.strategies)) strategies[name] = { versions: s.versions, final_hash: s.final_hash };
  return strategies;
}

/** The summary's `no_slots_reason` per strategy that has one. */
function noSlotsOf(r: ReplayOutcome): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, s] of Object.entries(r.summary.strategies)) if (s.no_slots_reason !== undefined) out[name] = s.no_slots_reason;
  return out;
}

const VERSION_START = Buffer.from('{"type":"version"');
const UPSERTS = Buffer.from(',"upserts":');
const SLOTS = Buffer.from(',"slots":');

/**
 * Run 1 of verify: flat out, with the strategies in worker threads when there is more than one
 * core — so verify also checks that the parallel merge gives the in-process bytes.
 */
async function traceParallelRun(dir: string, manifest: Manifest, config: EngineConfig, jobs: number, format: 1 | 2, maxLineBytes: number | undefined): Promise<RunTrace> {
  const lines: string[] = [];
  const versions: RunTrace['versions'] = [];
  const r = await replayInParallel({
    dir,
    manifest,
    config,
    jobs,
    format,
    maxLineBytes,
    // one or more complete lines per call
    write: (bytes) => {
      const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      for (let start = 0; start < chunk.length; ) {
        const end = chunk.indexOf(0x0a, start);
        const line = chunk.subarray(start, end); // without its newline, as outputBytes() gives it
        start = end + 1;
        lines.push(createHash('sha1').update(line).digest('hex'));
        if (line.subarray(0, VERSION_START.length).equals(VERSION_START)) {
          // the identity fields precede the upserts / slots (DESIGN §3 key order): parse only those
          const head = line.subarray(0, line.indexOf(format === 2 ? SLOTS : UPSERTS)).toString('utf8');
          const v = JSON.parse(`${head}}`) as RunTrace['versions'][number];
          versions.push({ strategy: v.strategy, version: v.version, at_us: v.at_us, hash: v.hash });
        }
      }
    },
    drain: () => undefined,
  });
  return { lines, versions, strategies: strategyTrace(r), noSlots: noSlotsOf(r) };
}

async function traceRun(dir: string, config: EngineConfig, speed: number | 'max', format: 1 | 2, maxLineBytes: number | undefined): Promise<RunTrace> {
  const lines: string[] = [];
  const versions: RunTrace['versions'] = [];
  const r = await replayRecording({
    dir,
    config,
    format,
    maxLineBytes,
    pacer: speed === 'max' ? undefined : new Pacer(speed),
    onOutput: (out) => {
      // A digest per line keeps memory small on long recordings while still catching any byte change.
      lines.push(createHash('sha1').update(outputBytes(out)).digest('hex'));
      if (out.type === 'version') versions.push({ strategy: out.strategy, version: out.version, at_us: out.at_us, hash: out.hash });
    },
  });
  return { lines, versions, strategies: strategyTrace(r), noSlots: noSlotsOf(r) };
}

/** Describes the first difference between two runs, or undefined when they are identical. */
export function firstDivergence(a: RunTrace, b: RunTrace): string | undefined {
  const n = Math.max(a.versions.length, b.versions.length);
  for (let i = 0; i < n; i++) {
    const x = a.versions[i];
    const y = b.versions[i];
    if (!x || !y || x.strategy !== y.strategy || x.version !== y.version || x.hash !== y.hash || x.at_us !== y.at_us) {
      const fmt = (v: typeof x) => (v ? `${v.strategy} v${v.version} at_us ${v.at_us} hash ${v.hash}` : 'nothing (stream ended)');
      return `first diverging version (#${i + 1} in the stream):\n  run 1: ${fmt(x)}\n  run 2: ${fmt(y)}`;
    }
  }
  const m = Math.max(a.lines.length, b.lines.length);
  for (let i = 0; i < m; i++) if (a.lines[i] !== b.lines[i]) return `output line ${i + 1} differs (not a version line: gap or error)`;
  return undefined;
}

export async function runVerify(dir: string, opts: VerifyCliOptions): Promise<void> {
  const config = await loadEngineConfig(opts.config, opts.strategies, { runsStrategies: true, modules: opts.strategyModule });
  const manifest = await readManifest(dir);
  const format = parseFormat(opts.format);
  const maxLineBytes = parseMaxLineBytes(opts.maxLineMib);
  let expectFile: ExpectFile | undefined;
  if (opts.expect !== undefined) expectFile = await readExpect(opts.expect);
  let expect: { strategies: ExpectStrategies } | undefined;
  if (expectFile) {
    expect = format === 1 ? expectFile : expectFile.format2;
    if (!expect) throw new InputError(`expect file ${opts.expect} has no format 2 hashes ("format2"): add them with --write-expect, or verify --format 1`);
  }
  const span = spanOf(manifest.streams);
  const spanS = span.first !== undefined && span.last !== undefined ? (span.last - span.first) / 1e6 : 120;
  const paced = opts.speed !== undefined ? parsePositiveNumber(opts.speed, '--speed') : Math.max(1, Math.round(spanS / 2));
  const out = process.stdout;
  const jobs = workerCount(undefined, enabledStrategyNames(config).length);
  out.write(`verify ${dir} (format ${format}): run 1 at --speed max${jobs > 0 ? ` in ${jobs} worker thread${jobs > 1 ? 's' : ''}` : ''}, run 2 at --speed ${paced} in one thread\n`);
  const a = jobs > 0 ? await traceParallelRun(dir, manifest, config, jobs, format, maxLineBytes) : await traceRun(dir, config, 'max', format, maxLineBytes);
  const b = await traceRun(dir, config, paced, format, maxLineBytes);
  const problems: string[] = [];
  const div = firstDivergence(a, b);
  if (div) problems.push(`the two runs differ — ${div}`);
  const width = Math.max(10, ...Object.keys(a.strategies).map((n) => n.length));
  for (const [name, s] of Object.entries(a.strategies)) {
    out.write(`  ${name.padEnd(width)} ${String(s.versions).padStart(6)} versions  final ${s.final_hash || '(none)'}\n`);
  }
  for (const [name, why] of Object.entries(a.noSlots)) process.stderr.write(chalk.yellow(`  ${name}: no tiles — ${why}\n`));
  if (expect) {
    for (const name of Object.keys(expect.strategies).sort()) {
      const want = expect.strategies[name]!;
      const got = a.strategies[name];
      if (!got) problems.push(`${name}: expected ${want.versions} versions, but the strategy did not run`);
      else if (got.final_hash !== want.final_hash || got.versions !== want.versions) {
        let where = '';
        if (want.hashes) {
          const mine = a.versions.filter((v) => v.strategy === name);
          const i = want.hashes.findIndex((h, j) => mine[j]?.hash.slice(0, PREFIX) !== h);
          const idx = i === -1 ? Math.min(want.hashes.length, mine.length) : i;
          const v = mine[idx];
          where = v ? `; first diverging version: v${v.version} at_us ${v.at_us} (hash ${v.hash.slice(0, PREFIX)}…, expected ${want.hashes[idx] ?? 'no such version'})` : `; the run stops after v${mine.length}`;
        }
        problems.push(`${name}: expected ${want.versions} versions ending in ${want.final_hash}, got ${got.versions} ending in ${got.final_hash}${where}`);
      }
    }
    for (const name of Object.keys(a.strategies)) if (!(name in expect.strategies)) problems.push(`${name}: ran but is not in ${opts.expect}`);
  }
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(chalk.red(`✗ ${p}\n`));
    throw new RuntimeError(`verification failed for ${dir}`);
  }
  if (opts.writeExpect !== undefined) {
    const strategies: ExpectStrategies = {};
    for (const [name, st] of Object.entries(a.strategies)) {
      strategies[name] = { ...st, hashes: a.versions.filter((v) => v.strategy === name).map((v) => v.hash.slice(0, PREFIX)) };
    }
    // Keep the other format's section of an existing file.
    const old = await readExpect(opts.writeExpect).catch(() => undefined);
    const next: ExpectFile = format === 1 ? { strategies, ...(old?.format2 ? { format2: old.format2 } : {}) } : { strategies: old?.strategies ?? {}, format2: { strategies } };
    await writeExpect(opts.writeExpect, formatExpect(next));
    out.write(`wrote ${opts.writeExpect}\n`);
  }
  out.write(chalk.green(`✓ deterministic: ${a.lines.length} output lines identical in both runs${expect ? `, final hashes match ${opts.expect}` : ''}\n`));
}

/**
 * Writes the expect file atomically (temp file beside it + rename): a full disk leaves the old file
 * whole and no temp file, never truncated JSON. A failure is a RuntimeError naming the file (exit 1).
 */
async function writeExpect(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // fs messages name the temp file ("ENOSPC: no space left on device, write …"): keep the cause only
    const cause = e.code && typeof e.message === 'string' ? e.message.split(', ')[0]! : String(err);
    throw new RuntimeError(`cannot write ${path}: ${cause}`);
  }
}

async function readExpect(path: string): Promise<ExpectFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `expect file ${path} does not exist` : `expect file ${path} is not valid JSON`);
  }
  const s = (raw as ExpectFile | null)?.strategies;
  if (!s || typeof s !== 'object') throw new InputError(`expect file ${path} has no "strategies" object`);
  checkStrategies(path, 'strategies', s);
  const f2 = (raw as ExpectFile).format2;
  if (f2 === undefined) return { strategies: s };
  if (!f2 || typeof f2.strategies !== 'object' || f2.strategies === null) throw new InputError(`expect file ${path}: "format2" needs a "strategies" object`);
  checkStrategies(path, 'format2.strategies', f2.strategies);
  return { strategies: s, format2: { strategies: f2.strategies } };
}

function checkStrategies(path: string, where: string, s: ExpectStrategies): void {
  for (const [name, v] of Object.entries(s)) {
    if (typeof v?.versions !== 'number' || typeof v?.final_hash !== 'string') {
      throw new InputError(`expect file ${path}: "${where}.${name}" needs "versions" (number) and "final_hash" (string)`);
    }
  }
}

/** Expect files keep one strategy per block and the hash list compact (one line), for reviewable diffs. */
function formatExpect(e: ExpectFile): string {
  const section = (st: ExpectStrategies, indent: string): string =>
    Object.entries(st)
      .map(([name, s]) => {
        const hashes = s.hashes ? `,\n${indent}  "hashes": ${JSON.stringify(s.hashes)}` : '';
        return `${indent}${JSON.stringify(name)}: {\n${indent}  "versions": ${s.versions},\n${indent}  "final_hash": ${JSON.stringify(s.final_hash)}${hashes}\n${indent}}`;
      })
      .join(',\n');
  const f2 = e.format2 ? `,\n  "format2": {\n    "strategies": {\n${section(e.format2.strategies, '      ')}\n    }\n  }` : '';
  return `{\n  "strategies": {\n${section(e.strategies, '    ')}\n  }${f2}\n}\n`;
}
