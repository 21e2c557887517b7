import { byCodeUnits, snapshotBody2, type Mark2, type MarkLike } from './format2.js';
import { RowTile, rowTilesOf } from './row-tile.js';
import type { PublishedTile, SnapshotBody, VersionRecord } from './types.js';

/**
 * One strategy's published state, folded from its version records: the canonical tiles (upserts
 * replace by key, removes delete) and, for format 2, the stream's mark register — the mark of each
 * ticker in the last upserted tile that used it (every upsert carries its legs' current marks, so
 * the records are enough). This is what a keyframe, an SSE snapshot and a Redis snapshot key are
 * built from; the one place that knows how a stream's state follows from its versions.
 */
export class VersionFold {
  private readonly tiles = new Map<string, PublishedTile | RowTile>();
  /** The register: a leg of an upserted tile, or a row's mark (`Mark2`), by ticker. */
  private readonly marks = new Map<string, MarkLike | Mark2>();
  private versionNo = 0;
  private atUs: number | null = null;
  private hashValue = '';

  constructor(
    readonly strategy: string,
    /** Format of the stream (decides the snapshot's shape and whether the register is kept). */
    readonly format: 1 | 2,
  ) {}

  get version(): number {
    return this.versionNo;
  }
  get at_us(): number | null {
    return this.atUs;
  }
  get hash(): string {
    return this.hashValue;
  }

  /** Folds the next version of the strategy. */
  apply(rec: VersionRecord): void {
    for (const key of rec.removes) this.tiles.delete(key);
    const rows = this.format === 2 ? rowTilesOf(rec) : undefined;
    if (rows !== undefined) {
      for (const r of rows) {
        this.tiles.set(r.key, r);
        const legs = r.slot.legs;
        for (let i = 0; i < legs.length; i++) this.marks.set(legs[i]!.ticker, r.legMarks[i]!);
      }
    } else {
      for (const t of rec.upserts) {
        this.tiles.set(t.key, t);
        if (this.format === 2) for (const l of t.legs) this.marks.set(l.ticker, l);
      }
    }
    this.versionNo = rec.version;
    this.atUs = rec.at_us;
    this.hashValue = rec.hash;
  }

  /**
   * Starts from a known state instead of version 0 (e.g. a Redis snapshot key): the tiles of
   * `version` and, for format 2, the register (`marks`; for format 1 it is ignored).
   */
  seed(head: { version: number; at_us: number | null; hash: string }, tiles: readonly PublishedTile[], marks: Iterable<readonly [string, MarkLike]> = []): void {
    this.tiles.clear();
    this.marks.clear();
    for (const t of tiles) this.tiles.set(t.key, t);
    if (this.format === 2) for (const [ticker, m] of marks) this.marks.set(ticker, m);
    this.versionNo = head.version;
    this.atUs = head.at_us;
    this.hashValue = head.hash;
  }

  /** The canonical tiles, sorted by key. */
  sortedTiles(): PublishedTile[] {
    return [...this.tiles.keys()].sort(byCodeUnits).map((k) => {
      const t = this.tiles.get(k)!;
      return t instanceof RowTile ? t.toTile() : t;
    });
  }

  /** The register entry of a ticker (format 2). */
  markOf(ticker: string): MarkLike | undefined {
    const m = this.marks.get(ticker);
    return isMark2(m) ? { price: m[1], ts_us: m[2], source: m[3] } : m;
  }

  /** The snapshot body of the current version in the stream's format (no `type`; key order is the wire order). */
  snapshot(): SnapshotBody {
    const tiles = this.sortedTiles();
    const head = { version: this.versionNo, at_us: this.atUs, hash: this.hashValue };
    if (this.format === 2) return snapshotBody2(this.strategy, head, tiles, (t) => this.markOf(t));
    return { strategy: this.strategy, ...head, tiles };
  }
}

const isMark2 = (m: MarkLike | Mark2 | undefined): m is Mark2 => Array.isArray(m);
