import { UsageError } from '../errors.js';

/**
 * A Redis target as the command line gives it, and the key names under its prefix (DESIGN §6):
 * everything about Redis that needs no client. The CLI's option parsing imports this module, not
 * `connection.ts`: loading the `redis` package costs ~170 ms at every start of every command.
 */

export interface RedisTarget {
  /** The URL as given (with its password: only ever handed to the client). */
  readonly url: string;
  /** The URL for messages: the password (and user) replaced by `***`. */
  readonly shown: string;
  /** Key prefix (`--redis-prefix`, default `massive`). */
  readonly prefix: string;
}

/** Default key prefix (DESIGN §6). */
export const DEFAULT_PREFIX = 'massive';

/**
 * Validates `--redis URL` (redis://, rediss:// or unix://) and `--redis-prefix` (no spaces, no `:`
 * at either end); the password is kept for the client only.
 */
export function parseRedisTarget(url: string, prefix: string = DEFAULT_PREFIX): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--redis: "${redactUrl(url)}" is not a URL (e.g. redis://127.0.0.1:6379 or unix:///run/redis.sock)`);
  }
  if (!['redis:', 'rediss:', 'unix:'].includes(parsed.protocol)) {
    throw new UsageError(`--redis: "${redactUrl(url)}" must start with redis://, rediss:// or unix://`);
  }
  if (!/^[A-Za-z0-9_.{}-]+(:[A-Za-z0-9_.{}-]+)*$/.test(prefix)) {
    throw new UsageError(`--redis-prefix: "${prefix}" must be letters, digits, "_", "-", "." or "{}" parts joined by ":" (e.g. massive or prod:massive)`);
  }
  return { url, shown: redactUrl(url), prefix };
}

/** The URL with its user and password replaced by `***` (for messages). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)([^@/]*)@/i, (_m, scheme: string) => `${scheme}***@`);
}

/** Removes the URL's password from any text (an error message from the client may quote it). */
export function redactText(target: RedisTarget, text: string): string {
  let out = text.split(target.url).join(target.shown);
  try {
    const p = new URL(target.url).password;
    if (p !== '') out = out.split(decodeURIComponent(p)).join('***').split(p).join('***');
  } catch {
    /* not a URL: nothing more to hide */
  }
  return out;
}

/** Key names under a prefix (DESIGN §6). */
export function keysOf(prefix: string): {
  raw: string;
  /** Set by a feed that reached the end of its input: the last raw entry ID (pipelines stop there). */
  rawEnd: string;
  /** The session's facts (`{"underlying":…}`), set by the first feed. */
  meta: string;
  heatmap: (strategy: string) => string;
  snapshot: (strategy: string) => string;
} {
  return {
    raw: `${prefix}:raw`,
    rawEnd: `${prefix}:raw:end`,
    meta: `${prefix}:raw:meta`,
    heatmap: (s) => `${prefix}:heatmap:${s}`,
    snapshot: (s) => `${prefix}:heatmap:${s}:snapshot`,
  };
}
