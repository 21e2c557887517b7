import { Command } from 'commander';
import { FORMAT_FLAG, STRATEGY_MODULE_FLAG } from './parse-options.js';
import { PIPELINE_FLAGS, type PipelineCliOptions } from './pipeline-options.js';
import { REDIS_FLAGS, type RedisCliOptions } from './redis-options.js';

/** Options of `heatmap pipeline` as commander hands them over. */
export interface PipelineCommandOptions extends RedisCliOptions, PipelineCliOptions {
  strategies?: string;
  config?: string;
  strategyModule?: string[];
  format?: string;
  follow?: boolean;
  progress?: boolean;
}

/** Builds `heatmap pipeline`; the action is imported lazily from pipeline-run.ts. */
export function pipelineCommand(): Command {
  return new Command('pipeline')
    .description('run strategies on Redis: read massive:raw, publish each strategy\'s versions to massive:heatmap:{S}')
    .requiredOption(...REDIS_FLAGS.redis)
    .option(...REDIS_FLAGS.prefix)
    .option('--strategies <list>', 'comma-separated strategies this process runs, e.g. single,fly (default: all enabled in the config)')
    .option('--config <file>', 'engine configuration JSON (tick, topology, publish thresholds, custom strategies)')
    .option(...STRATEGY_MODULE_FLAG)
    .option(...FORMAT_FLAG)
    .option(...REDIS_FLAGS.maxlen)
    .option(...REDIS_FLAGS.snapshotEvery)
    .option(...PIPELINE_FLAGS.stallTimeout)
    .option(...PIPELINE_FLAGS.pipelineHeap)
    .option('--follow', 'keep waiting for new inputs after the feed\'s end marker (default: finish there)')
    .option('--no-progress', 'no progress lines on stderr')
    .addHelpText(
      'after',
      '\nEvery pipeline process computes from the start of <prefix>:raw, so any number of them, on any hosts,\n' +
        'with any subsets of strategies, publish exactly what `heatmap replay` publishes for those strategies,\n' +
        'byte for byte. Stream entries: ID <version>-0 for a version line, <version>-<n> for the gap and error\n' +
        'lines after it; field "line" = the output line. <prefix>:heatmap:{S}:snapshot holds the snapshot of\n' +
        'the latest version (every --snapshot-every versions and at the end).\n' +
        'Restart: a restarted pipeline recomputes, checks every entry already in its streams against what it\n' +
        'computes, and continues after the last one (no gap, no duplicate); an entry that differs means another\n' +
        'history under these keys: exit 2 (use another --redis-prefix). Redis unreachable at start: exit 1; lost\n' +
        'mid-run: reconnect with backoff and resume from the last entry read. Ctrl-C: finish the current batch,\n' +
        'write the snapshot keys, exit 0. Each strategy runs in a worker thread of its own: one that throws,\n' +
        'stalls (--stall-timeout) or runs out of memory (--pipeline-heap) gets an error line in its stream\n' +
        '({"type":"error","strategy":…,"reason":…}, SSE event: failed) and stops; the others go on.\n' +
        '\nExamples:\n' +
        '  heatmap pipeline --redis redis://127.0.0.1:6379 --strategies single,vertical\n' +
        '  heatmap pipeline --redis redis://127.0.0.1:6379 --strategies fly --follow',
    )
    .action(async (opts: PipelineCommandOptions) => {
      const { runPipelineCommand } = await import('./pipeline-run.js');
      await runPipelineCommand(opts);
    });
}
