import { formatSummary, type RecorderSummary } from '../recorder/record-report.js';
import { monotonicClock, wallClockUs } from '../recorder/clock.js';
import { runRecorder } from '../recorder/recorder.js';
import type { RedisTarget } from '../redis/target.js';
import { LiveRawFeed } from '../redis/live-raw-feed.js';
import { RawWriter } from '../redis/raw-writer.js';
import type { FeedCliOptions } from './feed.js';
import { liveRecorderOptions } from './record-run.js';

/** `heatmap feed --live`: the recorder's lines (and its clock lines) → massive:raw, optionally → --record. */
export async function runLiveFeed(cli: FeedCliOptions, target: RedisTarget): Promise<void> {
  const rec = await liveRecorderOptions(cli, process.env);
  const log = (m: string): void => void process.stderr.write(m + '\n');
  rec.log = log;
  const now = monotonicClock(wallClockUs);
  rec.now = now;
  const writer = await RawWriter.open({ target, meta: { underlying: rec.underlying }, log });
  const feed = new LiveRawFeed(writer, now);
  rec.onLine = feed.onLine;
  const abort = new AbortController();
  rec.signal = abort.signal;
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`heatmap feed: ${sig} — closing the session (send it again to quit at once)`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  feed.start();
  let summary: RecorderSummary | undefined;
  try {
    summary = await runRecorder(rec);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    try {
      await feed.stop();
      await writer.finish({ markEnd: true });
    } catch (err) {
      await writer.close();
      throw err;
    }
  }
  log(formatSummary(summary));
  log(`feed: ${writer.stats.added} entries → ${target.prefix}:raw on ${target.shown}${feed.late > 0 ? ` (${feed.late} lines arrived too late to be reordered)` : ''}; end marked`);
}
