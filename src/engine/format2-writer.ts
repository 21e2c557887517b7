import { grown } from './columns.js';
import { byCodeUnits, snapshotBody2, type Format2Snapshot } from './format2.js';
import { chainHash } from './hash.js';
import { ByteWriter, NUMBER_MAX, putInteger, putNumberAt } from './json-bytes.js';
import { sourceName, type LegMarks } from './marks.js';
import type { SlotTable } from './slot-table.js';
import { ROW_HEAD, ROW_LEG, type UpsertRows } from './tile-columns.js';
import type { PublishReason, PublishedTile } from './types.js';

/**
 * Writes one strategy's format 2 version lines (DESIGN §3.1; the exact bytes are in
 * ARCHITECTURE.md, "Format 2") from a version's upsert rows, straight into bytes. Per slot it
 * caches the slot's JSON and the row's head (`["<key>",`), per ticker its JSON string; the stream's
 * mark register (the last mark published per ticker) is kept in columns by ticker id. A version
 * costs its rows' numbers, its changed marks and its new slots.
 */

export interface Format2VersionParts {
  readonly version: number;
  readonly at_us: number;
  readonly reasons: readonly PublishReason[];
  readonly prev_hash: string;
  /** Sorted by key. */
  readonly rows: UpsertRows;
  readonly stats: { readonly slots: number; readonly populated: number; readonly changed: number };
}

/** Equal as JSON text (NaN and NaN both print `null`; 0 and -0 both print `0`). */
const sameNumber = (a: number, b: number): boolean => a === b || (a !== a && b !== b);

const OPEN_SLOTS = Buffer.from('"slots":[');
const OPEN_MARKS = Buffer.from('],"marks":[');
const OPEN_TILES = Buffer.from('],"tiles":[');
const CLOSE = Buffer.from('],"removes":[]');
const HASH_HEX = 64;
const HASH_CLOSE = Buffer.from('",');

export class Format2Writer {
  private readonly strategyJson: string;
  /** The version lines, one after another (`keep`): a line is never written again once returned. */
  private readonly out = new ByteWriter(1 << 20);
  /** Per slot: `["<key>",`, set when the slot's identity has gone out. */
  private readonly rowHeads: (Buffer | undefined)[] = [];
  /** The longest row head so far: pass 1 makes room for every row from it, without reading the heads. */
  private rowHeadMax = 0;
  // The register, by ticker id.
  private regHas = new Uint8Array(0);
  private regPrice = new Float64Array(0);
  private regTsUs = new Float64Array(0);
  private regSource = new Uint8Array(0);
  /** The version whose upserts last used the ticker (the same-mark check within one version). */
  private regSeenIn = new Float64Array(0);
  private readonly tickerJson: (Buffer | undefined)[] = [];
  private readonly sourceJson: Buffer[] = [];
  /** Tickers this stream has published, and their rank in ticker order (UTF-16 code units): `marks` is sorted by it. */
  private readonly known: number[] = [];
  private tickerRank = new Int32Array(0);
  /** The ticker ids in rank order. */
  private rankedIds: number[] = [];
  private rankedTickers = 0;

  constructor(
    readonly strategy: string,
    private readonly table: SlotTable,
    private readonly marks: LegMarks,
  ) {
    this.strategyJson = JSON.stringify(strategy);
  }

  /** The line (UTF-8, no newline) and hash of the next version. */
  write(p: Format2VersionParts): { readonly hash: string; readonly line: Buffer } {
    const t = this.table;
    const o = this.out;
    const d = p.rows.data;
    this.growRegister();
    // packed arrays, grown by push: assigning far past the end would turn them into dictionaries
    while (this.rowHeads.length < t.size) this.rowHeads.push(undefined);
    o.reset();
    // The line is written in place, in order: the lead with room for the hash, the canonical
    // body's rest, the stats; the hash is filled in once the body is written (it is 64 hex digits).
    const head = `"format":2,"strategy":${this.strategyJson},"version":${p.version},"at_us":${num(p.at_us)},"reasons":${JSON.stringify(p.reasons)}`;
    o.text(`{"type":"version",${head},"prev_hash":${JSON.stringify(p.prev_hash)},"hash":"`);
    const hashAt = o.length;
    o.skip(HASH_HEX);
    o.bytes(HASH_CLOSE);
    const bodyAt = o.length;
    o.bytes(OPEN_SLOTS);
    // Pass 1: identities of first-time slots and the register.
    const changed: number[] = [];
    let wroteSlot = false;
    const legStart = t.legStart;
    const legTicker = t.legTicker;
    const rowHeads = this.rowHeads;
    const version = p.version;
    let off = 0;
    for (let i = 0; i < p.rows.count; i++) {
      const s = d[off]!;
      if (rowHeads[s] === undefined) {
        if (wroteSlot) o.byte(0x2c);
        wroteSlot = true;
        o.text(this.slotJson(s));
        const rowHead = (rowHeads[s] = Buffer.from(`[${JSON.stringify(t.defs[s]!.key)},`));
        if (rowHead.length > this.rowHeadMax) this.rowHeadMax = rowHead.length;
      }
      off += ROW_HEAD;
      for (let l = legStart[s]!, end = legStart[s + 1]!; l < end; l++, off += ROW_LEG) {
        const id = legTicker[l]!;
        // A ticker's first leg in the version decides: `StagedTiles.take` copies every row's legs
        // from the same marks columns in one pass, so a version's rows agree on every ticker's mark.
        if (this.regSeenIn[id] === version) continue;
        this.regSeenIn[id] = version;
        if (!this.isRegistered(id, d[off]!, d[off + 1]!, d[off + 2]!)) this.register(id, d[off]!, d[off + 1]!, d[off + 2]!, changed);
      }
    }
    o.bytes(OPEN_MARKS);
    if (changed.length > 0) {
      if (this.rankedTickers !== this.known.length) this.rankTickers();
      // in ticker order: by rank, sorted as numbers (no comparator call per pair)
      const ranks = new Int32Array(changed.length);
      for (let i = 0; i < changed.length; i++) ranks[i] = this.tickerRank[changed[i]!]!;
      ranks.sort();
      for (let i = 0; i < ranks.length; i++) {
        const id = this.rankedIds[ranks[i]!]!;
        if (i > 0) o.byte(0x2c);
        o.byte(0x5b); // [
        o.bytes(this.tickerJson[id]!);
        o.byte(0x2c);
        o.number(this.regPrice[id]!);
        o.byte(0x2c);
        o.number(this.regTsUs[id]!);
        o.byte(0x2c);
        o.bytes(this.sourceOf(this.regSource[id]!));
        o.byte(0x5d); // ]
      }
    }
    o.bytes(OPEN_TILES);
    // Pass 2: the rows, straight into the buffer (room for all of them made once).
    const buf = o.open(p.rows.count * (this.rowHeadMax + ROW_TEXT_MAX));
    const pos = this.writeRows(buf, o.cursor, p.rows.count, d);
    o.cursor = pos;
    o.bytes(CLOSE);
    // Canonical body: everything but type, prev_hash, hash and stats, as written (ARCHITECTURE.md).
    const hash = chainHash(p.prev_hash, `{${head},`, o.view().subarray(bodyAt), '}');
    o.asciiAt(hashAt, hash);
    const s = p.stats;
    o.ascii(`,"stats":{"slots":${num(s.slots)},"populated":${num(s.populated)},"changed":${num(s.changed)}}}`);
    return { hash, line: o.keep() };
  }

  /** The snapshot of the published state: `tiles` are the canonical tiles sorted by key. */
  snapshot(head: { readonly version: number; readonly at_us: number | null; readonly hash: string }, tiles: readonly PublishedTile[]): Format2Snapshot {
    return snapshotBody2(this.strategy, head, tiles, (ticker) => {
      const id = this.marks.findId(ticker);
      if (id === undefined || id >= this.regHas.length || this.regHas[id] !== 1) return undefined;
      return { price: this.regPrice[id]!, ts_us: this.regTsUs[id]!, source: sourceName(this.regSource[id]!) };
    });
  }

  /** True when the register holds this mark for the ticker. */
  private isRegistered(id: number, price: number, tsUs: number, source: number): boolean {
    return this.regHas[id] === 1 && sameNumber(this.regPrice[id]!, price) && sameNumber(this.regTsUs[id]!, tsUs) && this.regSource[id] === source;
  }

  /** A ticker's mark differs from the last one published: it joins `changed` (this version's `marks`). */
  private register(id: number, price: number, tsUs: number, source: number, changed: number[]): void {
    if (this.tickerJson[id] === undefined) {
      this.tickerJson[id] = Buffer.from(JSON.stringify(this.marks.tickerOf(id)));
      this.known.push(id);
    }
    this.regHas[id] = 1;
    this.regPrice[id] = price;
    this.regTsUs[id] = tsUs;
    this.regSource[id] = source;
    changed.push(id);
  }

  /** Writes the version's rows at `pos` of `buf` (which has room for them); returns the position after them. */
  private writeRows(buf: Buffer, pos: number, count: number, d: Float64Array): number {
    const rowHeads = this.rowHeads;
    const legStart = this.table.legStart;
    let off = 0;
    for (let i = 0; i < count; i++) {
      const s = d[off]!;
      if (i > 0) buf[pos++] = 0x2c; // ,
      const rowHead = rowHeads[s]!;
      buf.set(rowHead, pos);
      pos += rowHead.length;
      // value, score (a null score is NaN, written `null`), confidence, each followed by a comma
      for (let k = 1; k <= 3; k++) {
        pos = putNumberAt(buf, pos, d, off + k);
        buf[pos++] = 0x2c;
      }
      const legs = legStart[s + 1]! - legStart[s]!;
      const newest = newestLegIndex(d, off, legs);
      if (newest === NO_LEG) this.badRow(s, d, off, legs);
      if (newest >= 0) pos = putInteger(buf, pos, newest);
      else pos--; // no leg index: the last comma goes
      buf[pos++] = 0x5d; // ]
      off += ROW_HEAD + ROW_LEG * legs;
    }
    return pos;
  }

  /** Throws for a row `newestLegIndex` found no leg for: an engine bug, said with the tile's key. */
  private badRow(s: number, d: Float64Array, off: number, legs: number): never {
    const key = this.table.defs[s]!.key;
    if (legs === 0) throw new Error(`format 2: tile ${key} has no legs`);
    const tsUs = d[off + 4]!;
    const newestUs = d[off + ROW_HEAD + firstNewestLeg(d, off, legs) * ROW_LEG + 1]!;
    if (!sameNumber(newestUs, tsUs)) throw new Error(`format 2: tile ${key} has ts_us ${tsUs}, its newest leg ${newestUs}`);
    throw new Error(`format 2: tile ${key} has source ${sourceName(d[off + 5]!)}, no leg at its ts_us has it`);
  }

  /** A slot's identity (DESIGN §3.1 `slots`); the stream's strategy is the tile's. */
  private slotJson(s: number): string {
    const def = this.table.defs[s]!;
    if (def.strategy !== this.strategy) throw new Error(`format 2: tile ${def.key} of strategy "${def.strategy}" in the stream of "${this.strategy}"`);
    const legs = def.legs.map((l) => ({ ticker: l.contract.ticker, ratio: l.ratio }));
    return JSON.stringify({ key: def.key, root: def.root, expiration: def.expiration, right: def.right, strikes: def.strikes, legs });
  }

  private rankTickers(): void {
    const ids = [...this.known].sort((a, b) => byCodeUnits(this.marks.tickerOf(a), this.marks.tickerOf(b)));
    this.tickerRank = grown(this.tickerRank, this.marks.count);
    ids.forEach((id, r) => (this.tickerRank[id] = r));
    this.rankedIds = ids;
    this.rankedTickers = ids.length;
  }

  private sourceOf(code: number): Buffer {
    return (this.sourceJson[code] ??= Buffer.from(JSON.stringify(sourceName(code))));
  }

  private growRegister(): void {
    const n = this.marks.count;
    if (n <= this.regHas.length) return;
    this.regHas = grown(this.regHas, n);
    this.regPrice = grown(this.regPrice, n);
    this.regTsUs = grown(this.regTsUs, n);
    this.regSource = grown(this.regSource, n);
    this.regSeenIn = grown(this.regSeenIn, n);
    while (this.tickerJson.length < this.regHas.length) this.tickerJson.push(undefined);
  }
}

/** Room a format 2 row needs besides its head: three numbers, the leg index, punctuation. */
const ROW_TEXT_MAX = 4 * NUMBER_MAX + 8;
/** `newestLegIndex` found no leg with the row's ts_us and source (an engine bug). */
const NO_LEG = -2;

/**
 * The index of the leg whose ts_us/source a fold must take, when it is not the fold's default (the
 * first leg with the greatest ts_us); −1 when the default gives the tile's own. Legs with equal
 * ts_us are ordered by seq in staging, which a tile does not carry: when the default leg has
 * another source, the tile's newest leg is the first leg with the tile's (ts_us, source).
 * `NO_LEG` when there is no such leg (`Format2Writer.badRow` says why).
 */
function newestLegIndex(d: Float64Array, off: number, legs: number): number {
  if (legs === 0) return NO_LEG;
  const tsUs = d[off + 4]!;
  const source = d[off + 5]!;
  const leg = off + ROW_HEAD;
  const first = firstNewestLeg(d, off, legs);
  if (!sameNumber(d[leg + first * ROW_LEG + 1]!, tsUs)) return NO_LEG;
  if (d[leg + first * ROW_LEG + 2] === source) return -1;
  for (let i = first + 1; i < legs; i++) if (d[leg + i * ROW_LEG + 1] === tsUs && d[leg + i * ROW_LEG + 2] === source) return i;
  return NO_LEG;
}

/** The first of the row's legs (≥ 1) with the greatest ts_us: the fold's default newest leg. */
function firstNewestLeg(d: Float64Array, off: number, legs: number): number {
  const leg = off + ROW_HEAD;
  let first = 0;
  for (let i = 1; i < legs; i++) if (d[leg + i * ROW_LEG + 1]! > d[leg + first * ROW_LEG + 1]!) first = i;
  return first;
}

/** `JSON.stringify`'s number text: `String(n)` for finite numbers, `null` otherwise. */
const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');
