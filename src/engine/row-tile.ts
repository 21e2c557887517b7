import type { Mark2, Slot2, TileRow2 } from './format2.js';
import type { PublishedLeg, PublishedTile, VersionRecord } from './types.js';

/**
 * A tile of a format 2 version line as the line gives it: its slot, its row, and the marks its legs
 * had at that version (the stream's register then). The tile object is made only when asked — a
 * stream's state (`VersionFold`) keeps rows, and most of them are replaced before anyone reads
 * them: an SSE channel fed at `--speed max` reads its tiles only for a snapshot.
 */
export class RowTile {
  private tile: PublishedTile | undefined;

  constructor(
    readonly strategy: string,
    readonly slot: Slot2,
    readonly row: TileRow2,
    /** By leg, as `slot.legs`. */
    readonly legMarks: readonly Mark2[],
  ) {}

  get key(): string {
    return this.row[0];
  }

  /** The tile: legs priced by their marks, `ts_us`/`source` of the newest leg (DESIGN §3.1). */
  toTile(): PublishedTile {
    if (this.tile !== undefined) return this.tile;
    const [key, value, score, confidence] = this.row;
    const slot = this.slot;
    const legs: PublishedLeg[] = [];
    let newest = 0;
    for (let i = 0; i < slot.legs.length; i++) {
      const l = slot.legs[i]!;
      const m = this.legMarks[i]!;
      legs.push({ ticker: l.ticker, ratio: l.ratio, price: m[1], ts_us: m[2], source: m[3] });
      if (m[2] > legs[newest]!.ts_us) newest = i;
    }
    // the row's 5th element names the newest leg when the default (the first with the latest ts_us) is not it
    const pick = this.row.length >= 5 ? this.row[4] : null;
    const n = legs[pick ?? newest]!;
    this.tile = { key, root: slot.root, expiration: slot.expiration, strategy: this.strategy, right: slot.right, strikes: slot.strikes, legs, value, score, ts_us: n.ts_us, confidence, source: n.source };
    return this.tile;
  }
}

const ROW_TILES = new WeakMap<VersionRecord, readonly RowTile[]>();

/** Gives a record rebuilt from a format 2 line its rows (its `upserts`, unmade); returns it. */
export function withRowTiles<T extends VersionRecord>(rec: T, rows: readonly RowTile[]): T {
  ROW_TILES.set(rec, rows);
  return rec;
}

/** The rows of a record rebuilt from a format 2 line (undefined for any other record). */
export function rowTilesOf(rec: VersionRecord): readonly RowTile[] | undefined {
  return ROW_TILES.get(rec);
}
