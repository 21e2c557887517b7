import { MultiErrorReply } from 'redis';
import { RuntimeError } from '../errors.js';
import { reconnectDelayMs, type RedisClient } from './connection.js';
import { compareIds, parseEntryId, type EntryId } from './raw-ids.js';

/**
 * Appends entries with explicit, increasing IDs to a stream so that each ends up there exactly
 * once, whatever happens to the connection.
 *
 * A batch goes in one MULTI/EXEC transaction: Redis applies all of it or none of it. When the
 * connection drops before the reply, the batch may or may not have been applied; after the
 * reconnection the stream's last ID tells which (the batch's IDs are all above or all at/below
 * it), and only what is missing is sent again. (Pipelined XADDs without a transaction would not
 * do: the commands written before the drop fail while those still queued go out after the
 * reconnection, leaving a hole that no later XADD can fill — IDs must increase.)
 *
 * An XADD refused because its ID is not above the stream's last entry means the entry is already
 * there (a retry, or another writer of the same history ahead of us): it counts as present. The
 * callers check that present entries are the same lines where that matters.
 */

export interface BatchEntry {
  readonly id: string;
  readonly fields: Record<string, string | Buffer>;
}

export interface BatchOptions {
  /** `MAXLEN ~ n` trimming on each add (undefined: none). */
  readonly maxlen?: number;
  /** For messages: how the stream is called (e.g. `massive:raw`). */
  readonly what: string;
  /** Redacts a message (the URL's password). */
  readonly redact: (text: string) => string;
}

const TOO_SMALL = /equal or smaller than the target stream top item/;

/** What `addEntries` did: entries it added, and entries it found there (to be compared by the caller if it cares). */
export interface BatchResult {
  readonly added: number;
  readonly present: readonly BatchEntry[];
}

/** Adds the entries (in ID order). */
export async function addEntries(client: RedisClient, key: string, entries: readonly BatchEntry[], o: BatchOptions): Promise<BatchResult> {
  const trim = o.maxlen !== undefined && o.maxlen > 0 ? { TRIM: { strategy: 'MAXLEN' as const, strategyModifier: '~' as const, threshold: o.maxlen } } : undefined;
  let pending = entries;
  const present: BatchEntry[] = [];
  for (let attempt = 0; pending.length > 0; attempt++) {
    try {
      const multi = client.multi();
      for (const e of pending) multi.xAdd(key, e.id, e.fields, trim);
      await multi.exec();
      return { added: pending.length, present };
    } catch (err) {
      if (err instanceof MultiErrorReply) {
        // The transaction ran; some entries were already there.
        for (const e of err.errors()) if (!TOO_SMALL.test(e.message)) throw new RuntimeError(o.redact(`redis: writing ${o.what} failed: ${e.message}`));
        const refused = new Set(err.errorIndexes);
        pending.forEach((e, i) => refused.has(i) && present.push(e));
        return { added: pending.length - refused.size, present };
      }
      if (attempt >= 20) throw new RuntimeError(o.redact(`redis: writing ${o.what} failed ${attempt + 1} times: ${(err as Error)?.message ?? String(err)}`));
      await sleep(reconnectDelayMs(attempt));
      const top = await lastId(client, key).catch(() => 'unknown' as const);
      if (top === 'unknown') continue;
      if (top === undefined) continue;
      const rest: BatchEntry[] = [];
      for (const e of pending) (compareIds(parseEntryId(e.id)!, top) > 0 ? rest : present).push(e);
      pending = rest;
    }
  }
  return { added: 0, present };
}

/** The stream's last entry ID (undefined when empty). */
export async function lastId(client: RedisClient, key: string): Promise<EntryId | undefined> {
  const last = (await client.xRevRange(key, '+', '-', { COUNT: 1 }))?.[0];
  return last === undefined ? undefined : parseEntryId(last.id);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
