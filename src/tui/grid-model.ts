import type { PublishedTile, Right } from '../engine/types.js';

/**
 * Where each published tile sits on the screen. Columns are strikes; rows depend on the strategy:
 * - `fly`: rows are widths, the column is the body strike (the centre);
 * - `vertical`: rows are widths, the column is the long strike K (call +K −(K+w), put +K −(K−w));
 * - `single` and custom structures: rows are calls and puts of every expiration (a strike ×
 *   expiration view); a custom structure's column is its body, the leg with the largest |ratio|
 *   (ties: the lower strike).
 * Rows come in blocks — a block per right on the width axis (one series: the selected
 * expiration), a block per series on the right axis — so that a short terminal can drop whole
 * blocks, keeping the selected one.
 */

/** How rows are organised for a strategy. */
export type RowAxis = 'width' | 'right';

/** One expiration of one root (SPX and SPXW are never mixed). */
export interface Series {
  readonly root: string;
  readonly expiration: string;
  /** `ROOT EXPIRATION`, the selection key. */
  readonly key: string;
}

/** A row of the grid. `width` is null on the `right` axis. */
export interface GridRow {
  readonly series: string;
  readonly right: Right;
  readonly width: number | null;
}

/** Rows, columns and cells of one strategy's heatmap. */
export interface GridModel {
  readonly axis: RowAxis;
  /** The selected series (the first one when none or an unknown one was asked for). */
  readonly series: Series | undefined;
  /** Every series of the strategy, by expiration. */
  readonly allSeries: readonly Series[];
  /** Every strike that has a tile in the rows, ascending. */
  readonly strikes: readonly number[];
  /** Row blocks, top to bottom. */
  readonly blocks: readonly (readonly GridRow[])[];
  /** The block to keep when not all fit. */
  readonly selectedBlock: number;
  /** The tile in a row at a strike, if published. */
  cell(row: GridRow, strike: number): PublishedTile | undefined;
}

/** Which axis a strategy's rows use. */
export function rowAxisOf(strategy: string): RowAxis {
  return strategy === 'fly' || strategy === 'vertical' ? 'width' : 'right';
}

/** Series key of a tile. */
export function seriesKeyOf(t: { readonly root: string; readonly expiration: string }): string {
  return `${t.root} ${t.expiration}`;
}

/** Column strike and row width of a tile. */
export function placeTile(t: PublishedTile): { strike: number; width: number | null } {
  const k = t.strikes;
  switch (t.strategy) {
    case 'fly':
      return { strike: k[1]!, width: k[1]! - k[0]! };
    case 'vertical':
      return t.right === 'C' ? { strike: k[0]!, width: k[1]! - k[0]! } : { strike: k[1]!, width: k[1]! - k[0]! };
    case 'single':
      return { strike: k[0]!, width: null };
    default: {
      // legs are ascending by strike, like `strikes`
      let body = 0;
      t.legs.forEach((leg, i) => {
        if (Math.abs(leg.ratio) > Math.abs(t.legs[body]!.ratio)) body = i;
      });
      return { strike: k[body] ?? k[0]!, width: null };
    }
  }
}

/** Every series that has tiles, by expiration then root. */
export function listSeries(tiles: Iterable<PublishedTile>): Series[] {
  const seen = new Map<string, Series>();
  for (const t of tiles) {
    const key = seriesKeyOf(t);
    if (!seen.has(key)) seen.set(key, { root: t.root, expiration: t.expiration, key });
  }
  return [...seen.values()].sort((a, b) => (a.expiration < b.expiration ? -1 : a.expiration > b.expiration ? 1 : a.root < b.root ? -1 : a.root > b.root ? 1 : 0));
}

const cellKey = (series: string, right: Right, width: number | null, strike: number): string => `${series}|${right}|${width ?? ''}|${strike}`;

/**
 * Builds the grid of one strategy's tiles for the selected series (`seriesKey`; the first series
 * when it is absent or unknown). `firstRight` puts that right's rows first.
 */
export function buildGridModel(strategy: string, tiles: ReadonlyMap<string, PublishedTile>, seriesKey: string | undefined, firstRight: Right = 'C'): GridModel {
  const axis = rowAxisOf(strategy);
  const allSeries = listSeries(tiles.values());
  const series = allSeries.find((s) => s.key === seriesKey) ?? allSeries[0];
  const cells = new Map<string, PublishedTile>();
  const strikes = new Set<number>();
  const widths = { C: new Set<number>(), P: new Set<number>() };
  const rights = new Set<Right>(strategy === 'single' ? ['C', 'P'] : []);
  for (const t of tiles.values()) {
    rights.add(t.right);
    const key = seriesKeyOf(t);
    if (axis === 'width' && key !== series?.key) continue;
    const { strike, width } = placeTile(t);
    strikes.add(strike);
    if (width !== null) widths[t.right].add(width);
    cells.set(cellKey(key, t.right, width, strike), t);
  }
  const order: Right[] = firstRight === 'P' ? ['P', 'C'] : ['C', 'P'];
  let blocks: GridRow[][];
  let selectedBlock = 0;
  if (!series) blocks = [];
  else if (axis === 'width') {
    blocks = order.map((right) => [...widths[right]].sort((a, b) => a - b).map((width) => ({ series: series.key, right, width })));
    blocks = blocks.filter((b) => b.length > 0);
  } else {
    // every series gets a row per right the strategy has, even an empty one: it shows what is missing
    blocks = allSeries.map((s) => order.filter((r) => rights.has(r)).map((right) => ({ series: s.key, right, width: null })));
    selectedBlock = allSeries.indexOf(series);
  }
  return {
    axis,
    series,
    allSeries,
    strikes: [...strikes].sort((a, b) => a - b),
    blocks,
    selectedBlock,
    cell: (row, strike) => cells.get(cellKey(row.series, row.right, row.width, strike)),
  };
}
