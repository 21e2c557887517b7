import { InputError } from '../errors.js';
import { ErrorReply } from 'redis';
import { isTransient, reconnectDelayMs, type RedisClient } from './connection.js';
import { keysOf } from './target.js';
import { compareIds, parseEntryId } from './raw-ids.js';
import type { RawMeta } from './raw-writer.js';

/**
 * Reads `massive:raw` from the start, in ID order, in batches (DESIGN §6). Blocking reads run on
 * their own connection (`reader`); small commands (the end marker) go over `control`.
 *
 * - A read that fails (Redis restarting, the connection lost) is retried with backoff from the last
 *   ID received: nothing is skipped and nothing is read twice.
 * - The input ends when the feed has marked its end (`massive:raw:end`) and every entry up to it
 *   has been read; with `follow` the reader keeps waiting for more (a live feed never ends).
 */

export interface RawEntry {
  readonly id: string;
  /** Recording stream of the line (`chain`, `clock`, `indices`, `options`, `stocks`). */
  readonly stream: string;
  /** The recording line, verbatim. */
  readonly line: string;
}

export interface RawReadOptions {
  readonly prefix: string;
  /** Keep reading after the feed's end marker (default false: stop there). */
  readonly follow: boolean;
  readonly signal?: AbortSignal;
  /** Entries per read (default 1000). */
  readonly count?: number;
  /** Longest block of one read, ms (default 1000): how often the end marker is looked at. */
  readonly blockMs?: number;
  /** Called once each time the reader has caught up and waits for more (no end marker yet). */
  readonly onIdle?: () => void;
}

/** Batches of raw entries, in order, until the end of the input (see the module comment). */
export async function* readRaw(reader: RedisClient, control: RedisClient, o: RawReadOptions): AsyncGenerator<RawEntry[]> {
  const keys = keysOf(o.prefix);
  const count = o.count ?? 1000;
  let last = '0-0';
  let failures = 0;
  let isIdle = false;
  const isAborted = (): boolean => o.signal?.aborted === true;
  while (!isAborted()) {
    let messages: { id: string; message: Record<string, string> }[];
    try {
      const res = await reader.xRead({ key: keys.raw, id: last }, { COUNT: count, BLOCK: o.blockMs ?? 1000 });
      messages = (res as { messages: { id: string; message: Record<string, string> }[] }[] | null)?.[0]?.messages ?? [];
      failures = 0;
    } catch (err) {
      if (isAborted()) return;
      if (!isTransient(err)) throw refusal(keys.raw, err);
      await sleep(reconnectDelayMs(failures++));
      continue;
    }
    if (messages.length > 0) {
      const batch: RawEntry[] = [];
      for (const m of messages) {
        const line = m.message['line'];
        const stream = m.message['stream'];
        if (typeof line !== 'string' || typeof stream !== 'string') {
          throw new InputError(`${keys.raw} entry ${m.id} has no "line" and "stream" fields — was it written by heatmap feed? (--redis-prefix)`);
        }
        batch.push({ id: m.id, stream, line });
      }
      last = batch[batch.length - 1]!.id;
      isIdle = false;
      yield batch;
    }
    if (messages.length < count && !o.follow) {
      const end = await getWithRetry(control, keys.rawEnd, o.signal);
      const endId = end === null ? undefined : parseEntryId(end);
      const lastId = parseEntryId(last);
      if (endId !== undefined && lastId !== undefined && compareIds(lastId, endId) >= 0) return;
    }
    if (messages.length === 0 && !isIdle) {
      isIdle = true;
      o.onIdle?.();
    }
  }
}

/** The session facts the feed stored; waits for the first raw entry when the feed has not started yet. */
export async function readRawMeta(reader: RedisClient, control: RedisClient, o: { prefix: string; signal?: AbortSignal; onWait?: () => void }): Promise<RawMeta | undefined> {
  const keys = keysOf(o.prefix);
  let isWaiting = false;
  for (let failures = 0; o.signal?.aborted !== true; ) {
    try {
      const text = await control.get(keys.meta);
      if (text !== null) return parseMeta(text, keys.meta);
      if (!isWaiting) o.onWait?.();
      isWaiting = true;
      // Wake up as soon as the first entry lands (the feed writes the meta key before it).
      await reader.xRead({ key: keys.raw, id: '0-0' }, { COUNT: 1, BLOCK: 1000 });
      failures = 0;
    } catch (err) {
      if (err instanceof InputError) throw err;
      if (!isTransient(err)) throw refusal(`${keys.meta} or ${keys.raw}`, err);
      await sleep(reconnectDelayMs(failures++));
    }
  }
  return undefined;
}

function parseMeta(text: string, key: string): RawMeta {
  try {
    const m = JSON.parse(text) as Partial<RawMeta>;
    if (typeof m.underlying === 'string' && m.underlying !== '') return { underlying: m.underlying };
  } catch {
    /* reported below */
  }
  throw new InputError(`${key} is not {"underlying":…} — was it written by heatmap feed? (--redis-prefix)`);
}

async function getWithRetry(client: RedisClient, key: string, signal: AbortSignal | undefined): Promise<string | null> {
  for (let failures = 0; ; failures++) {
    try {
      return await client.get(key);
    } catch (err) {
      if (signal?.aborted === true) throw err;
      if (!isTransient(err)) throw refusal(key, err);
      await sleep(reconnectDelayMs(failures));
    }
  }
}

/**
 * Redis answered a read of our keys with an error of its own (a key of another type, a missing
 * permission): waiting will not change that, so the run stops (exit 2), naming the key. Before,
 * these were retried like a lost connection, for ever.
 */
function refusal(key: string, err: unknown): Error {
  if (!(err instanceof ErrorReply)) return err instanceof Error ? err : new Error(String(err));
  return new InputError(`Redis refused to read ${key}: ${err.message} — is it a key of heatmap feed? (--redis-prefix)`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
