import { InputError } from '../errors.js';
import { outputBytes } from '../engine/output-lines.js';
import type { EngineOutput } from '../engine/types.js';
import { VersionFold } from '../engine/version-fold.js';
import { retrying, type RedisClient } from './connection.js';
import { keysOf, redactText, type RedisTarget } from './target.js';
import { addEntries, lastId } from './stream-batch.js';
import { compareIds, parseEntryId, type EntryId } from './raw-ids.js';

/**
 * The writer of one strategy's stream `massive:heatmap:{S}` and its snapshot key (DESIGN §6).
 *
 * - Entry IDs: `<version>-0` for a version line; `<version>-<n>` (n = 1, 2, …) for the gap and
 *   error lines that follow it (`0-<n>` before the first version). The line is the strategy's
 *   output line byte for byte, in the run's format.
 * - Trimmed with `MAXLEN ~ maxlen` on every add (0 = never trimmed).
 * - `massive:heatmap:{S}:snapshot` holds the snapshot body of the latest version (format 2 by
 *   default: what an SSE `snapshot` event carries), rewritten every `snapshotEvery` versions and at
 *   the end.
 * - **Restart without loss or duplicates.** A restarted pipeline recomputes from `massive:raw`.
 *   Every line whose ID is already in the stream is compared with the stored entry instead of being
 *   written (lines already trimmed away cannot be compared and are skipped); the first ID past the
 *   stream's last entry is written. A stored entry that differs means another history under the
 *   same keys: exit 2 naming `--redis-prefix`. Two pipelines running the same strategy therefore
 *   agree entry by entry, and the one that is behind only checks.
 */

export interface HeatmapWriterOptions {
  readonly target: RedisTarget;
  readonly strategy: string;
  readonly format: 1 | 2;
  /** `MAXLEN ~` of the stream; 0 = no trimming. */
  readonly maxlen: number;
  /** Rewrite the snapshot key every this many versions (and at the end). */
  readonly snapshotEvery: number;
}

interface Queued {
  readonly id: string;
  readonly parsed: EntryId;
  readonly line: Buffer;
}

/** What one strategy's writer did. */
export interface HeatmapWriterStats {
  /** Entries added. */
  added: number;
  /** Lines found already in the stream and equal (a restart, or a second pipeline). */
  verified: number;
  /** Lines at or below the stream's last entry whose entry was trimmed away (not comparable). */
  trimmed: number;
}

export class HeatmapWriter {
  readonly stats: HeatmapWriterStats = { added: 0, verified: 0, trimmed: 0 };
  readonly key: string;
  private readonly snapshotKey: string;
  private readonly fold: VersionFold;
  private version = 0;
  private extra = 0;
  private queue: Queued[] = [];
  /** The stream's last entry when the writer started (undefined: empty). */
  private existingLast: EntryId | undefined;
  /** Stored entries fetched for comparison, by ID (a window just ahead of the lines being checked). */
  private stored = new Map<string, string>();
  private storedUpTo: EntryId | undefined;
  /** The stream's first entry, when a missing entry made us look (entries below it were trimmed). */
  private firstId: EntryId | undefined;
  private snapshotDue = false;
  private lastSnapshotVersion = -1;

  constructor(
    private readonly client: RedisClient,
    private readonly o: HeatmapWriterOptions,
  ) {
    const keys = keysOf(o.target.prefix);
    this.key = keys.heatmap(o.strategy);
    this.snapshotKey = keys.snapshot(o.strategy);
    this.fold = new VersionFold(o.strategy, o.format);
  }

  /** Reads where the stream stands (call once before the first `push`). */
  async init(): Promise<void> {
    const last = (await retrying(() => this.client.xRevRange(this.key, '+', '-', { COUNT: 1 })))?.[0];
    if (last === undefined) return;
    const id = parseEntryId(last.id);
    if (id === undefined) this.differs(`entry ${last.id} was not written by heatmap`);
    this.existingLast = id;
  }

  /** The version of the last line pushed. */
  get lastVersion(): number {
    return this.version;
  }

  /** Queues one output of this strategy (a version, a gap, or this strategy's error), with its line when known. */
  push(out: EngineOutput, line: Buffer = outputBytes(out)): void {
    let id: string;
    if (out.type === 'version') {
      this.version = out.version;
      this.extra = 0;
      id = `${out.version}-0`;
      this.fold.apply(out);
      if (out.version % this.o.snapshotEvery === 0) this.snapshotDue = true;
    } else {
      id = `${this.version}-${++this.extra}`;
    }
    this.queue.push({ id, parsed: parseEntryId(id)!, line });
  }

  /** Sends (or checks) what is queued, in order; then the snapshot key when one is due. */
  async flush(): Promise<void> {
    const queued = this.queue;
    this.queue = [];
    const fresh: Queued[] = [];
    for (const q of queued) {
      if (this.existingLast !== undefined && compareIds(q.parsed, this.existingLast) <= 0) await this.check(q);
      else fresh.push(q);
    }
    if (fresh.length > 0) await this.add(fresh);
    if (this.snapshotDue) await this.writeSnapshot();
  }

  /** Flushes and writes the snapshot of the last version (the end of the input). */
  async finish(): Promise<void> {
    await this.flush();
    await this.writeSnapshot();
  }

  private async add(items: Queued[]): Promise<void> {
    const entries = items.map((q) => ({ id: q.id, fields: { line: q.line } }));
    const r = await addEntries(this.client, this.key, entries, { maxlen: this.o.maxlen, what: this.key, redact: (t) => redactText(this.o.target, t) });
    this.stats.added += r.added;
    if (r.present.length === 0) return;
    // Already there: written by our own transaction before a lost reply, or by another pipeline of
    // this strategy that is ahead. Either way it must be the same line.
    const top = await retrying(() => lastId(this.client, this.key));
    if (top !== undefined) this.existingLast = top;
    const byId = new Map(items.map((q) => [q.id, q]));
    for (const e of r.present) {
      await this.check(byId.get(e.id)!);
    }
  }

  /** Compares a line with the stored entry of its ID. */
  private async check(q: Queued): Promise<void> {
    if (this.storedUpTo === undefined || compareIds(q.parsed, this.storedUpTo) > 0) await this.fetchFrom(q.id);
    const stored = this.stored.get(q.id);
    this.stored.delete(q.id);
    if (stored === undefined) {
      // Not in the stream: trimmed away (older than its first entry), or removed by someone else.
      // (The stream's first ID is asked again only past the one known: trimming only moves it up.)
      if (this.firstId === undefined || compareIds(q.parsed, this.firstId) > 0) {
        const first = (await retrying(() => this.client.xRange(this.key, '-', '+', { COUNT: 1 })))?.[0];
        this.firstId = first === undefined ? undefined : parseEntryId(first.id);
      }
      if (this.firstId !== undefined && compareIds(q.parsed, this.firstId) > 0) this.differs(`entry ${q.id} is missing from it`);
      this.stats.trimmed++;
      return;
    }
    if (stored !== q.line.toString('utf8')) this.differs(`entry ${q.id} is not the line this pipeline computes`);
    this.stats.verified++;
  }

  /** Loads the next stored entries from `id` on (a window of 500). */
  private async fetchFrom(id: string): Promise<void> {
    this.stored.clear();
    const entries = (await retrying(() => this.client.xRange(this.key, id, '+', { COUNT: 500 }))) ?? [];
    for (const e of entries) this.stored.set(e.id, String(e.message['line']));
    const last = entries[entries.length - 1];
    // When the window is short the stream has nothing more: everything up to its last entry is known.
    this.storedUpTo = entries.length === 500 && last !== undefined ? parseEntryId(last.id) : this.existingLast;
  }

  private async writeSnapshot(): Promise<void> {
    this.snapshotDue = false;
    const v = this.fold.version;
    // A restarted pipeline re-living old versions must not move the key back.
    if (v === this.lastSnapshotVersion || (this.existingLast !== undefined && v < this.existingLast.ms)) return;
    this.lastSnapshotVersion = v;
    const body = this.fold.snapshot();
    const text = JSON.stringify(body);
    await retrying(() => this.client.set(this.snapshotKey, text));
  }

  private differs(why: string): never {
    throw new InputError(
      `${this.key} already holds a different history (${why}) — publish into another --redis-prefix, or delete the old keys (redis-cli --scan --pattern '${this.o.target.prefix}:*' | xargs redis-cli del)`,
    );
  }
}
