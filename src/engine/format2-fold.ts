import { chainHash } from './hash.js';
import { byCodeUnits, type Mark2, type Slot2, type TileRow2 } from './format2.js';
import type { PublishReason, PublishedLeg, PublishedTile } from './types.js';

/**
 * The fold: format 2 lines → the format 1 lines they stand for, byte for byte (DESIGN §3.1;
 * ARCHITECTURE "Format 2"). The writer is `format2.ts`.
 */

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
