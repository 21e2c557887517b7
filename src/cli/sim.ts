import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { parseDuration, parseIsoToUs, parseNonNegativeInt, parsePositiveNumber } from './parse-options.js';
import { DEFAULT_START_ISO, DEFAULT_TRADE_RATE, type SimParams, checkSimParams, simParams, underlyingSpec } from '../sim/params.js';

/** Raw `heatmap sim` flags as commander hands them over (strings; validated by `parseSimFlags`). */
export interface SimCliOptions {
  out?: string;
  force?: boolean;
  seed?: string;
  duration?: string;
  underlying?: string;
  spot?: string;
  start?: string;
  maxDte?: string;
  chainRange?: string;
  strikeStep?: string;
  snapshotEvery?: string;
  indexEvery?: string;
  tradeRate?: string;
  quotes?: string;
  vol?: string;
  jumpsPerHour?: string;
  closed?: boolean;
  gzip?: boolean;
  progress?: boolean;
}

/** Validated `heatmap sim` flags. */
export interface SimFlags {
  readonly out: string;
  readonly force: boolean;
  readonly gzip: boolean;
  /** undefined = show the progress bar only when stderr is a terminal. */
  readonly progress: boolean | undefined;
  readonly params: SimParams;
}

/** Parses a finite number ≥ 0. */
function parseNonNegativeNumber(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} "${text}" must be a number ≥ 0`);
  return n;
}

/**
 * Turns raw flags into simulation parameters (defaults per underlying), checking every value.
 * @throws UsageError naming the flag and what it accepts.
 */
export function parseSimFlags(opts: SimCliOptions): SimFlags {
  if (opts.out === undefined || opts.out.trim() === '') {
    throw new UsageError('--out DIR is required: the directory to write the recording to, e.g. --out recordings/demo');
  }
  const underlying = opts.underlying ?? 'I:SPX';
  underlyingSpec(underlying);
  const o: Partial<{ -readonly [K in keyof SimParams]: SimParams[K] }> = { underlying, closed: Boolean(opts.closed) };
  if (opts.seed !== undefined) o.seed = parseNonNegativeInt(opts.seed, '--seed');
  if (opts.duration !== undefined) o.duration_ms = parseDuration(opts.duration, '--duration');
  if (opts.spot !== undefined) o.spot = parsePositiveNumber(opts.spot, '--spot');
  if (opts.start !== undefined) o.start_us = parseIsoToUs(opts.start, '--start');
  if (opts.maxDte !== undefined) o.max_dte = parseNonNegativeInt(opts.maxDte, '--max-dte');
  if (opts.chainRange !== undefined) o.chain_range = parsePositiveNumber(opts.chainRange, '--chain-range');
  if (opts.strikeStep !== undefined) o.strike_step = parsePositiveNumber(opts.strikeStep, '--strike-step');
  if (opts.snapshotEvery !== undefined) o.snapshot_every_ms = parseDuration(opts.snapshotEvery, '--snapshot-every');
  if (opts.indexEvery !== undefined) o.index_every_ms = parseDuration(opts.indexEvery, '--index-every');
  if (opts.tradeRate !== undefined) o.trade_rate = parseNonNegativeNumber(opts.tradeRate, '--trade-rate');
  if (opts.quotes !== undefined) o.quotes = parseNonNegativeInt(opts.quotes, '--quotes');
  if (opts.vol !== undefined) o.vol = parsePositiveNumber(opts.vol, '--vol');
  if (opts.jumpsPerHour !== undefined) o.jumps_per_hour = parseNonNegativeNumber(opts.jumpsPerHour, '--jumps-per-hour');
  const params = simParams(o);
  checkSimParams(params);
  return { out: opts.out, force: Boolean(opts.force), gzip: opts.gzip !== false, progress: opts.progress, params };
}

/** `heatmap sim`: a seeded synthetic market written as a recording. */
export function simCommand(): Command {
  return new Command('sim')
    .description('generate a seeded synthetic market (chain snapshots, option trades, index values) as a recording')
    .option('--out <dir>', 'recording directory to create (required; must be empty unless --force)')
    .option('--force', 'write into a non-empty directory, replacing a recording already there')
    .option('--seed <n>', 'random seed: same seed and flags give byte-identical files (default: 1)')
    .option('--duration <d>', 'simulated session length, e.g. 90s, 10m, 6h30m (default: 10m)')
    .option('--underlying <ticker>', 'index underlying: I:SPX, I:NDX or I:RUT (default: I:SPX)')
    .option('--spot <points>', 'index value at the start (default: 5900 for I:SPX)')
    .option('--start <iso>', `simulated session start (default: ${DEFAULT_START_ISO} = 09:30 ET, an SPX monthly expiration)`)
    .option('--max-dte <n>', 'list daily expirations 0..n business days out (default: 2)')
    .option('--chain-range <points>', 'strikes span ± this many points around the start spot (default: 200 for I:SPX)')
    .option('--strike-step <points>', 'strike spacing (default: 5 for I:SPX)')
    .option('--snapshot-every <d>', 'chain snapshot cadence (default: 60s)')
    .option('--index-every <d>', 'index value cadence (default: 1s)')
    .option('--trade-rate <n>', `mean option trades per second (default: ${DEFAULT_TRADE_RATE}, ~1.5M in 6h30m)`)
    .option('--quotes <n>', 'also write WS option quotes (Q events) for the n contracts nearest the start spot, 0..1000 (default: 0 = none)')
    .option('--vol <decimal>', 'ATM implied volatility, 0.15 = 15% (default: 0.15)')
    .option('--jumps-per-hour <n>', 'mean spot jumps per hour of session (default: 0.5)')
    .option('--closed', 'closed market: one snapshot, no trades, a constant index value every 60s')
    .option('--no-gzip', 'write plain .ndjson files instead of .ndjson.gz')
    .addOption(new Option('--progress', 'show a progress bar on stderr even when it is not a terminal'))
    .addOption(new Option('--no-progress', 'never show the progress bar'))
    .addHelpText(
      'after',
      '\nThe recording uses Massive\'s exact wire shapes (REST chain pages, WS T and V frames) and replays\n' +
        'like a real one. Its manifest holds the seed and every parameter (source "sim"). Prices sit on the\n' +
        'exchange\'s grid (0.05 below 3.00, 0.10 from 3.00 up; legs of spreads and flies print in cents).\n' +
        '--quotes N adds Q events (bid/ask, sizes, ms t), as `heatmap record --quotes` records them from\n' +
        'Massive: each of the N contracts sends one whenever its bid or ask changes (at most every 250 ms),\n' +
        'so a replay marks those legs with quote mids (source ws_quote).\n' +
        'Example: heatmap sim --out recordings/demo --duration 10m --seed 7',
    )
    .action(async (opts: SimCliOptions) => {
      const { runSimCommand } = await import('./sim-run.js');
      await runSimCommand(opts);
    });
}
