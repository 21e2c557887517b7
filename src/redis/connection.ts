import { createClient, ErrorReply, ClientClosedError } from 'redis';
import { RuntimeError } from '../errors.js';
import { redactText, type RedisTarget } from './target.js';

/**
 * Connections to Redis (DESIGN §6) with the behaviour every Redis command shares:
 *
 * - **At start** a Redis that cannot be reached is a clear error (exit 1) after a few quick tries,
 *   never a hang: `heatmap: cannot reach Redis at redis://127.0.0.1:6379 (ECONNREFUSED) — …`.
 * - **Mid-run** a lost connection is retried with capped exponential backoff, forever; commands
 *   issued meanwhile wait in the client's queue and go out once it is back. Callers resume blocking
 *   reads from the last entry ID they saw, so nothing is lost or read twice.
 * - **Secrets**: the URL's password never appears in a log line or an error (`redis://:***@host`).
 * - **One blocking reader per connection**: a command queued behind `XREAD BLOCK` waits for the
 *   block to end, so readers get their own connection (`connectRedis` again), writers share one.
 */

/** A client with the default modules and no custom type mapping (what `createClient(options)` returns). */
export function newClient(options: NonNullable<Parameters<typeof createClient>[0]>) {
  return createClient(options);
}
export type RedisClient = ReturnType<typeof newClient>;

/** Backoff between reconnection attempts once the connection has worked: 100 ms doubling to 5 s. */
export function reconnectDelayMs(retries: number): number {
  return Math.min(5000, 100 * 2 ** Math.min(retries, 6));
}

/** Attempts of one idempotent command across a lost connection (about 90 s of backoff in all). */
const COMMAND_ATTEMPTS = 22;

/**
 * Whether a command's failure is the connection's (dropped, not back yet, or a restarted Redis
 * still loading its data) rather than the command's: those are worth sending again.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof ClientClosedError) return false; // closed by us: shutting down
  if (err instanceof ErrorReply) return /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN)\b/.test(err.message);
  return err instanceof Error;
}

/**
 * Runs an idempotent command (a read, a SET of a whole value), sending it again with backoff while
 * the connection is away. Redis's own answers (a wrong type, a refused ID) are not retried; nor is
 * anything once `signal` is aborted. After ~90 s of failures the last error is thrown.
 */
export async function retrying<T>(command: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await command();
    } catch (err) {
      if (!isTransient(err) || signal?.aborted === true || failures + 1 >= COMMAND_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(failures)));
    }
  }
}

/** Attempts at start before giving up with exit 1 (about 1.5 s in all). */
const START_ATTEMPTS = 4;

/** Options of one connection. */
export interface ConnectOptions {
  /** Where reconnections are reported (default stderr); never sees the password. */
  readonly log?: (line: string) => void;
  /** Name shown in log lines (`pipeline reader`, `feed writer`). */
  readonly role: string;
}

/**
 * Opens a connection. Rejects with a RuntimeError (exit 1) naming the redacted URL and the cause
 * when Redis cannot be reached at start; afterwards the client reconnects with backoff on its own.
 */
export async function connectRedis(target: RedisTarget, opts: ConnectOptions): Promise<RedisClient> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  let hasConnected = false;
  let lastError = '';
  let isDown = false;
  const isUnix = target.url.startsWith('unix:');
  const client = newClient({
    ...(isUnix ? { socket: { path: new URL(target.url).pathname, reconnectStrategy } } : { url: target.url, socket: { reconnectStrategy } }),
    // A password in a unix URL (unix://:pw@/path) still authenticates.
    ...(isUnix && new URL(target.url).password !== '' ? { password: decodeURIComponent(new URL(target.url).password) } : {}),
  });
  function reconnectStrategy(retries: number, cause: Error): number | Error {
    lastError = describe(cause);
    if (!hasConnected) return retries + 1 >= START_ATTEMPTS ? new Error(lastError) : 100 * 2 ** retries;
    return reconnectDelayMs(retries);
  }
  client.on('error', (err: unknown) => {
    lastError = describe(err);
    if (hasConnected && !isDown) {
      isDown = true;
      log(redactText(target, `redis (${opts.role}): connection lost (${lastError}) — reconnecting with backoff`));
    }
  });
  client.on('ready', () => {
    if (isDown) log(`redis (${opts.role}): reconnected`);
    isDown = false;
    hasConnected = true;
  });
  try {
    await client.connect();
  } catch (err) {
    const why = lastError !== '' ? lastError : describe(err);
    try {
      client.destroy();
    } catch {
      /* already closed */
    }
    const hint = /WRONGPASS|NOAUTH|NOPERM|invalid password/i.test(why)
      ? 'check the password (redis://:PASSWORD@host:port) and the user'
      : 'is redis-server running there? Start one with: redis-server --port 6379 --save "" --appendonly no';
    throw new RuntimeError(redactText(target, `cannot reach Redis at ${target.shown} (${why}) — ${hint}`));
  }
  return client;
}

/**
 * Closes a connection: waits for its pending replies when Redis is there (at most `graceMs`), and
 * drops it at once when it is not (a client reconnecting to a Redis that is gone would otherwise
 * keep a shutdown waiting forever).
 */
export async function closeRedis(client: RedisClient, graceMs = 2000): Promise<void> {
  const destroy = (): void => {
    try {
      if (client.isOpen) client.destroy();
    } catch {
      /* gone */
    }
  };
  if (!client.isOpen) return;
  if (!client.isReady) return destroy();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  } catch {
    /* closed under us */
  } finally {
    clearTimeout(timer);
    destroy();
  }
}

/** A short cause: an errno code when there is one (`ECONNREFUSED`), else the message's first line. */
function describe(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    const msg = (err as { message?: unknown }).message;
    if (typeof msg === 'string' && msg !== '') return msg.split('\n')[0]!.slice(0, 200);
  }
  return String(err).slice(0, 200);
}
