import { Command } from 'commander';
import { MAX_LINE_FLAG } from './parse-options.js';
import { REDIS_FLAGS, type RedisCliOptions } from './redis-options.js';
import type { LiveRecorderCliOptions } from './record-run.js';

/** Options of `heatmap feed` as commander hands them over. */
export interface FeedCliOptions extends RedisCliOptions, LiveRecorderCliOptions {
  speed?: string;
  maxLineMib?: string;
  /** Feed a live session; the recorder's flags are those of `heatmap live`. */
  live?: boolean;
}

/** Builds `heatmap feed`; the action is imported lazily from feed-run.ts. */
export function feedCommand(): Command {
  return new Command('feed')
    .description('write engine inputs into Redis (massive:raw): a recording in replay order, or a live Massive session (--live)')
    .argument('[recording]', 'recording directory to feed (omit with --live)')
    .requiredOption(...REDIS_FLAGS.redis)
    .option(...REDIS_FLAGS.prefix)
    .option('--speed <max|N>', 'recording: pace receive time N× faster than real time, or "max" (default: max)')
    .option(...MAX_LINE_FLAG)
    .option('--live', 'feed a live Massive session instead of a recording (the flags below are those of heatmap live)')
    .option('--underlying <ticker>', '--live: I:SPX or an ETF like SPY', 'I:SPX')
    .option('--record <dir>', '--live: also write the session as a recording (with its clock lines)')
    .option('--overwrite', '--live: replace a recording already in --record')
    .option('--config <file>', '--live: engine configuration JSON (tick_ms: the clock lines; topology: what is recorded)')
    .option('--duration <d>', '--live: stop after this long, e.g. 6h30m (default: until Ctrl-C)')
    .option('--rest-url <url>', '--live: REST base URL (default https://api.massive.com)')
    .option('--ws-url <url>', '--live: WebSocket base URL (default wss://socket.massive.com)')
    .option('--api-key <key>', '--live: Massive API key (default: $MASSIVE_API_KEY)')
    .option('--quotes', '--live: also subscribe Q. quotes for the contracts in scope')
    .option('--status-interval <d>', '--live: recorder status line period on stderr (default 30s; 0s = off)')
    .addHelpText(
      'after',
      '\nEach line becomes one entry of <prefix>:raw: {line: the recording line verbatim, stream: its stream}.\n' +
        'Entry IDs come from the lines\' receive times, so feeding the same recording again adds nothing, and a\n' +
        'feed that was stopped continues where it stopped. A different recording under the same prefix is\n' +
        'refused (exit 2): use another --redis-prefix. At the end of a recording (or of a --live session) the\n' +
        'feed sets <prefix>:raw:end, and pipelines that reach it finish. A live feed also writes a clock line\n' +
        'at each tick with no other input, so pipelines publish on time even when the market is quiet.\n' +
        'Redis unreachable at start: exit 1. Lost mid-run: reconnect with backoff and resend what is missing.\n' +
        '\nExamples:\n' +
        '  heatmap feed fixtures/open-3m --redis redis://127.0.0.1:6379\n' +
        '  heatmap feed recordings/demo --speed 10 --redis redis://127.0.0.1:6379 --redis-prefix demo\n' +
        '  MASSIVE_API_KEY=… heatmap feed --live --record recordings/today --redis redis://127.0.0.1:6379',
    )
    .action(async (recording: string | undefined, opts: FeedCliOptions) => {
      const { runFeedCommand } = await import('./feed-run.js');
      await runFeedCommand(recording, opts);
    });
}
