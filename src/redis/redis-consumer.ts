import type { EngineOutput } from '../engine/types.js';
import type { OutputConsumer } from '../replay/consumer.js';
import type { ReplayOutcome } from '../replay/replay.js';
import { closeRedis, connectRedis } from './connection.js';
import type { RedisTarget } from './target.js';
import { HeatmapWriter } from './heatmap-writer.js';

/**
 * `replay … --redis URL` and `live … --redis URL`: the run's versions go straight into
 * `massive:heatmap:{S}` (and the snapshot keys), exactly as `heatmap pipeline` writes them — same
 * IDs, same lines, same restart checks — so `heatmap sse` serves them and a pipeline started later
 * on the same keys only verifies them.
 *
 * Writes are pipelined in the background; `drain()` holds the run back while more than
 * `maxQueued` lines wait for Redis, so memory stays bounded when Redis is slower than the engine.
 */

export interface RedisConsumerOptions {
  readonly target: RedisTarget;
  readonly strategies: readonly string[];
  readonly format: 1 | 2;
  readonly maxlen: number;
  readonly snapshotEvery: number;
  readonly log?: (line: string) => void;
  /** Lines waiting for Redis above which `drain` makes the run wait (default 5000). */
  readonly maxQueued?: number;
}

export interface RedisConsumer extends OutputConsumer {
  /** Each strategy stream needs its lines in stream order, gap lines included. */
  readonly ordered: true;
  /** A promise while too many lines wait for Redis (the run awaits it), else undefined. */
  drain(): Promise<void> | undefined;
}

export async function createRedisConsumer(o: RedisConsumerOptions): Promise<RedisConsumer> {
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const client = await connectRedis(o.target, { role: 'publisher', log });
  const writers = new Map<string, HeatmapWriter>();
  try {
    for (const s of o.strategies) {
      const w = new HeatmapWriter(client, { target: o.target, strategy: s, format: o.format, maxlen: o.maxlen, snapshotEvery: o.snapshotEvery });
      await w.init();
      writers.set(s, w);
    }
  } catch (err) {
    await closeRedis(client);
    throw err;
  }
  log(`redis: publishing ${o.strategies.map((s) => `${o.target.prefix}:heatmap:${s}`).join(', ')} on ${o.target.shown}`);
  const all = [...writers.values()];
  const maxQueued = o.maxQueued ?? 5000;
  let queued = 0;
  let flushing: Promise<void> | undefined;
  let failure: unknown;
  const flush = (): Promise<void> => {
    flushing ??= (async () => {
      try {
        while (queued > 0 && failure === undefined) {
          queued = 0;
          await Promise.all(all.map((w) => w.flush()));
        }
      } catch (err) {
        failure = err;
      } finally {
        flushing = undefined;
      }
    })();
    return flushing;
  };
  return {
    ordered: true,
    onOutput(out: EngineOutput) {
      if (out.type === 'gap') for (const w of all) w.push(out);
      else writers.get(out.strategy)?.push(out);
      queued++;
      if (flushing === undefined) void flush();
    },
    drain() {
      if (failure !== undefined) return Promise.reject(failure);
      return queued > maxQueued ? flush() : undefined;
    },
    async close(result: ReplayOutcome | undefined) {
      try {
        while (flushing !== undefined || queued > 0) await flush();
        if (failure !== undefined) throw failure;
        if (result !== undefined) await Promise.all(all.map((w) => w.finish()));
        const added = all.reduce((n, w) => n + w.stats.added, 0);
        const verified = all.reduce((n, w) => n + w.stats.verified, 0);
        log(`redis: ${added} entries added${verified > 0 ? `, ${verified} already there (checked equal)` : ''} on ${o.target.shown}`);
      } finally {
        await closeRedis(client);
      }
    },
  };
}
