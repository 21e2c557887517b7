import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { FORMAT_FLAG, MAX_LINE_FLAG, parseFormat, parseMaxLineBytes, parseIsoToUs, parsePositiveInt, parsePositiveNumber, STRATEGY_MODULE_FLAG } from './parse-options.js';
import { PIPELINE_FLAGS, parsePipelineFlags, type PipelineCliOptions, type PipelineSettings } from './pipeline-options.js';
import { SSE_FLAGS, SSE_HELP, type SseCliOptions } from './sse-options.js';
import { REDIS_FLAGS, type RedisCliOptions } from './redis-options.js';

export interface ReplayCliOptions extends SseCliOptions, RedisCliOptions, PipelineCliOptions {
  /** `--strategy-module FILE`, repeatable. */
  strategyModule?: string[];
  speed?: string;
  strategies?: string;
  config?: string;
  out?: string;
  from?: string;
  to?: string;
  progress?: boolean;
  runInfo?: boolean;
  keyframes?: string;
  tui?: boolean;
  sse?: string;
  /** Directory for `tiles.parquet` (tile history, one row per tile per version). */
  parquet?: string;
  jobs?: string;
  format?: string;
  maxLineMib?: string;
}

/** `--speed max|N` → 'max' or a positive number. */
export function parseSpeed(text: string): number | 'max' {
  if (text === 'max') return 'max';
  return parsePositiveNumber(text, '--speed');
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('drive a recording through the engine and write the published versions as NDJSON')
    .argument('<recording>', 'recording directory (made by sim, record or import)')
    .option('--speed <max|N>', 'pace receive time N× faster than real time, or "max" (default: max; 1 with --tui)')
    .option('--strategies <list>', 'comma-separated strategies to run, e.g. single,fly (default: all enabled in the config)')
    .option(...STRATEGY_MODULE_FLAG)
    .option('--config <file>', 'engine configuration JSON (tick, topology, publish thresholds, custom strategies)')
    .option('--out <file|->', 'where the NDJSON goes (default: stdout)')
    .option('--from <iso>', 'start at this receive time (inclusive), e.g. 2025-11-21T15:00:00Z')
    .option('--to <iso>', 'stop before this receive time (exclusive)')
    .addOption(new Option('--progress', 'show a progress bar on stderr even when it is not a terminal'))
    .addOption(new Option('--no-progress', 'never show the progress bar'))
    .option(...FORMAT_FLAG)
    .option(...MAX_LINE_FLAG)
    .option('--keyframes <n>', 'also write a {"type":"snapshot"} line with the full tile set every N versions of a strategy')
    .option(
      '--jobs <n>',
      'worker threads for the strategies at --speed max without --tui/--sse/--parquet (default: one per core, at most one per strategy, while this thread reads and decodes the recording — also for one strategy when there are 2+ cores; 1 = everything in this thread); the output is the same for any N',
    )
    .option('--run-info', 'add a "run" object (path, speed, timings, lag) to the summary line; makes the stream run-specific')
    .option(
      '--tui',
      'watch the heatmaps live in the terminal (keys: ←/→ strategy, ↑/↓ expiry, +/- speed, space pause, v shown figure, q quit); ' +
        'NDJSON still goes to --out FILE, and to stdout only when stdout is not the terminal',
    )
    .option(...SSE_FLAGS.sse)
    .option(...SSE_FLAGS.sseHost)
    .option('--sse-exit', 'with --sse: shut the SSE server down when the replay ends (default: keep serving the final state until Ctrl-C)')
    .option(...SSE_FLAGS.sseSlow)
    .option(...SSE_FLAGS.sseBuffer)
    .option(...SSE_FLAGS.sseGzip)
    .option(REDIS_FLAGS.redis[0], `also publish the versions to Redis (massive:heatmap:{S} and its snapshot keys, as heatmap pipeline writes them); ${REDIS_FLAGS.redis[1]}`)
    .option(...REDIS_FLAGS.prefix)
    .option(...REDIS_FLAGS.maxlen)
    .option(...REDIS_FLAGS.snapshotEvery)
    .option('--parquet <dir>', 'also write the tile history to DIR/tiles.parquet (one row per tile per published version)')
    .option(...PIPELINE_FLAGS.stallTimeout)
    .option(...PIPELINE_FLAGS.pipelineHeap)
    .addHelpText(
      'after',
      '\nOutput: one JSON object per line — "version" (per strategy: what changed, and a hash chain), "gap",\n' +
        'optional "snapshot" keyframes, and a final "summary". Logs and progress go to stderr only.\n' +
        'The stream is byte-identical for the same recording and config at any --speed.\n' +
        'With --tui or --sse every strategy runs in a worker thread of its own: one that stalls (--stall-timeout),\n' +
        'throws or runs out of memory (--pipeline-heap) is reported as {"type":"error","strategy":…,"reason":…}\n' +
        'and SSE event: failed, and stops; the others go on.',
    )
    .addHelpText('after', SSE_HELP)
    .action(async (recording: string, opts: ReplayCliOptions) => {
      const { runReplayCommand } = await import('./replay-run.js');
      await runReplayCommand(recording, opts);
    });
}

/** Validates the flags shared by replay-like commands. */
export function parseReplayFlags(opts: ReplayCliOptions): {
  speed: number | 'max';
  from_us: number | undefined;
  to_us: number | undefined;
  keyframes: number | undefined;
  jobs: number | undefined;
  format: 1 | 2;
  maxLineBytes: number | undefined;
  pipelines: PipelineSettings;
} {
  const speed = opts.speed !== undefined ? parseSpeed(opts.speed) : opts.tui ? 1 : 'max';
  const from_us = opts.from !== undefined ? parseIsoToUs(opts.from, '--from') : undefined;
  const to_us = opts.to !== undefined ? parseIsoToUs(opts.to, '--to') : undefined;
  if (from_us !== undefined && to_us !== undefined && to_us <= from_us) throw new UsageError('--to must be after --from');
  const keyframes = opts.keyframes !== undefined ? parsePositiveInt(opts.keyframes, '--keyframes') : undefined;
  const jobs = opts.jobs !== undefined ? parsePositiveInt(opts.jobs, '--jobs') : undefined;
  const pipelines = parsePipelineFlags(opts);
  return { speed, from_us, to_us, keyframes, jobs, format: parseFormat(opts.format), maxLineBytes: parseMaxLineBytes(opts.maxLineMib), pipelines };
}
