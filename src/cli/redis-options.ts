import { parseRedisTarget, DEFAULT_PREFIX, type RedisTarget } from '../redis/target.js';
import { parseNonNegativeInt, parsePositiveInt } from './parse-options.js';

/** The Redis flags shared by feed, pipeline, sse, and replay/live `--redis` (DESIGN §6). */
export interface RedisCliOptions {
  redis?: string;
  redisPrefix?: string;
  redisMaxlen?: string;
  snapshotEvery?: string;
}

/** Default `MAXLEN ~` of a strategy stream: enough history for SSE resumption and restarts. */
export const DEFAULT_MAXLEN = 10_000;
/** Default: the snapshot key is rewritten every this many versions. */
export const DEFAULT_SNAPSHOT_EVERY = 100;

export const REDIS_FLAGS = {
  redis: ['--redis <url>', 'Redis URL: redis://[:password@]host:port[/db], rediss://… or unix:///path/redis.sock (the password never appears in logs)'],
  prefix: ['--redis-prefix <prefix>', `key prefix: <prefix>:raw, <prefix>:heatmap:{S} (default: ${DEFAULT_PREFIX})`],
  maxlen: ['--redis-maxlen <n>', `trim each massive:heatmap:{S} stream to about N entries (MAXLEN ~; 0 = never; default ${DEFAULT_MAXLEN})`],
  snapshotEvery: ['--snapshot-every <n>', `rewrite massive:heatmap:{S}:snapshot every N versions, and at the end (default ${DEFAULT_SNAPSHOT_EVERY})`],
} as const;

/** Validated `--redis` + `--redis-prefix`; undefined when `--redis` is absent. */
export function parseRedisFlags(opts: RedisCliOptions): RedisTarget | undefined {
  if (opts.redis === undefined) return undefined;
  return parseRedisTarget(opts.redis, opts.redisPrefix ?? DEFAULT_PREFIX);
}

/** Validated publishing flags of the strategy streams. */
export function parsePublishFlags(opts: RedisCliOptions): { maxlen: number; snapshotEvery: number } {
  return {
    maxlen: opts.redisMaxlen === undefined ? DEFAULT_MAXLEN : parseNonNegativeInt(opts.redisMaxlen, '--redis-maxlen'),
    snapshotEvery: opts.snapshotEvery === undefined ? DEFAULT_SNAPSHOT_EVERY : parsePositiveInt(opts.snapshotEvery, '--snapshot-every'),
  };
}
