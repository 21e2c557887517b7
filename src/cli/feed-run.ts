import { UsageError } from '../errors.js';
import { feedRecording } from '../redis/feed.js';
import { formatUs, parseMaxLineBytes } from './parse-options.js';
import { parseRedisFlags } from './redis-options.js';
import { parseSpeed } from './replay.js';
import type { FeedCliOptions } from './feed.js';

/** The `heatmap feed` action. */
export async function runFeedCommand(recording: string | undefined, cli: FeedCliOptions): Promise<void> {
  const target = parseRedisFlags(cli)!;
  if (cli.live === true) {
    if (recording !== undefined) throw new UsageError(`feed --live takes no recording (got "${recording}"); to keep the session, add --record DIR`);
    const { runLiveFeed } = await import('./feed-live-run.js');
    return runLiveFeed(cli, target);
  }
  if (recording === undefined) throw new UsageError('feed needs a recording directory, or --live for a live Massive session');
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`heatmap feed: ${sig} — stopping after the current line (the feed continues where it stopped when run again)\n`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const out = await feedRecording({
      dir: recording,
      target,
      speed: cli.speed === undefined ? 'max' : parseSpeed(cli.speed),
      maxLineBytes: parseMaxLineBytes(cli.maxLineMib),
      signal: abort.signal,
      onProgress: (p) => process.stderr.write(`feed: ${p.lines} lines, at ${formatUs(p.recv_us)}\n`),
    });
    const bad = out.bad.total > 0 ? `, ${out.bad.total} bad lines skipped (as replay skips them)` : '';
    const cut = out.cuts.length > 0 ? `, ${out.cuts.length} cut files read up to the cut` : '';
    process.stderr.write(
      `feed: ${out.lines} lines of ${out.underlying} → ${target.prefix}:raw on ${target.shown}: ${out.added} added, ${out.present} already there${bad}${cut}` +
        (out.aborted ? ' (stopped early: no end marker)' : `; end marked at ${out.last_id ?? '(empty)'}`) + '\n',
    );
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
