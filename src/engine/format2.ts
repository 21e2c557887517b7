import { chainHash } from './hash.js';
import type { LegSource, PublishReason, PublishedLeg, PublishedTile, Right } from './types.js';

/**
 * Format 2 of the published-version stream (DESIGN §3.1; the exact bytes are in ARCHITECTURE.md,
 * "Format 2"): each fact said once. A tile's identity goes out once per run (`slots`), a leg's mark
 * once per change (`marks`), and an upserted tile is a short row `[key, value, score, confidence]`.
 *
 * This module holds both ends: `Format2Writer`, the publisher's serializer, and `Format2Folder`,
 * which folds format 2 lines back into the format 1 lines byte for byte (hash chain included).
 * The format 2 chain is its own: `hash` = sha256(prev_hash + the line's canonical body).
 */

/** A leg's mark as published: `[ticker, price, ts_us, source]`. */
export type Mark2 = readonly [ticker: string, price: number, ts_us: number, source: LegSource];

/** A tile's identity, published once per run (the stream's strategy is the tile's). */
export interface Slot2 {
  readonly key: string;
  readonly root: string;
  readonly expiration: string;
  readonly right: Right;
  readonly strikes: readonly number[];
  readonly legs: readonly { readonly ticker: string; readonly ratio: number }[];
}

/** An older mark that a snapshot's tile still carries for one leg: `[price, ts_us, source]`. */
export type LegOverride2 = readonly [price: number, ts_us: number, source: LegSource];

/**
 * A tile row: `[key, value, score, confidence]`; a 5th element, the index of the newest leg, only
 * when the fold's default (the first leg with the greatest ts_us) would give another source; in
 * snapshots a 6th, per leg `null` (= the register's mark) or the older mark the tile carries.
 */
export type TileRow2 =
  | readonly [key: string, value: number, score: number | null, confidence: number]
  | readonly [key: string, value: number, score: number | null, confidence: number, newest: number]
  | readonly [key: string, value: number, score: number | null, confidence: number, newest: number | null, legs: readonly (LegOverride2 | null)[]];

/** A format 2 version line, parsed. */
export interface Format2Version {
  readonly type: 'version';
  readonly format: 2;
  readonly strategy: string;
  readonly version: number;
  readonly at_us: number;
  readonly reasons: readonly PublishReason[];
  readonly prev_hash: string;
  readonly hash: string;
  readonly slots: readonly Slot2[];
  readonly marks: readonly Mark2[];
  readonly tiles: readonly TileRow2[];
  readonly removes: readonly string[];
  readonly stats: { readonly slots: number; readonly populated: number; readonly changed: number };
}

/**
 * A format 2 snapshot body: a strategy's full state after `version` (the SSE `snapshot` data; the
 * NDJSON keyframe is this with `"type":"snapshot"` in front). Key order is the wire order.
 */
export interface Format2Snapshot {
  readonly format: 2;
  readonly strategy: string;
  /** 0 before the first version. */
  readonly version: number;
  /** null before the first version. */
  readonly at_us: number | null;
  /** The format 2 hash of `version` ("" before the first version). */
  readonly hash: string;
  readonly slots: readonly Slot2[];
  /** The stream's register: the last published mark of every ticker the tiles use, sorted by ticker. */
  readonly marks: readonly Mark2[];
  readonly tiles: readonly TileRow2[];
}

/** What a mark is made of (a register entry, a published leg). */
export interface MarkLike {
  readonly price: number;
  readonly ts_us: number;
  readonly source: LegSource;
}

/** `JSON.stringify`'s number text: `String(n)` for finite numbers, `null` otherwise. */
const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');
/** Equal as JSON text (NaN and NaN both print `null`; 0 and -0 both print `0`). */
const sameNumber = (a: number, b: number): boolean => a === b || (a !== a && b !== b);
const sameMark = (a: MarkLike, b: MarkLike): boolean => sameNumber(a.price, b.price) && sameNumber(a.ts_us, b.ts_us) && a.source === b.source;
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The index of the leg whose ts_us/source a fold must take, when it is not the fold's default (the
 * first leg with the greatest ts_us); undefined when the default gives the tile's own. Legs with
 * equal ts_us are ordered by seq in staging, which a tile does not carry: when the default leg has
 * another source, the tile's newest leg is the first leg with the tile's (ts_us, source).
 */
export function newestLegIndex(t: PublishedTile): number | undefined {
  const legs = t.legs;
  if (legs.length === 0) throw new Error(`format 2: tile ${t.key} has no legs`);
  let first = 0;
  for (let i = 1; i < legs.length; i++) if (legs[i]!.ts_us > legs[first]!.ts_us) first = i;
  if (!sameNumber(legs[first]!.ts_us, t.ts_us)) throw new Error(`format 2: tile ${t.key} has ts_us ${t.ts_us}, its newest leg ${legs[first]!.ts_us}`);
  if (legs[first]!.source === t.source) return undefined;
  for (let i = first + 1; i < legs.length; i++) if (legs[i]!.ts_us === t.ts_us && legs[i]!.source === t.source) return i;
  throw new Error(`format 2: tile ${t.key} has source ${t.source}, no leg at its ts_us has it`);
}

/** The identity of a tile, as its slot. */
export function slotOf(t: PublishedTile): Slot2 {
  return { key: t.key, root: t.root, expiration: t.expiration, right: t.right, strikes: t.strikes, legs: t.legs.map((l) => ({ ticker: l.ticker, ratio: l.ratio })) };
}

/**
 * The format 2 snapshot of a strategy: `tiles` (canonical, sorted by key) and the register
 * (`markOf`: the last published mark of a ticker). A tile whose leg carries an older mark than the
 * register (a newer fact at the same price is no change, so the tile was not re-published) says so
 * in its row's 6th element.
 */
export function snapshotBody2(
  strategy: string,
  head: { readonly version: number; readonly at_us: number | null; readonly hash: string },
  tiles: readonly PublishedTile[],
  markOf: (ticker: string) => MarkLike | undefined,
): Format2Snapshot {
  const tickers = new Set<string>();
  const slots: Slot2[] = [];
  const rows: TileRow2[] = [];
  for (const t of tiles) {
    if (t.strategy !== strategy) throw new Error(`format 2: tile ${t.key} of strategy "${t.strategy}" in the stream of "${strategy}"`);
    slots.push(slotOf(t));
    let overrides: (LegOverride2 | null)[] | undefined;
    t.legs.forEach((l, i) => {
      tickers.add(l.ticker);
      const m = markOf(l.ticker);
      if (m === undefined) throw new Error(`format 2: no published mark for ${l.ticker} (tile ${t.key})`);
      if (sameMark(l, m)) return;
      overrides ??= t.legs.map(() => null);
      overrides[i] = [l.price, l.ts_us, l.source];
    });
    const newest = newestLegIndex(t);
    if (overrides !== undefined) rows.push([t.key, t.value, t.score, t.confidence, newest ?? null, overrides]);
    else if (newest !== undefined) rows.push([t.key, t.value, t.score, t.confidence, newest]);
    else rows.push([t.key, t.value, t.score, t.confidence]);
  }
  const marks = [...tickers].sort(byCodeUnits).map((ticker): Mark2 => {
    const m = markOf(ticker)!;
    return [ticker, m.price, m.ts_us, m.source];
  });
  return { format: 2, strategy, version: head.version, at_us: head.at_us, hash: head.hash, slots, marks, tiles: rows };
}

// ---------------------------------------------------------------------------------------------
// Writer

/** The publisher's register entry of one ticker: the last mark this stream published. */
interface Registered {
  price: number;
  ts_us: number;
  source: LegSource;
  /** `["<ticker>",<price>,<ts_us>,"<source>"]` */
  text: string;
  /** The version whose upserts last used the ticker (the same-mark check within one version). */
  seenIn: number;
  readonly tickerJson: string;
}

export interface Format2VersionParts {
  readonly version: number;
  readonly at_us: number;
  readonly reasons: readonly PublishReason[];
  readonly prev_hash: string;
  /** Sorted by key. */
  readonly upserts: readonly PublishedTile[];
  readonly stats: { readonly slots: number; readonly populated: number; readonly changed: number };
}

/**
 * Writes one strategy's format 2 version lines. Per tile key it caches the slot's JSON and the
 * row's head (`["<key>",`), per ticker the mark's JSON: a version costs its rows' three numbers,
 * its changed marks and its new slots. Numbers are written by `String(n)` (JSON.stringify's own
 * format), strings escaped by `JSON.stringify` once, when cached.
 */
export class Format2Writer {
  private readonly strategyJson: string;
  /** Published keys → row head. A key is here once its slot has gone out. */
  private readonly rowHeads = new Map<string, string>();
  private readonly register = new Map<string, Registered>();
  private readonly sourceJson = new Map<string, string>();

  constructor(readonly strategy: string) {
    this.strategyJson = JSON.stringify(strategy);
  }

  /** The line (UTF-8, no newline) and hash of the next version. */
  write(p: Format2VersionParts): { readonly hash: string; readonly line: Buffer } {
    let slots = '';
    let rows = '';
    const changed: string[] = [];
    for (const t of p.upserts) {
      let rowHead = this.rowHeads.get(t.key);
      if (rowHead === undefined) {
        if (t.strategy !== this.strategy) throw new Error(`format 2: tile ${t.key} of strategy "${t.strategy}" in the stream of "${this.strategy}"`);
        const s = JSON.stringify(slotOf(t));
        slots = slots === '' ? s : `${slots},${s}`;
        rowHead = `[${JSON.stringify(t.key)},`;
        this.rowHeads.set(t.key, rowHead);
      }
      for (const l of t.legs) this.noteMark(l, p.version, changed, t.key);
      const newest = newestLegIndex(t);
      const row = `${rowHead}${num(t.value)},${t.score === null ? 'null' : num(t.score)},${num(t.confidence)}${newest === undefined ? ']' : `,${newest}]`}`;
      rows = rows === '' ? row : `${rows},${row}`;
    }
    changed.sort(byCodeUnits);
    let marks = '';
    for (let i = 0; i < changed.length; i++) marks += (i > 0 ? ',' : '') + this.register.get(changed[i]!)!.text;
    const head = `"format":2,"strategy":${this.strategyJson},"version":${p.version},"at_us":${num(p.at_us)},"reasons":${JSON.stringify(p.reasons)}`;
    const rest = Buffer.from(`"slots":[${slots}],"marks":[${marks}],"tiles":[${rows}],"removes":[]`);
    // Canonical body: everything but type, prev_hash, hash and stats, as written (ARCHITECTURE.md).
    const hash = chainHash(p.prev_hash, `{${head},`, rest, '}');
    const s = p.stats;
    const line = Buffer.concat([
      Buffer.from(`{"type":"version",${head},"prev_hash":${JSON.stringify(p.prev_hash)},"hash":"${hash}",`),
      rest,
      Buffer.from(`,"stats":{"slots":${num(s.slots)},"populated":${num(s.populated)},"changed":${num(s.changed)}}}`),
    ]);
    return { hash, line };
  }

  /**
   * Registers a leg's mark; a ticker whose mark differs from the last published one joins `changed`.
   * Staging re-derives every tile of a ticker when its mark changes, so the upserts of one version
   * agree on every ticker's mark: a disagreement is an engine bug, and folding would be wrong.
   */
  private noteMark(l: PublishedLeg, version: number, changed: string[], key: string): void {
    const r = this.register.get(l.ticker);
    if (r !== undefined && r.seenIn === version) {
      if (!sameMark(r, l)) throw new Error(`format 2: version ${version} of "${this.strategy}" has two marks for ${l.ticker} (tile ${key})`);
      return;
    }
    if (r !== undefined && sameMark(r, l)) {
      r.seenIn = version;
      return;
    }
    const tickerJson = r?.tickerJson ?? JSON.stringify(l.ticker);
    const text = `[${tickerJson},${num(l.price)},${num(l.ts_us)},${this.source(l.source)}]`;
    if (r === undefined) this.register.set(l.ticker, { price: l.price, ts_us: l.ts_us, source: l.source, text, seenIn: version, tickerJson });
    else {
      r.price = l.price;
      r.ts_us = l.ts_us;
      r.source = l.source;
      r.text = text;
      r.seenIn = version;
    }
    changed.push(l.ticker);
  }

  private source(source: string): string {
    let s = this.sourceJson.get(source);
    if (s === undefined) this.sourceJson.set(source, (s = JSON.stringify(source)));
    return s;
  }

  /** The snapshot of the published state: `tiles` are the canonical tiles sorted by key. */
  snapshot(head: { readonly version: number; readonly at_us: number | null; readonly hash: string }, tiles: readonly PublishedTile[]): Format2Snapshot {
    return snapshotBody2(this.strategy, head, tiles, (ticker) => this.register.get(ticker));
  }
}

// ---------------------------------------------------------------------------------------------
// Fold: format 2 → format 1

export interface Format2FolderOptions {
  /**
   * The format 1 hash of each strategy at the version of the snapshot a fold starts from. A fold
   * that starts from a snapshot cannot compute it (the format 1 chain runs from version 1); with it,
   * the snapshot and every following version fold to their exact format 1 lines.
   */
  readonly baseHashes?: Readonly<Record<string, string>>;
}

/** Where a strategy's fold stands. */
export interface FoldHead {
  readonly version: number;
  /** null before the first version. */
  readonly at_us: number | null;
  /** The format 1 hash of `version`. */
  readonly hash: string;
  /** The format 2 hash of `version` (the one in the format 2 lines). */
  readonly format2_hash: string;
}

interface FoldState {
  version: number;
  at_us: number | null;
  hash1: string;
  hash2: string;
  readonly slots: Map<string, Slot2>;
  readonly register: Map<string, Mark2>;
  readonly tiles: Map<string, PublishedTile>;
}

type Json = Record<string, unknown>;

const s = JSON.stringify;

function fail(what: string): never {
  throw new Error(`format 2 fold: ${what}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field<T>(o: Json, key: string, ok: (v: unknown) => boolean, what: string): T {
  const v = o[key];
  if (!ok(v)) fail(`${what} has no valid "${key}": ${s(v)?.slice(0, 80)}`);
  return v as T;
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isNumber = (v: unknown): boolean => typeof v === 'number';
const isArray = (v: unknown): boolean => Array.isArray(v);
/** A number, or null where the writer wrote a non-finite number. */
const isNumeric = (v: unknown): boolean => typeof v === 'number' || v === null;

/**
 * Folds format 2 lines back into format 1 lines, byte for byte: each version line becomes the
 * format 1 version line (upserts rebuilt from slots, the mark register and the rows; the format 1
 * hash chain recomputed per strategy), each snapshot the format 1 snapshot. Gap and error lines
 * pass through unchanged; a summary loses its top-level `"format":2` and its strategies' format 2
 * `final_hash`es become format 1 ones (when the fold has seen that strategy up to that hash).
 *
 * It checks as it goes: a version must follow the last one the fold holds (number and
 * `prev_hash`), and its format 2 hash must match its body; otherwise it throws, since a missed or
 * altered line would make every following fold wrong.
 */
export class Format2Folder {
  private readonly states = new Map<string, FoldState>();

  constructor(private readonly options: Format2FolderOptions = {}) {}

  /** Strategies the fold holds state for, in first-seen order. */
  get strategies(): string[] {
    return [...this.states.keys()];
  }

  /** The canonical tiles of a strategy after the last folded line, format 1 objects sorted by key. */
  tiles(strategy: string): PublishedTile[] {
    const st = this.states.get(strategy);
    if (st === undefined) return [];
    return [...st.tiles.keys()].sort(byCodeUnits).map((k) => st.tiles.get(k)!);
  }

  /** Version, time and both hashes of a strategy after the last folded line. */
  head(strategy: string): FoldHead | undefined {
    const st = this.states.get(strategy);
    return st && { version: st.version, at_us: st.at_us, hash: st.hash1, format2_hash: st.hash2 };
  }

  /**
   * One format 2 line (text without its newline, or parsed) → the format 1 line(s) it folds to.
   * A snapshot body without `type` (SSE `snapshot` data) folds to the format 1 body without `type`.
   */
  push(line: string | object): string[] {
    const o: unknown = typeof line === 'string' ? JSON.parse(line) : line;
    if (!isObject(o)) fail(`not a JSON object: ${(typeof line === 'string' ? line : s(line)).slice(0, 80)}`);
    const type = o['type'];
    if (type === 'version') return [this.foldVersion(o)];
    if (type === 'snapshot') return [this.foldSnapshot(o, true)];
    if (type === undefined && o['format'] === 2 && 'slots' in o) return [this.foldSnapshot(o, false)];
    if (type === 'summary' && o['format'] === 2) return [this.foldSummary(o)];
    return [typeof line === 'string' ? line : s(line)];
  }

  private foldVersion(o: Json): string {
    if (o['format'] !== 2) fail(`a version line without "format":2 (version ${s(o['version'])} of ${s(o['strategy'])})`);
    const what = `version line`;
    const strategy = field<string>(o, 'strategy', isString, what);
    const version = field<number>(o, 'version', isNumber, what);
    const at_us = field<number>(o, 'at_us', isNumber, what);
    const reasons = field<PublishReason[]>(o, 'reasons', isArray, what);
    const prev = field<string>(o, 'prev_hash', isString, what);
    const hash = field<string>(o, 'hash', isString, what);
    const slots = field<Slot2[]>(o, 'slots', isArray, what);
    const marks = field<Mark2[]>(o, 'marks', isArray, what);
    const rows = field<TileRow2[]>(o, 'tiles', isArray, what);
    const removes = field<string[]>(o, 'removes', isArray, what);
    const stats = field<Json>(o, 'stats', isObject, what);

    let st = this.states.get(strategy);
    if (st === undefined) {
      if (version !== 1) fail(`version ${version} of "${strategy}" cannot be folded: the fold holds nothing of "${strategy}" (start at version 1 or at a snapshot)`);
      st = { version: 0, at_us: null, hash1: '', hash2: '', slots: new Map(), register: new Map(), tiles: new Map() };
      this.states.set(strategy, st);
    }
    if (version !== st.version + 1 || prev !== st.hash2) {
      fail(`version ${version} of "${strategy}" (prev_hash ${prev.slice(0, 12)}…) does not follow version ${st.version} (hash ${st.hash2.slice(0, 12)}…): a line is missing`);
    }
    const body2 = s({ format: 2, strategy, version, at_us, reasons, slots, marks, tiles: rows, removes });
    if (chainHash(prev, body2) !== hash) fail(`version ${version} of "${strategy}": hash does not match its body (altered line?)`);

    for (const slot of slots) st.slots.set(field<string>(slot as unknown as Json, 'key', isString, 'slot'), slot);
    for (const m of marks) st.register.set(checkMark(m), m);
    const upserts = rows.map((row) => this.tileOf(st, strategy, row, false));
    for (const key of removes) st.tiles.delete(key);
    for (const t of upserts) st.tiles.set(t.key, t);

    const upsertsJson = s(upserts);
    const head = `"strategy":${s(strategy)},"version":${s(version)},"at_us":${s(at_us)},"reasons":${s(reasons)}`;
    const removesJson = s(removes);
    const hash1 = chainHash(st.hash1, `{${head},"upserts":`, upsertsJson, `,"removes":${removesJson}}`);
    const out = `{"type":"version",${head},"prev_hash":${s(st.hash1)},"hash":"${hash1}","upserts":${upsertsJson},"removes":${removesJson},"stats":${s(stats)}}`;
    st.version = version;
    st.at_us = at_us;
    st.hash1 = hash1;
    st.hash2 = hash;
    return out;
  }

  /** A tile row → the format 1 tile, its legs priced by the register (or the row's own older marks). */
  private tileOf(st: FoldState, strategy: string, row: TileRow2, inSnapshot: boolean): PublishedTile {
    if (!Array.isArray(row) || row.length < 4 || row.length > (inSnapshot ? 6 : 5)) fail(`bad tile row ${s(row)?.slice(0, 80)}`);
    const [key, value, score, confidence] = row;
    const slot = st.slots.get(key);
    if (slot === undefined) fail(`tile ${s(key)} of "${strategy}" has no slot (its first publication was not folded)`);
    if (!isNumeric(value) || !isNumeric(confidence) || !isNumeric(score)) fail(`bad numbers in tile row ${s(row).slice(0, 80)}`);
    const own = row.length === 6 ? row[5] : undefined;
    if (own !== undefined && (!Array.isArray(own) || own.length !== slot.legs.length)) fail(`tile ${key}: bad leg marks ${s(own).slice(0, 80)}`);
    const legs: PublishedLeg[] = [];
    let newest = 0;
    for (let i = 0; i < slot.legs.length; i++) {
      const l = slot.legs[i]!;
      const o = own?.[i];
      let leg: PublishedLeg;
      if (o !== undefined && o !== null) {
        if (!Array.isArray(o) || o.length !== 3) fail(`tile ${key}: bad leg mark ${s(o)}`);
        leg = { ticker: l.ticker, ratio: l.ratio, price: o[0], ts_us: o[1], source: o[2] };
      } else {
        const m = st.register.get(l.ticker);
        if (m === undefined) fail(`tile ${key} of "${strategy}": no mark for ${l.ticker}`);
        leg = { ticker: l.ticker, ratio: l.ratio, price: m[1], ts_us: m[2], source: m[3] };
      }
      legs.push(leg);
      if (leg.ts_us > legs[newest]!.ts_us) newest = i;
    }
    const pick = row.length >= 5 ? row[4] : null;
    if (pick !== null && pick !== undefined) {
      if (!Number.isInteger(pick) || pick < 0 || pick >= legs.length || legs[pick]!.ts_us !== legs[newest]!.ts_us) fail(`tile ${key}: bad newest leg ${s(pick)}`);
      newest = pick;
    }
    const n = legs[newest]!;
    // Key order is the format 1 hash contract (DESIGN §3), as in staging's computeTile.
    return {
      key,
      root: slot.root,
      expiration: slot.expiration,
      strategy,
      right: slot.right,
      strikes: slot.strikes,
      legs,
      value,
      score,
      ts_us: n.ts_us,
      confidence,
      source: n.source,
    };
  }

  private foldSnapshot(o: Json, typed: boolean): string {
    if (o['format'] !== 2) fail(`a snapshot without "format":2 (${s(o['strategy'])} version ${s(o['version'])})`);
    const what = 'snapshot';
    const strategy = field<string>(o, 'strategy', isString, what);
    const version = field<number>(o, 'version', isNumber, what);
    const at_us = field<number | null>(o, 'at_us', isNumeric, what);
    const hash2 = field<string>(o, 'hash', isString, what);
    const slots = field<Slot2[]>(o, 'slots', isArray, what);
    const marks = field<Mark2[]>(o, 'marks', isArray, what);
    const rows = field<TileRow2[]>(o, 'tiles', isArray, what);

    const old = this.states.get(strategy);
    let hash1: string;
    if (old !== undefined) {
      if (old.version !== version || old.hash2 !== hash2) {
        fail(`the snapshot of "${strategy}" at version ${version} does not match the folded version ${old.version}: its format 1 hash is unknown (a fold cannot jump versions)`);
      }
      hash1 = old.hash1;
    } else if (version === 0) hash1 = '';
    else {
      const base = this.options.baseHashes?.[strategy];
      if (base === undefined) {
        fail(`cannot fold the snapshot of "${strategy}" at version ${version}: its format 1 hash is unknown — fold from version 1, or give the format 1 hash of that version as baseHashes[${s(strategy)}]`);
      }
      hash1 = base;
    }
    const st: FoldState = { version, at_us, hash1, hash2, slots: new Map(), register: new Map(), tiles: new Map() };
    for (const slot of slots) st.slots.set(field<string>(slot as unknown as Json, 'key', isString, 'slot'), slot);
    for (const m of marks) st.register.set(checkMark(m), m);
    const tiles = rows.map((row) => this.tileOf(st, strategy, row, true));
    for (const t of tiles) st.tiles.set(t.key, t);
    this.states.set(strategy, st);
    const body = { strategy, version, at_us, hash: hash1, tiles };
    return typed ? s({ type: 'snapshot', ...body }) : s(body);
  }

  private foldSummary(o: Json): string {
    const out: Json = {};
    for (const [k, v] of Object.entries(o)) if (k !== 'format') out[k] = v;
    const strategies = out['strategies'];
    if (isObject(strategies)) {
      const mapped: Json = {};
      for (const [name, v] of Object.entries(strategies)) {
        const st = this.states.get(name);
        mapped[name] = isObject(v) && st !== undefined && v['final_hash'] === st.hash2 ? { ...v, final_hash: st.hash1 } : v;
      }
      out['strategies'] = mapped;
    }
    return s(out);
  }
}

function checkMark(m: unknown): string {
  if (!Array.isArray(m) || m.length !== 4 || typeof m[0] !== 'string' || !isNumeric(m[1]) || !isNumeric(m[2]) || typeof m[3] !== 'string') {
    fail(`bad mark ${s(m)?.slice(0, 80)}`);
  }
  return m[0];
}

/**
 * Folds a format 2 stream (NDJSON lines, with or without their newline) into the format 1 stream,
 * line for line (see `Format2Folder`). Empty lines are skipped.
 */
export async function* fold2to1(lines: AsyncIterable<string> | Iterable<string>, options?: Format2FolderOptions): AsyncGenerator<string> {
  const folder = new Format2Folder(options);
  for await (const raw of lines) {
    const line = raw.endsWith('\n') ? raw.slice(0, raw.endsWith('\r\n') ? -2 : -1) : raw;
    if (line.trim() === '') continue;
    for (const out of folder.push(line)) yield out;
  }
}
