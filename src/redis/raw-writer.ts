import { InputError } from '../errors.js';
import { closeRedis, connectRedis, retrying, type RedisClient } from './connection.js';
import { keysOf, redactText, type RedisTarget } from './target.js';
import { addEntries } from './stream-batch.js';
import { compareIds, parseEntryId, RawIdAssigner, type EntryId } from './raw-ids.js';

/**
 * The writer of `massive:raw` (DESIGN §6): engine inputs in replay order, one entry per recording
 * line (`line` = the line verbatim, `stream` = the recording stream it belongs to), with IDs from
 * `RawIdAssigner`.
 *
 * **Idempotent.** Before the first write it reads what the stream already holds. Lines whose IDs
 * are at or below the stream's last entry are not written again: the entry at the same ID must be
 * the same line (checked for the stream's first and last entries), otherwise the keys hold another
 * history and the feed stops with exit 2 naming `--redis-prefix`. So re-feeding a recording adds
 * nothing, and a feed that was stopped continues where it stopped.
 *
 * **Resilient.** Entries are sent in pipelined batches; when the connection drops mid-batch, the
 * writer waits for it to come back, asks Redis for its last ID and sends only what is missing.
 */

/** Session facts stored beside the raw stream (`massive:raw:meta`): pipelines need the underlying. */
export interface RawMeta {
  readonly underlying: string;
}

export interface RawWriterOptions {
  readonly target: RedisTarget;
  readonly meta: RawMeta;
  readonly log?: (line: string) => void;
  /** Entries per pipelined batch (default 500). */
  readonly batch?: number;
}

interface Pending {
  readonly id: string;
  readonly parsed: EntryId;
  readonly stream: string;
  readonly line: string;
}

interface Existing {
  readonly first: { id: EntryId; stream: string; line: string };
  readonly last: { id: EntryId; idText: string; stream: string; line: string };
}

/** What a feed did. */
export interface RawWriterStats {
  /** Lines offered. */
  lines: number;
  /** Entries added to the stream. */
  added: number;
  /** Lines already in the stream (a re-feed or a resumed feed). */
  present: number;
}

export class RawWriter {
  readonly stats: RawWriterStats = { lines: 0, added: 0, present: 0 };
  private readonly ids = new RawIdAssigner();
  private readonly keys;
  private batch: Pending[] = [];
  private existing: Existing | undefined;
  /** Set once a line at or past the stream's last entry has been offered (the histories then agree). */
  private isPastExisting = false;
  private lastId: string | undefined;

  private constructor(
    private readonly client: RedisClient,
    private readonly o: RawWriterOptions,
  ) {
    this.keys = keysOf(o.target.prefix);
  }

  /** Connects (exit 1 when Redis cannot be reached) and reads what the stream already holds. */
  static async open(o: RawWriterOptions): Promise<RawWriter> {
    const client = await connectRedis(o.target, { role: 'feed', log: o.log });
    const w = new RawWriter(client, o);
    try {
      await w.checkMeta();
      w.existing = await w.readExisting();
    } catch (err) {
      await closeRedis(client);
      throw err;
    }
    return w;
  }

  /** The ID given to the last line offered. */
  get lastEntryId(): string | undefined {
    return this.lastId;
  }

  /** Offers the next line in replay order; resolves once it is safe to offer more (batches are awaited). */
  async add(stream: string, recv_us: number, line: string): Promise<void> {
    this.stats.lines++;
    const id = this.ids.next(recv_us);
    this.lastId = id;
    const parsed = parseEntryId(id)!;
    const ex = this.existing;
    if (ex !== undefined && !this.isPastExisting) {
      const c = compareIds(parsed, ex.last.id);
      if (compareIds(parsed, ex.first.id) === 0) this.expectSame(id, ex.first, stream, line);
      if (c < 0) {
        this.stats.present++;
        return;
      }
      if (c === 0) {
        this.expectSame(id, ex.last, stream, line);
        this.stats.present++;
        this.isPastExisting = true;
        return;
      }
      this.differs(`its last entry ${ex.last.idText} is not a line of this input`);
    }
    this.batch.push({ id, parsed, stream, line });
    if (this.batch.length >= (this.o.batch ?? 500)) await this.flush();
  }

  /** Sends what is batched. */
  async flush(): Promise<void> {
    const pending = this.batch;
    this.batch = [];
    if (pending.length === 0) return;
    const entries = pending.map((p) => ({ id: p.id, fields: { line: p.line, stream: p.stream } }));
    const r = await addEntries(this.client, this.keys.raw, entries, { what: this.keys.raw, redact: (t) => redactText(this.o.target, t) });
    this.stats.added += r.added;
    this.stats.present += r.present.length;
  }

  /** Flushes, records the end of the input (`massive:raw:end` = the last ID) and closes. */
  async finish(opts: { markEnd: boolean }): Promise<void> {
    try {
      await this.flush();
      if (opts.markEnd && this.lastId !== undefined) {
        const end = this.lastId;
        await retrying(() => this.client.set(this.keys.rawEnd, end));
      }
    } finally {
      await closeRedis(this.client);
    }
  }

  /** Closes without marking the end (an aborted feed). */
  async close(): Promise<void> {
    await closeRedis(this.client);
  }

  private async checkMeta(): Promise<void> {
    const text = JSON.stringify(this.o.meta);
    const set = await retrying(() => this.client.set(this.keys.meta, text, { condition: 'NX' }));
    if (set === 'OK') return;
    const have = await retrying(() => this.client.get(this.keys.meta));
    if (have !== text) this.differs(`it holds a session of ${describeMeta(have)}, this input is ${describeMeta(text)}`);
  }

  private async readExisting(): Promise<Existing | undefined> {
    const first = (await retrying(() => this.client.xRange(this.keys.raw, '-', '+', { COUNT: 1 })))?.[0];
    const last = await this.lastEntry();
    if (first === undefined || last === undefined) return undefined;
    return {
      first: { id: parseEntryId(first.id)!, stream: String(first.message['stream']), line: String(first.message['line']) },
      last,
    };
  }

  private async lastEntry(): Promise<Existing['last'] | undefined> {
    const e = (await retrying(() => this.client.xRevRange(this.keys.raw, '+', '-', { COUNT: 1 })))?.[0];
    if (e === undefined) return undefined;
    const id = parseEntryId(e.id);
    if (id === undefined) this.differs(`its entry ${e.id} was not written by heatmap feed`);
    return { id, idText: e.id, stream: String(e.message['stream']), line: String(e.message['line']) };
  }

  private expectSame(id: string, e: { stream: string; line: string }, stream: string, line: string): void {
    if (e.stream !== stream || e.line !== line) this.differs(`its entry ${id} is another line than this input's`);
  }

  private differs(why: string): never {
    throw new InputError(
      `${this.keys.raw} already holds a different history (${why}) — feed into another --redis-prefix, or delete the old keys (redis-cli --scan --pattern '${this.o.target.prefix}:*' | xargs redis-cli del)`,
    );
  }
}

function describeMeta(text: string | null): string {
  try {
    const m = JSON.parse(text ?? '') as Partial<RawMeta>;
    return typeof m.underlying === 'string' ? m.underlying : 'an unknown underlying';
  } catch {
    return 'an unknown underlying';
  }
}
