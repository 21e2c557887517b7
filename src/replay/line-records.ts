import type { Format2Version, Mark2, Slot2, TileRow2 } from '../engine/format2.js';
import { withVersionLine } from '../engine/publisher.js';
import type { EngineOutput, PublishedLeg, PublishedTile, VersionRecord } from '../engine/types.js';

/**
 * One strategy's output records, rebuilt on the main thread from the lines its worker pipeline
 * sends. Cloning the records themselves across threads costs about ten times more (every upserted
 * tile is an object graph): a format 2 line is parsed, and its tiles are rebuilt from the slots and
 * the mark register it has published so far — the fold of DESIGN §3.1, without the hash checks
 * (the lines come straight from our own publisher). A format 1 line is its record as JSON.
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
    const upserts = v.tiles.map((row) => this.tileOf(v.strategy, row));
    return { type: 'version', format: 2, strategy: v.strategy, version: v.version, at_us: v.at_us, reasons: v.reasons, prev_hash: v.prev_hash, hash: v.hash, upserts, removes: v.removes, stats: v.stats };
  }

  /** A tile row → the tile: legs priced by the register, `ts_us`/`source` of the newest leg. */
  private tileOf(strategy: string, row: TileRow2): PublishedTile {
    const [key, value, score, confidence] = row;
    const slot = this.slots.get(key)!;
    const legs: PublishedLeg[] = [];
    let newest = 0;
    for (let i = 0; i < slot.legs.length; i++) {
      const l = slot.legs[i]!;
      const m = this.register.get(l.ticker)!;
      legs.push({ ticker: l.ticker, ratio: l.ratio, price: m[1], ts_us: m[2], source: m[3] });
      if (m[2] > legs[newest]!.ts_us) newest = i;
    }
    // the row's 5th element names the newest leg when the default (the first with the latest ts_us) is not it
    const pick = row.length >= 5 ? row[4] : null;
    const n = legs[pick ?? newest]!;
    return { key, root: slot.root, expiration: slot.expiration, strategy, right: slot.right, strikes: slot.strikes, legs, value, score, ts_us: n.ts_us, confidence, source: n.source };
  }
}
