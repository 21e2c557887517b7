import type { Format2Version, Mark2, Slot2 } from '../engine/format2.js';
import { RowTile, withRowTiles } from '../engine/row-tile.js';
import { withVersionLine } from '../engine/publisher.js';
import type { EngineOutput, PublishedTile, VersionRecord } from '../engine/types.js';

/**
 * One strategy's output records, rebuilt on the main thread from the lines its worker pipeline
 * sends. Cloning the records themselves across threads costs about ten times more (every upserted
 * tile is an object graph): a format 2 line is parsed, and its tiles are rebuilt from the slots and
 * the mark register it has published so far — the fold of DESIGN §3.1, without the hash checks
 * (the lines come straight from our own publisher). The tiles are made when a consumer reads
 * `upserts`; until then each row holds its legs' marks (`RowTile`), which is all an SSE channel's
 * state needs. A format 1 line is its record as JSON.
 */
export class LineRecords {
  private readonly slots = new Map<string, Slot2>();
  private readonly register = new Map<string, Mark2>();

  constructor(private readonly format: 1 | 2) {}

  /** The record of a version or error line (UTF-8, no newline); version records keep the line as theirs. */
  record(line: Buffer): EngineOutput {
    const o = JSON.parse(line.toString('utf8')) as EngineOutput;
    if (o.type !== 'version') return o;
    return withVersionLine(this.format === 1 ? o : this.rebuild(o as unknown as Format2Version), line);
  }

  private rebuild(v: Format2Version): VersionRecord {
    for (const slot of v.slots) this.slots.set(slot.key, slot);
    for (const m of v.marks) this.register.set(m[0], m);
    // Each row keeps its legs' marks of this version; the tiles are made when `upserts` is read.
    const rows = v.tiles.map((row) => {
      const slot = this.slots.get(row[0])!;
      return new RowTile(v.strategy, slot, row, slot.legs.map((l) => this.register.get(l.ticker)!));
    });
    let upserts: PublishedTile[] | undefined;
    const rec: VersionRecord = {
      type: 'version',
      format: 2,
      strategy: v.strategy,
      version: v.version,
      at_us: v.at_us,
      reasons: v.reasons,
      prev_hash: v.prev_hash,
      hash: v.hash,
      get upserts() {
        return (upserts ??= rows.map((r) => r.toTile()));
      },
      removes: v.removes,
      stats: v.stats,
    };
    return withRowTiles(rec, rows);
  }
}
