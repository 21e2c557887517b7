import { FORMAT_FLAG, STRATEGY_MODULE_FLAG } from './parse-options.js';
import { Command } from 'commander';
import { PIPELINE_FLAGS, type PipelineCliOptions } from './pipeline-options.js';
import { SSE_FLAGS, SSE_HELP, type SseCliOptions } from './sse-options.js';
import { REDIS_FLAGS, type RedisCliOptions } from './redis-options.js';

/** Options of `heatmap live` as commander hands them over (strings until validated). */
export interface LiveCliOptions extends SseCliOptions, RedisCliOptions, PipelineCliOptions {
  /** `--strategy-module FILE`, repeatable. */
  strategyModule?: string[];
  underlying: string;
  record?: string;
  overwrite?: boolean;
  format?: string;
  tui?: boolean;
  config?: string;
  strategies?: string;
  restUrl?: string;
  wsUrl?: string;
  apiKey?: string;
  duration?: string;
  out?: string;
  quotes?: boolean;
  statusInterval?: string;
}

/** Builds `heatmap live`; the action (recorder, engine, sinks) is imported lazily from live-run.ts. */
export function liveCommand(): Command {
  return new Command('live')
    .description('record + engine + SSE in one process: Massive → engine → dashboard, optionally keeping the recording')
    .option('--underlying <ticker>', 'underlying: I:SPX (SPX/SPXW options, spot from the index feed) or an ETF like SPY', 'I:SPX')
    .option(...FORMAT_FLAG)
    .option(...SSE_FLAGS.sse)
    .option(...SSE_FLAGS.sseHost)
    .option(...SSE_FLAGS.sseSlow)
    .option(...SSE_FLAGS.sseBuffer)
    .option(...SSE_FLAGS.sseGzip)
    .option(REDIS_FLAGS.redis[0], `also publish the versions to Redis (massive:heatmap:{S} and its snapshot keys, as heatmap pipeline writes them); ${REDIS_FLAGS.redis[1]}`)
    .option(...REDIS_FLAGS.prefix)
    .option(...REDIS_FLAGS.maxlen)
    .option(...REDIS_FLAGS.snapshotEvery)
    .option('--record <dir>', 'also write the session as a recording (replaying it reproduces the published versions)')
    .option('--overwrite', 'replace a recording already in --record')
    .option('--tui', 'show the terminal heatmap')
    .option('--out <file|->', 'write the published versions as NDJSON (default: stdout, unless --tui or --sse is given)')
    .option('--config <file>', 'engine configuration JSON (tick, topology, publish thresholds, custom strategies)')
    .option('--strategies <list>', 'comma-separated strategies to run, e.g. single,fly (default: all enabled in the config)')
    .option(...STRATEGY_MODULE_FLAG)
    .option(...PIPELINE_FLAGS.stallTimeout)
    .option(...PIPELINE_FLAGS.pipelineHeap)
    .option('--duration <d>', 'stop after this long, e.g. 6h30m (default: until Ctrl-C)')
    .option('--rest-url <url>', 'REST base URL (default https://api.massive.com)')
    .option('--ws-url <url>', 'WebSocket base URL; /options, /indices or /stocks is appended (default wss://socket.massive.com)')
    .option('--api-key <key>', 'Massive API key (default: $MASSIVE_API_KEY — prefer the variable: flags show up in ps)')
    .option('--quotes', 'also subscribe Q. quotes for the contracts in scope (Options Advanced; at most 1,000 contracts)')
    .option('--status-interval <d>', 'recorder status line period on stderr (default 30s; 0s = off; off with --tui)')
    .addHelpText(
      'after',
      '\nThe recorder\'s lines feed the engine directly, with the same staging and publish rules as a replay.\n' +
        'The engine clock follows the wall clock on the same tick schedule (tick_ms), so `heatmap replay` of\n' +
        'the --record directory publishes the same versions (up to the last recorded line: versions that\n' +
        'ticks published after it have no input in the recording). Lines wait ~10 ms to be put in replay\n' +
        'order before they reach the engine. Stop with Ctrl-C or SIGTERM: the recording is finalised, SSE\n' +
        'clients get a final `end` event, and the NDJSON ends with its summary line. A session that receives\n' +
        'nothing at all from Massive (no chain page, no WS frame) exits 1 and says what happened.\n' +
        'Every strategy runs in a worker thread of its own: one that stalls (--stall-timeout), throws, runs out\n' +
        'of memory (--pipeline-heap) or falls 8 MiB of input behind is reported ({"type":"error",…,"reason":…},\n' +
        'SSE event: failed) and stops; the others keep publishing.\n' +
        SSE_HELP +
        '\nExamples:\n' +
        '  MASSIVE_API_KEY=… heatmap live --sse 8080 --record recordings/today\n' +
        '  heatmap serve recordings/demo --port 9000 &\n' +
        '  heatmap live --rest-url http://127.0.0.1:9000 --ws-url ws://127.0.0.1:9000 --api-key any --tui',
    )
    .action(async (opts: LiveCliOptions) => {
      const { runLiveCommand } = await import('./live-run.js');
      await runLiveCommand(opts);
    });
}
