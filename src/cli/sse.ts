import { Command } from 'commander';
import { FORMAT_FLAG } from './parse-options.js';
import { REDIS_FLAGS, type RedisCliOptions } from './redis-options.js';
import { SSE_FLAGS } from './sse-options.js';

/** Options of `heatmap sse` as commander hands them over. */
export interface SseCommandOptions extends RedisCliOptions {
  port: string;
  host?: string;
  strategies?: string;
  format?: string;
  sseSlow?: string;
  sseBuffer?: string;
  sseGzip?: boolean;
}

/** Builds `heatmap sse`; the action is imported lazily from sse-run.ts. */
export function sseCommand(): Command {
  return new Command('sse')
    .description('serve the SSE streams (and the web view) of the strategies published on Redis (massive:heatmap:{S})')
    .requiredOption(...REDIS_FLAGS.redis)
    .requiredOption('--port <port>', 'HTTP port (0 = any free port)')
    .option(...REDIS_FLAGS.prefix)
    .option('--host <addr>', 'address to bind (default 127.0.0.1; 0.0.0.0 for the network)')
    .option('--strategies <list>', 'serve only these strategies (default: every <prefix>:heatmap:{S} stream, including ones that appear later)')
    .option(...FORMAT_FLAG)
    .option(...SSE_FLAGS.sseSlow)
    .option(...SSE_FLAGS.sseBuffer)
    .option(...SSE_FLAGS.sseGzip)
    .addHelpText(
      'after',
      '\nThe endpoints of heatmap replay --sse (GET /sse/heatmap/{strategy}, /sse/heatmap, /health, / the web\n' +
        'view), served from Redis: each strategy starts from <prefix>:heatmap:{S}:snapshot and the entries after\n' +
        'it, then follows the stream with one reader connection for the whole process. Any number of sse\n' +
        'processes serve identical events (same ids, same bytes), so they can sit behind a load balancer;\n' +
        'Last-Event-ID resumes within the last 1,000 versions. Redis unreachable at start: exit 1; lost\n' +
        'mid-run: clients stay connected, and the streams resume from the last entry once Redis is back.\n' +
        '\nExample:\n' +
        '  heatmap sse --redis redis://127.0.0.1:6379 --port 8080',
    )
    .action(async (opts: SseCommandOptions) => {
      const { runSseCommand } = await import('./sse-run.js');
      await runSseCommand(opts);
    });
}
