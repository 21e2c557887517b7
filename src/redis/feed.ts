import { Tally } from '../engine/tally.js';
import { readManifest } from '../recording/manifest.js';
import { newReadReport, readRecording } from '../recording/reader.js';
import { Pacer } from '../replay/pacer.js';
import type { RedisTarget } from './target.js';
import { RawWriter, type RawWriterStats } from './raw-writer.js';

/**
 * `heatmap feed REC --redis URL` (DESIGN §6): the recording's lines, in replay order (the same
 * reader, merge and receive-time rules as `heatmap replay`), into `massive:raw`, paced by `speed`.
 * At the end the feed marks the input's end so pipelines know it is complete.
 */

export interface FeedRecordingOptions {
  readonly dir: string;
  readonly target: RedisTarget;
  readonly speed: number | 'max';
  readonly maxLineBytes?: number;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  readonly onProgress?: (p: { lines: number; recv_us: number }) => void;
}

export interface FeedOutcome extends RawWriterStats {
  readonly underlying: string;
  /** Bad lines the reader skipped (the replay skips the same ones). */
  readonly bad: Tally;
  readonly cuts: readonly { file: string; reason: string }[];
  readonly last_id: string | undefined;
  readonly aborted: boolean;
}

export async function feedRecording(o: FeedRecordingOptions): Promise<FeedOutcome> {
  const manifest = await readManifest(o.dir);
  const writer = await RawWriter.open({ target: o.target, meta: { underlying: manifest.underlying }, log: o.log });
  const report = newReadReport();
  const pacer = o.speed === 'max' ? undefined : new Pacer(o.speed);
  let aborted = false;
  try {
    for await (const line of readRecording(o.dir, { maxLineBytes: o.maxLineBytes }, report)) {
      if (o.signal?.aborted === true) {
        aborted = true;
        break;
      }
      if (pacer) {
        await pacer.waitFor(line.recv_us);
        // Paced: each line goes out when it is due, not when a batch is full.
        await writer.add(line.stream, line.recv_us, line.text);
        await writer.flush();
      } else {
        await writer.add(line.stream, line.recv_us, line.text);
      }
      if (writer.stats.lines % 5000 === 0) o.onProgress?.({ lines: writer.stats.lines, recv_us: line.recv_us });
    }
    await writer.finish({ markEnd: !aborted });
  } catch (err) {
    await writer.close();
    throw err;
  }
  return { ...writer.stats, underlying: manifest.underlying, bad: report.bad, cuts: report.cuts, last_id: writer.lastEntryId, aborted };
}
