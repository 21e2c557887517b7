import type { GridModel, GridRow } from './grid-model.js';
import { formatStrikeLabel } from './format.js';

/**
 * Fitting a grid to the terminal: which strikes (a window centred on the spot strike), how wide a
 * cell is, which rows. Pure, so narrow and wide terminals are unit-tested without a terminal.
 *
 * A grid line is `label` + for each column one separator character and `cellWidth` characters,
 * + one trailing character (the right-hand spot guide when the spot column is the last one).
 */

/** Narrowest cell text: `0.135`, `5900`, `12.35`. */
export const MIN_CELL_WIDTH = 5;
/** Cells grow up to this when every strike fits with room to spare. */
export const MAX_CELL_WIDTH = 8;

export interface GridLayout {
  /** The strikes shown, ascending (a contiguous window of the model's strikes). */
  readonly strikes: readonly number[];
  /** The strike nearest spot, when it is on screen. */
  readonly spotStrike: number | undefined;
  /** Characters of the row label column. */
  readonly labelWidth: number;
  /** Characters of a cell's text (without its separator). */
  readonly cellWidth: number;
  /** Rows top to bottom; `null` is the blank line between the call and the put block. */
  readonly rows: readonly (GridRow | null)[];
  /** Model rows left out for lack of height. */
  readonly hiddenRows: number;
  /** Strikes left out on each side for lack of width. */
  readonly hiddenLeft: number;
  readonly hiddenRight: number;
}

/** Index of the strike nearest `spot` (ties: the lower strike); -1 when there are no strikes. */
export function nearestStrikeIndex(strikes: readonly number[], spot: number | undefined): number {
  if (strikes.length === 0) return -1;
  if (spot === undefined) return Math.floor((strikes.length - 1) / 2);
  let best = 0;
  for (let i = 1; i < strikes.length; i++) if (Math.abs(strikes[i]! - spot) < Math.abs(strikes[best]! - spot)) best = i;
  return best;
}

/**
 * The first index and length of a window of at most `maxColumns` strikes centred on the strike
 * nearest spot, slid inwards at the edges so it is always full when there are enough strikes.
 */
export function chooseStrikeWindow(strikes: readonly number[], spot: number | undefined, maxColumns: number): { start: number; count: number } {
  const count = Math.max(0, Math.min(strikes.length, maxColumns));
  if (count === 0) return { start: 0, count: 0 };
  const centre = nearestStrikeIndex(strikes, spot);
  const start = Math.max(0, Math.min(strikes.length - count, centre - Math.floor((count - 1) / 2)));
  return { start, count };
}

/** What row labels need to know: digits of the widest width, and whether roots must be named. */
export interface LabelContext {
  readonly widthDigits: number;
  readonly multiRoot: boolean;
}

/** Label context of a model. */
export function labelContextOf(model: GridModel): LabelContext {
  const rows = model.blocks.flat();
  return {
    widthDigits: Math.max(1, ...rows.map((r) => (r.width === null ? 0 : formatStrikeLabel(r.width).length))),
    multiRoot: new Set(model.allSeries.map((s) => s.root)).size > 1,
  };
}

/** A row's label: `C  5`, `P 50` on the width axis, `C 11-21` (`SPX C 11-21` with several roots) on the right axis. */
export function rowLabel(row: GridRow, ctx: LabelContext): string {
  if (row.width !== null) return `${row.right} ${formatStrikeLabel(row.width).padStart(ctx.widthDigits)}`;
  const [root, expiration = ''] = row.series.split(' ');
  return `${ctx.multiRoot ? `${root} ` : ''}${row.right} ${expiration.slice(5)}`;
}

/** Lays a model out in `width` × `height` characters (height counts grid rows only). */
export function layoutGrid(model: GridModel, spot: number | undefined, width: number, height: number): GridLayout {
  const ctx = labelContextOf(model);
  const labelWidth = Math.max(4, ...model.blocks.flat().map((r) => rowLabel(r, ctx).length));
  const avail = Math.max(0, width - labelWidth - 1);
  const minCell = Math.max(MIN_CELL_WIDTH, ...model.strikes.map((k) => formatStrikeLabel(k).length));
  const maxColumns = Math.floor(avail / (minCell + 1));
  const n = model.strikes.length;
  const cellWidth = n > 0 && n <= maxColumns ? Math.max(minCell, Math.min(MAX_CELL_WIDTH, Math.floor(avail / n) - 1)) : minCell;
  const { start, count } = chooseStrikeWindow(model.strikes, spot, maxColumns);
  const strikes = model.strikes.slice(start, start + count);
  const spotIndex = spot === undefined ? -1 : nearestStrikeIndex(model.strikes, spot);
  const spotStrike = spotIndex >= start && spotIndex < start + count ? model.strikes[spotIndex] : undefined;
  const { rows, hidden } = fitRows(model.blocks, model.selectedBlock, Math.max(0, height));
  return { strikes, spotStrike, labelWidth, cellWidth, rows, hiddenRows: hidden, hiddenLeft: start, hiddenRight: n - start - count };
}

/**
 * Rows that fit in `height` lines: every block, with a blank line between blocks when there is
 * room; else the selected block and as many of its neighbours (after it, then before it) as fit;
 * the selected block itself is cut to the height, smallest widths first.
 */
export function fitRows(blocks: readonly (readonly GridRow[])[], selected: number, height: number): { rows: (GridRow | null)[]; hidden: number } {
  const total = blocks.reduce((n, b) => n + b.length, 0);
  if (total + Math.max(0, blocks.length - 1) <= height) {
    return { rows: blocks.flatMap((b, i) => (i === 0 ? [...b] : [null, ...b])), hidden: 0 };
  }
  if (total <= height) return { rows: blocks.flat(), hidden: 0 };
  const sel = Math.max(0, Math.min(blocks.length - 1, selected));
  let first = sel;
  let last = sel;
  let used = blocks[sel]?.length ?? 0;
  while (last + 1 < blocks.length && used + blocks[last + 1]!.length <= height) used += blocks[++last]!.length;
  while (first > 0 && used + blocks[first - 1]!.length <= height) used += blocks[--first]!.length;
  const rows = blocks.slice(first, last + 1).flat().slice(0, height);
  return { rows, hidden: total - rows.length };
}
