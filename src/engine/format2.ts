import type { LegSource, PublishReason, PublishedTile, Right } from './types.js';

/**
 * Format 2 of the published-version stream (DESIGN §3.1; the exact bytes are in ARCHITECTURE.md,
 * "Format 2"): each fact said once. A tile's identity goes out once per run (`slots`), a leg's mark
 * once per change (`marks`), and an upserted tile is a short row `[key, value, score, confidence]`.
 *
 * This module holds the types and the snapshot body; `format2-writer.ts` is the publisher's
 * serializer and `format2-fold.ts` folds format 2 lines back into the format 1 lines byte for byte
 * (hash chain included).
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

/** Equal as JSON text (NaN and NaN both print `null`; 0 and -0 both print `0`). */
const sameNumber = (a: number, b: number): boolean => a === b || (a !== a && b !== b);
const sameMark = (a: MarkLike, b: MarkLike): boolean => sameNumber(a.price, b.price) && sameNumber(a.ts_us, b.ts_us) && a.source === b.source;
/** Plain string order (UTF-16 code units), the order of `marks` and of keys. */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

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
