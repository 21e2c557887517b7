/**
 * The `heatmap sim` action, loaded lazily by `src/cli/sim.ts`: validate, generate into a
 * RecordingWriter, report on stderr.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import chalk from 'chalk';
import cliProgress from 'cli-progress';
import { UsageError } from '../errors.js';
import { wantsProgress } from './progress.js';
import { type SimCliOptions, parseSimFlags } from './sim.js';
import { RecordingWriter } from '../recording/writer.js';
import { generateSim, type SimProgress, type SimStats } from '../sim/generate.js';
import { manifestSimParams } from '../sim/params.js';

/** Refuses an existing non-empty `--out` (or a file) unless `--force`. */
async function checkOutDir(out: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    const st = await fsp.stat(out);
    if (!st.isDirectory()) throw new UsageError(`--out ${out} exists and is not a directory`);
    entries = await fsp.readdir(out);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as { code?: unknown }).code === 'ENOENT') return;
    throw err;
  }
  if (entries.length > 0 && !force) {
    throw new UsageError(`--out ${out} is not empty — choose a new directory, or pass --force to replace the recording in it`);
  }
}

const hms = (us: number): string => {
  const t = Math.max(0, Math.floor(us / 1e6));
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(t / 3600))}:${pad(Math.floor((t % 3600) / 60))}:${pad(t % 60)}`;
};

const count = (n: number): string => n.toLocaleString('en-US');

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Runs `heatmap sim` with raw commander options. */
export async function runSimCommand(opts: SimCliOptions): Promise<void> {
  const flags = parseSimFlags(opts);
  await checkOutDir(flags.out, flags.force);
  const p = flags.params;
  const writer = await RecordingWriter.create(flags.out, {
    underlying: p.underlying,
    source: 'sim',
    created_us: p.start_us,
    sim: { seed: p.seed, params: manifestSimParams(p) },
    gzip: flags.gzip,
    flushIntervalMs: 0, // no timer flushes: the bytes depend only on the lines
    overwrite: flags.force,
  });

  let bar: cliProgress.SingleBar | undefined;
  if (wantsProgress(flags.progress)) {
    bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'sim |{bar}| {percentage}% | {pos} of {total_t} simulated | {trades} trades',
        barsize: 24,
        hideCursor: true,
        noTTYOutput: !process.stderr.isTTY,
        notTTYSchedule: 2000,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, Math.round(p.duration_ms / 1000)), 0, { pos: hms(0), total_t: hms(p.duration_ms * 1000), trades: 0 });
  }
  const onProgress = (pr: SimProgress): void => {
    bar?.update(Math.round(pr.sim_us / 1e6), { pos: hms(pr.sim_us), total_t: hms(pr.total_us), trades: count(pr.trades) });
  };

  const wallStart = performance.now();
  let stats: SimStats;
  try {
    stats = await generateSim(p, writer, onProgress);
  } finally {
    bar?.stop();
    await writer.close();
  }
  const seconds = (performance.now() - wallStart) / 1000;
  const files = (await fsp.readdir(flags.out)).filter((f) => f === 'manifest.json' || /\.ndjson(\.gz)?$/.test(f)).sort();
  let bytes = 0;
  for (const f of files) bytes += (await fsp.stat(path.join(flags.out, f))).size;
  process.stderr.write(
    `${chalk.green('sim')} ${chalk.bold(flags.out)}: ${hms(p.duration_ms * 1000)} simulated in ${seconds.toFixed(1)}s — ` +
      `chain ${count(stats.lines.chain)} lines (${count(stats.snapshots)} snapshot${stats.snapshots === 1 ? '' : 's'} of ${count(stats.contracts)} contracts), ` +
      `options ${count(stats.lines.options)} frames (${count(stats.trades)} trades${stats.quotes > 0 ? `, ${count(stats.quotes)} quotes` : ''}), ` +
      `indices ${count(stats.lines.indices)} lines; ${files.length} files, ${formatBytes(bytes)}\n`,
  );
}
