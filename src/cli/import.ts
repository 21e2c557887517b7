import chalk from 'chalk';
import { Command, Option } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { parseDuration, parsePositiveNumber } from './parse-options.js';

export interface ImportCliOptions {
  out?: string;
  underlying?: string;
  roots?: string;
  spot?: string;
  snapshotEvery?: string;
  overwrite?: boolean;
  tmpDir?: string;
  progress?: boolean;
}

const ROOT_RE = /^[A-Z][A-Z0-9]{0,5}$/;
const UNDERLYING_RE = /^(?:I:)?[A-Z][A-Z0-9.]{0,9}$/;

/** `heatmap import FILE.csv[.gz]... --out DIR`. csv-parse and the importer load inside the action. */
export function importCommand(): Command {
  return new Command('import')
    .description('turn Massive flat files (us_options_opra trades_v1, quotes_v1, day_aggs_v1; index values) into a recording that replays')
    .argument('<files...>', 'flat files, .csv or .csv.gz; the kind of each is read from its header')
    .requiredOption('--out <dir>', 'directory to write the recording to')
    .option('--underlying <ticker>', 'underlying whose options to keep, I:SPX (index) or an ETF such as SPY', 'I:SPX')
    .option('--roots <list>', 'option roots to keep, e.g. SPX,SPXW (default: the underlying symbol and symbol+W)')
    .option('--spot <value>', 'a constant spot at the first event, when no index values file is given')
    .option('--snapshot-every <duration>', 'cadence of the synthesised chain snapshots, e.g. 30s, 1m', '1m')
    .option('--overwrite', 'replace a recording already in --out')
    .option('--tmp-dir <dir>', 'where sort runs of large imports go (default: --out)')
    .addOption(new Option('--progress', 'show a progress bar on stderr even when it is not a terminal'))
    .addOption(new Option('--no-progress', 'never show the progress bar'))
    .addHelpText(
      'after',
      '\nColumns are found by header name (trades_v1 with 7 or 8 columns, quotes_v1, day_aggs_v1/minute_aggs_v1,\n' +
        'index values "ticker,value,timestamp"). Timestamps are ns; the recording\'s receive time is the event\n' +
        'time. Trades become options WS frames; quotes, aggregates and trades seed REST-shaped chain snapshots\n' +
        'every --snapshot-every so the engine has a topology. Rows that do not parse are counted and reported\n' +
        'with file:line; the import goes on. A JSON summary goes to stdout.\n' +
        '\nExample:\n  heatmap import 2025-11-21-trades.csv.gz 2025-11-21-quotes.csv.gz values.csv --out recordings/nov21\n' +
        '  heatmap replay recordings/nov21 --out versions.ndjson',
    )
    .action(async (files: string[], opts: ImportCliOptions) => {
      await runImport(files, parseImportFlags(opts));
    });
}

interface ImportFlags {
  readonly out: string;
  readonly underlying: string;
  readonly roots: string[] | undefined;
  readonly spot: number | undefined;
  readonly snapshotEveryMs: number;
  readonly overwrite: boolean;
  readonly tmpDir: string | undefined;
  readonly progress: boolean | undefined;
}

/** Validates the flags. @throws UsageError naming the flag. */
export function parseImportFlags(opts: ImportCliOptions): ImportFlags {
  if (opts.out === undefined || opts.out.trim() === '') throw new UsageError('--out DIR is required');
  const underlying = opts.underlying ?? 'I:SPX';
  if (!UNDERLYING_RE.test(underlying)) throw new UsageError(`--underlying "${underlying}" is not a ticker — e.g. I:SPX or SPY`);
  let roots: string[] | undefined;
  if (opts.roots !== undefined) {
    roots = opts.roots.split(',').map((r) => r.trim()).filter((r) => r !== '');
    const badRoot = roots.find((r) => !ROOT_RE.test(r));
    if (roots.length === 0 || badRoot !== undefined) throw new UsageError(`--roots "${opts.roots}" must be a comma-separated list of option roots, e.g. SPX,SPXW`);
  }
  const snapshotEveryMs = parseDuration(opts.snapshotEvery ?? '1m', '--snapshot-every');
  if (snapshotEveryMs <= 0) throw new UsageError('--snapshot-every must be longer than 0');
  return {
    out: opts.out,
    underlying,
    roots,
    spot: opts.spot !== undefined ? parsePositiveNumber(opts.spot, '--spot') : undefined,
    snapshotEveryMs,
    overwrite: opts.overwrite === true,
    tmpDir: opts.tmpDir,
    progress: opts.progress,
  };
}

/** The action: import (lazily loaded), then report — JSON on stdout, humans on stderr. */
async function runImport(files: string[], f: ImportFlags): Promise<void> {
  const [{ importFlatFiles, defaultRoots }, { default: cliProgress }, { wantsProgress }, { formatUs }] = await Promise.all([
    import('../flatfile/import.js'),
    import('cli-progress'),
    import('./progress.js'),
    import('./parse-options.js'),
  ]);
  const bar = wantsProgress(f.progress)
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'import {phase} |{bar}| {percentage}% | {value}/{total} {unit}',
          barsize: 24,
          hideCursor: true,
          noTTYOutput: !process.stderr.isTTY,
          notTTYSchedule: 2000,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let phase: string | undefined;
  const started = performance.now();
  let result;
  try {
    result = await importFlatFiles(files, f.out, {
      underlying: f.underlying,
      roots: f.roots,
      spot: f.spot,
      snapshotEveryMs: f.snapshotEveryMs,
      overwrite: f.overwrite,
      tmpDir: f.tmpDir,
      onProgress: (p) => {
        if (!bar) return;
        if (p.phase !== phase) {
          if (phase !== undefined) bar.stop();
          phase = p.phase;
          const unit = p.phase === 'read' ? 'bytes' : 'events';
          bar.start(Math.max(1, p.total), p.done, { phase: p.phase === 'read' ? 'reading' : 'writing', unit });
        } else {
          bar.update(p.done);
        }
      },
    });
  } finally {
    if (phase !== undefined) bar?.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    type: 'import',
    out: result.dir,
    underlying: f.underlying,
    roots: f.roots ?? defaultRoots(f.underlying),
    files: result.files,
    events: result.events,
    lines: result.lines,
    snapshots: result.snapshots,
    contracts: result.contracts,
    span_us: result.first_us === undefined ? null : [result.first_us, result.last_us],
    bad: { total: result.bad.total, reasons: result.bad.toJSON(), samples: result.bad.sampleDetails() },
    ignored: result.ignored.toJSON(),
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
  const err = process.stderr;
  const kept = Object.values(result.events).reduce((a, b) => a + b, 0);
  const span = result.first_us !== undefined ? `${formatUs(result.first_us)} → ${formatUs(result.last_us!)}` : 'empty';
  err.write(chalk.bold(`imported ${kept.toLocaleString('en-US')} events (${span}) into ${result.dir} in ${seconds.toFixed(2)} s\n`));
  for (const file of result.files) err.write(`  ${file.file}: ${file.kind ?? '?'}, ${file.rows.toLocaleString('en-US')} rows, ${file.events.toLocaleString('en-US')} kept\n`);
  err.write(`  ${result.snapshots} chain snapshots of ${result.contracts} contracts; lines ${JSON.stringify(result.lines)}\n`);
  if (result.bad.total > 0) {
    err.write(chalk.yellow(`  skipped ${result.bad.total} rows that do not parse:\n`));
    const samples = result.bad.sampleDetails();
    for (const [reason, n] of Object.entries(result.bad.toJSON())) {
      err.write(chalk.yellow(`    ${reason} ${n}`) + chalk.dim(samples[reason] ? ` at ${samples[reason].join(', ')}${n > samples[reason].length ? ', …' : ''}` : '') + '\n');
    }
  }
  const ignoredTotal = result.ignored.total;
  if (ignoredTotal > 0) err.write(chalk.dim(`  ignored ${ignoredTotal} valid rows out of scope: ${Object.entries(result.ignored.toJSON()).map(([k, n]) => `${k} ${n}`).join(', ')}\n`));
  if (kept === 0) {
    throw new InputError(`no rows of ${f.underlying} (option roots ${(f.roots ?? defaultRoots(f.underlying)).join(',')}) in the input — check --underlying and --roots`);
  }
  if (result.events.V === 0 && result.events.S === 0 && f.spot === undefined) {
    err.write(chalk.yellow(`  no spot for ${f.underlying}: pass an index values file or --spot N, or the engine falls back to put–call parity\n`));
  }
}
