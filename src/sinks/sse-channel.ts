import type { ServerResponse } from 'node:http';
import { versionLine } from '../engine/publisher.js';
import type { MarkLike } from '../engine/format2.js';
import type { PublishedTile, VersionRecord } from '../engine/types.js';
import { VersionFold } from '../engine/version-fold.js';
import { GZIP_HEADER, GzipTail, gzipPiece, type GzipPiece } from './sse-gzip.js';
import { retryField, sseComment, sseEvent } from './sse-wire.js';

/**
 * One strategy's SSE stream: the state its clients fold (the canonical tiles of the last version),
 * a bounded history of recent diffs for `Last-Event-ID`, and its clients.
 *
 * The publisher never waits here. `publish` folds the version into the channel's own tile map and
 * appends the diff to an outbox — O(upserts), independent of the number of clients. The outbox is
 * fanned out on the next turn of the event loop as ONE buffer written to every client, so a burst
 * of versions costs one write per client, not one per version per client. Writes never block:
 * Node buffers what a client's socket cannot take, and a client still holding more than the bound
 * when new data comes is resynced (diffs stop; once its socket drains it gets a fresh snapshot) or
 * dropped, and counted. A stuck client therefore holds at most the bound plus one batch, shared
 * with the other clients (the batch buffer is written by reference), and never delays anyone.
 *
 * Clients that accept gzip get each batch compressed once for all of them (sse-gzip.ts: a piece per
 * batch, the same bytes for every client); the bound counts the bytes on the wire.
 */

/** What happens to a client whose unsent bytes pass the bound. */
export type SlowClientPolicy = 'resync' | 'drop';

/** Per-client and history bounds of a channel (see SseServerOptions for the defaults). */
export interface ChannelLimits {
  /** Unsent bytes per client (Node's buffer + the socket's) above which the client is slow. */
  readonly maxBufferBytes: number;
  readonly slowClient: SlowClientPolicy;
  /** Diffs retained for `Last-Event-ID` resumption: at most this many… */
  readonly historyVersions: number;
  /** …and at most this many bytes (the newest diff is always kept). */
  readonly historyBytes: number;
  /** Format of the snapshots (diffs are the published lines, whatever their format). */
  readonly format: 1 | 2;
}

/** Counters of one channel (all since the server started). */
export interface ChannelStats {
  /** Clients connected now. */
  clients: number;
  /** Of those, clients receiving the stream gzip-compressed. */
  gzip_clients: number;
  connects: number;
  /** Connections that started with (or were resynced by) a snapshot. */
  snapshots: number;
  /** Connections resumed from the history with diffs only. */
  resumes: number;
  /** Slow clients resynced with a snapshot (policy `resync`). */
  resyncs: number;
  /** Slow clients disconnected (policy `drop`). */
  drops: number;
}

class Client {
  /** Over the bound: receives nothing until its socket drains, then a snapshot. */
  isStale = false;
  /** Bytes of the initial snapshot/resume still in flight: not held against the bound. */
  grace = 0;
  constructor(
    readonly res: ServerResponse,
    /** The gzip stream's running CRC and length; undefined for an uncompressed stream. */
    readonly gzip: GzipTail | undefined,
  ) {}
}

/** A batch as sent: its bytes, and its gzip piece once a gzip client needed it (built once). */
class Batch {
  private piece: GzipPiece | undefined;
  constructor(readonly bytes: Buffer) {}
  static of(text: string): Batch {
    return new Batch(Buffer.from(text, 'utf8'));
  }
  get gzip(): GzipPiece {
    return (this.piece ??= gzipPiece(this.bytes));
  }
}

/** The first and the resync batches every client gets the same: built (and compressed) once. */
const RETRY = Batch.of(retryField());
const RESYNC = Batch.of(sseComment('resync: this client fell behind'));

interface HistoryEntry {
  readonly version: number;
  readonly frame: string;
}

/** The SSE stream of one strategy (see the module comment). */
export class StrategyChannel {
  /** The state clients fold: canonical tiles and, for format 2, the stream's mark register. */
  private readonly fold: VersionFold;
  private readonly history: HistoryEntry[] = [];
  private historyChars = 0;
  private outbox: string[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private snapshotCache: { version: number; batch: Batch } | undefined;
  private readonly clients = new Set<Client>();
  private isEnded = false;
  readonly stats: ChannelStats = { clients: 0, gzip_clients: 0, connects: 0, snapshots: 0, resumes: 0, resyncs: 0, drops: 0 };

  constructor(
    readonly strategy: string,
    private readonly limits: ChannelLimits,
  ) {
    this.fold = new VersionFold(strategy, limits.format);
  }

  get version(): number {
    return this.fold.version;
  }
  get at_us(): number | null {
    return this.fold.at_us;
  }
  get hash(): string {
    return this.fold.hash;
  }
  private get versionNo(): number {
    return this.fold.version;
  }

  /**
   * Starts the channel from a known state instead of version 0 (`heatmap sse` from Redis: the
   * snapshot key), with the diffs before it for `Last-Event-ID` (version lines, oldest first).
   * Only before the first client and the first `publish`.
   */
  seed(head: { version: number; at_us: number | null; hash: string }, tiles: readonly PublishedTile[], marks: Iterable<readonly [string, MarkLike]>, history: readonly { version: number; line: string }[]): void {
    this.fold.seed(head, tiles, marks);
    this.history.length = 0;
    this.historyChars = 0;
    for (const h of history) this.remember(h.version, sseEvent('diff', h.line, h.version));
  }

  /** Folds one published version and queues its diff for every client (never blocks). */
  publish(rec: VersionRecord): void {
    this.fold.apply(rec);
    const frame = sseEvent('diff', versionLine(rec), rec.version);
    this.remember(rec.version, frame);
    this.enqueue(frame);
  }

  /** Appends a diff to the history, dropping the oldest beyond the bounds (the newest is always kept). */
  private remember(version: number, frame: string): void {
    this.history.push({ version, frame });
    this.historyChars += frame.length;
    while (
      this.history.length > 1 &&
      (this.history.length > this.limits.historyVersions || this.historyChars > this.limits.historyBytes)
    ) {
      this.historyChars -= this.history.shift()!.frame.length;
    }
  }

  /** Queues an event that is not part of the state (gap, failure): no id, not in the history. */
  notice(event: string, data: string): void {
    this.enqueue(sseEvent(event, data));
  }

  private enqueue(frame: string): void {
    if (this.isEnded) return;
    this.outbox.push(frame);
    this.flushTimer ??= setImmediate(() => this.flush());
  }

  /** Writes the queued events to every client now (also runs on its own on the next turn). */
  flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    if (this.outbox.length === 0) return;
    if (this.clients.size === 0) {
      this.outbox = []; // nobody to send to: no encoding work at all
      return;
    }
    const batch = Batch.of(this.outbox.length === 1 ? this.outbox[0]! : this.outbox.join(''));
    this.outbox = [];
    for (const c of this.clients) this.send(c, batch);
  }

  /**
   * Attaches a client. `lastEventId` (the version it holds) resumes it with the missing diffs when
   * the history still has all of them (nothing at all when it is current); otherwise — no id, an
   * id from the future (another run), or one older than the history — it starts with a snapshot.
   * `gzip`: the response was started with `Content-Encoding: gzip` (the server negotiated it).
   */
  attach(res: ServerResponse, lastEventId: number | undefined, gzip = false): void {
    // Queued diffs belong to the clients already here; the newcomer starts after them.
    this.flush();
    const c = new Client(res, gzip ? new GzipTail() : undefined);
    const resume = lastEventId === undefined ? undefined : this.resumeFrames(lastEventId);
    this.stats.connects++;
    if (resume !== undefined) this.stats.resumes++;
    else this.stats.snapshots++;
    this.clients.add(c);
    this.stats.clients = this.clients.size;
    if (gzip) this.stats.gzip_clients++;
    res.on('close', () => this.detach(c));
    if (gzip) res.write(GZIP_HEADER);
    this.sendInitial(c, [RETRY, resume !== undefined ? Batch.of(resume) : this.snapshotBatch()]);
  }

  /** Diffs after `version` from the history ('' when current); undefined when they are not all there. */
  private resumeFrames(version: number): string | undefined {
    if (version > this.versionNo) return undefined;
    if (version === this.versionNo) return sseComment(`resumed at version ${version}`);
    const oldest = this.history[0];
    if (oldest === undefined || oldest.version > version + 1) return undefined;
    const from = version + 1 - oldest.version;
    return this.history.slice(from).map((h) => h.frame).join('');
  }

  /** The snapshot event of the current version (built — and compressed — once per version, shared by every client). */
  private snapshotBatch(): Batch {
    if (this.snapshotCache?.version !== this.versionNo) {
      const data = JSON.stringify(this.fold.snapshot());
      this.snapshotCache = { version: this.versionNo, batch: Batch.of(sseEvent('snapshot', data, this.versionNo)) };
    }
    return this.snapshotCache.batch;
  }

  /** A comment to every live client (heartbeats). */
  comment(text: string): void {
    if (this.isEnded) return;
    this.flush();
    const batch = Batch.of(sseComment(text));
    for (const c of this.clients) this.send(c, batch);
  }

  /** Writes a batch as this client's stream takes it (compressed or not); false when the socket is full. */
  private write(c: Client, batch: Batch): boolean {
    return c.res.write(this.wireBytes(c, batch));
  }

  /** The bytes of a batch for this client's stream: its gzip piece (counted in the trailer) or the batch. */
  private wireBytes(c: Client, batch: Batch): Buffer {
    if (c.gzip === undefined) return batch.bytes;
    const piece = batch.gzip;
    c.gzip.add(piece);
    return piece.bytes;
  }

  /** The first batches of a (re)started client: not held against the bound until they are sent. */
  private sendInitial(c: Client, batches: readonly Batch[]): void {
    let ok = true;
    let bytes = 0;
    for (const b of batches) {
      const wire = this.wireBytes(c, b);
      ok = c.res.write(wire);
      bytes += wire.length;
    }
    if (ok) {
      c.grace = 0;
    } else {
      c.grace = bytes;
      c.res.once('drain', () => (c.grace = 0));
    }
  }

  /**
   * Writes unless the client is already behind by more than the bound. Checking before the write
   * (not after) means one large burst never counts against a client that keeps up: it is slow
   * only when the previous writes are still unsent when the next ones come.
   */
  private send(c: Client, batch: Batch): void {
    if (c.isStale || c.res.destroyed) return;
    if (c.res.writableLength > this.limits.maxBufferBytes + c.grace) return this.onSlow(c);
    this.write(c, batch);
  }

  private onSlow(c: Client): void {
    if (this.limits.slowClient === 'drop') {
      this.stats.drops++;
      this.detach(c);
      c.res.destroy();
      return;
    }
    this.stats.resyncs++;
    c.isStale = true;
    c.res.once('drain', () => {
      if (!this.clients.has(c) || this.isEnded) return;
      this.flush(); // the others get what is queued; this client jumps straight to the state after it
      c.isStale = false;
      this.stats.snapshots++;
      this.sendInitial(c, [RESYNC, this.snapshotBatch()]);
    });
  }

  private detach(c: Client): void {
    if (!this.clients.delete(c)) return;
    this.stats.clients = this.clients.size;
    if (c.gzip !== undefined) this.stats.gzip_clients--;
  }

  /**
   * Ends the stream for every client: queued diffs, then a final `end` event (which tells a
   * browser dashboard not to reconnect), then the end of the response (for gzip, the stream's
   * trailer: a stale client's stream ends after the last batch it was sent, still whole). Clients
   * whose sockets do not take it are cut by the server after its grace period.
   */
  end(reason: string): void {
    if (this.isEnded) return;
    this.flush();
    this.isEnded = true;
    const data = JSON.stringify({ reason, strategy: this.strategy, version: this.versionNo });
    const frame = Batch.of(sseEvent('end', data));
    for (const c of this.clients) {
      if (!c.res.destroyed) {
        if (!c.isStale) this.write(c, frame);
        if (c.gzip !== undefined) c.res.write(c.gzip.trailer());
      }
      c.res.end();
    }
    this.clients.clear();
    this.stats.clients = 0;
    this.stats.gzip_clients = 0;
  }
}
