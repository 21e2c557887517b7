import { stat } from 'node:fs/promises';
import chalk from 'chalk';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { parsePositiveInt } from './parse-options.js';

export interface ConvertCliOptions {
  to?: string;
  out?: string;
  rowGroupSize?: string;
  overwrite?: boolean;
  progress?: boolean;
  format?: string;
}

/** `heatmap convert REC --to parquet --out DIR`. Parquet modules are imported inside the action. */
export function convertCommand(): Command {
  return new Command('convert')
    .description('convert a recording (or a versions NDJSON file from replay) into Parquet tables for DuckDB, pandas, Polars, Spark')
    .argument('<input>', 'recording directory, or a versions .ndjson[.gz] file written by heatmap replay')
    .requiredOption('--to <parquet|ndjson>', 'parquet: tables for DuckDB & co; ndjson: a versions file in another stream format (--format)')
    .option('--out <dir|file>', 'parquet: output directory (required); ndjson: output file (default stdout)')
    .option('--format <1>', 'with --to ndjson: the stream format to write; 1 folds a format 2 versions file into format 1, byte for byte')
    .option('--row-group-size <rows>', 'rows per row group (default 65536; memory grows with it)')
    .option('--overwrite', 'replace existing .parquet tables in the output directory')
    .addOption(new Option('--progress', 'show a progress bar on stderr even when it is not a terminal'))
    .addOption(new Option('--no-progress', 'never show the progress bar'))
    .addHelpText(
      'after',
      '\nFrom a recording: trades.parquet, quotes.parquet, chain_quotes.parquet, spot.parquet, gaps.parquet.\n' +
        'From a versions NDJSON file: tiles.parquet (one row per tile per published version).\n' +
        'Times are TIMESTAMP(MICROS, UTC) columns named *_us; raw Massive ns stamps are exact INT64 *_ns.\n' +
        'A JSON summary goes to stdout; progress and warnings to stderr.\n' +
        'From a format 2 versions file with --to ndjson --format 1: the format 1 stream it folds to, byte for byte\n' +
        '(hash chains included), e.g. for tools written against format 1.\n' +
        '\nExample:\n  heatmap convert recordings/demo --to parquet --out out/demo\n' +
        '  heatmap convert versions.ndjson --to ndjson --format 1 --out versions-v1.ndjson\n' +
        "  duckdb -c \"select ticker, count(*) from 'out/demo/trades.parquet' group by 1\"",
    )
    .action(async (input: string, opts: ConvertCliOptions) => {
      if (opts.to === 'ndjson') {
        if (opts.format !== '1') throw new UsageError('--to ndjson needs --format 1 (a format 2 stream is what replay writes by default; format 1 → 2 needs a replay with --format 2)');
        const { foldVersionsFile } = await import('./fold-run.js');
        await foldVersionsFile(input, opts.out);
        return;
      }
      if (opts.to !== 'parquet') throw new UsageError(`--to "${opts.to}" is not supported — use parquet or ndjson`);
      if (opts.out === undefined) throw new UsageError('--to parquet needs --out DIR');
      if (opts.format !== undefined) throw new UsageError('--format goes with --to ndjson');
      const rowGroupRows = opts.rowGroupSize !== undefined ? parsePositiveInt(opts.rowGroupSize, '--row-group-size') : undefined;
      await runConvert(input, opts.out!, { rowGroupRows, overwrite: opts.overwrite === true, progress: opts.progress });
    });
}

/** The action: convert (Parquet modules loaded lazily), then report — JSON on stdout, humans on stderr. */
async function runConvert(
  input: string,
  outDir: string,
  o: { rowGroupRows: number | undefined; overwrite: boolean; progress: boolean | undefined },
): Promise<void> {
  const [{ convertToParquet }, { ReplayProgressBar, wantsProgress }, { splitBad }, { readManifest }, { spanOf }] = await Promise.all([
    import('../parquet/convert.js'),
    import('./progress.js'),
    import('../engine/output-lines.js'),
    import('../recording/manifest.js'),
    import('./replay-run.js'),
  ]);
  let bar: InstanceType<typeof ReplayProgressBar> | undefined;
  if (wantsProgress(o.progress)) {
    // A recording's manifest knows its receive-time span: the bar can show how far along we are.
    const isDir = (await stat(input).catch(() => undefined))?.isDirectory() === true;
    const span = isDir ? spanOf((await readManifest(input)).streams) : {};
    bar = new ReplayProgressBar('convert', span.first, span.last);
  }
  const started = performance.now();
  let result;
  try {
    result = await convertToParquet(input, outDir, { rowGroupRows: o.rowGroupRows, overwrite: o.overwrite, onProgress: (p) => bar?.update(p) });
  } finally {
    bar?.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const { bad, ignored } = splitBad(result.bad);
  const summary = {
    type: 'convert',
    input: result.input,
    lines: result.lines,
    tables: result.tables.map((t) => ({ name: t.name, file: t.file, rows: t.rows, row_groups: t.rowGroups, bytes: t.bytes })),
    bad,
    ignored,
    truncated: result.cuts,
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
  const err = process.stderr;
  err.write(chalk.bold(`converted ${result.lines.toLocaleString('en-US')} lines in ${seconds.toFixed(2)} s\n`));
  for (const t of result.tables) err.write(`  ${t.file}  ${t.rows.toLocaleString('en-US')} rows, ${t.rowGroups} row groups, ${(t.bytes / 1024).toFixed(1)} KiB\n`);
  if (bad.total > 0) {
    const samples = result.bad.sampleDetails();
    err.write(chalk.yellow(`  skipped ${bad.total} bad lines/events: ${Object.entries(bad.reasons).map(([k, n]) => `${k} ${n}`).join(', ')}\n`));
    for (const reason of Object.keys(bad.reasons)) if (samples[reason]) err.write(chalk.dim(`    ${reason}: e.g. ${samples[reason].join(', ')}\n`));
  }
  for (const c of result.cuts) err.write(chalk.yellow(`  ${c.file}: ${c.reason} (everything before it was converted)\n`));
}
