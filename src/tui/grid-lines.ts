import type { ChalkInstance } from 'chalk';
import type { PublishedTile } from '../engine/types.js';
import { cellStyle, colorIndex, type ColorScale } from './color-scale.js';
import { formatCellText, formatStrikeLabel, type ShowMode } from './format.js';
import type { GridModel } from './grid-model.js';
import { labelContextOf, rowLabel, type GridLayout } from './layout.js';
import { StyledLine, styleOf, type Style } from './styled-line.js';

/**
 * The grid as text: one chalk-built string per terminal line, which Ink renders as one `<Text>`
 * (React then reconciles ~25 elements a frame whatever the grid size; bench/tui-frame.mjs compares
 * it with per-cell spans and boxes). A cell is a block of
 * `cellWidth + 1` characters in its score colour, figure right-aligned. The spot column is fenced
 * by `│` guides on every line and its strike is shown inverted; `‹`/`›` say that strikes are cut
 * off on that side.
 */

/** Tiles whose newest leg is older than this (engine time) are drawn stale. */
export const STALE_AFTER_US = 60_000_000;

/**
 * Tiles whose confidence is below this are drawn greyed, in italics: the web view's default
 * (`low_conf`), so both views grey the same tiles. Under 0.8 are, for example, a quote whose spread
 * is over 40 % of its mid, or legs more than 16 s apart (README, "Confidence").
 */
export const LOW_CONFIDENCE = 0.8;

export interface GridTextOptions {
  readonly mode: ShowMode;
  readonly scale: ColorScale;
  /** Engine time, for ages and staleness. */
  readonly nowUs: number | undefined;
  readonly staleAfterUs?: number;
  /** Confidence under which a tile is greyed (default `LOW_CONFIDENCE`). */
  readonly lowConfidence?: number;
  readonly chalk: ChalkInstance;
}

/** True when a tile's newest leg is older than `staleAfterUs` at engine time `nowUs`. */
export function isStale(tile: PublishedTile, nowUs: number | undefined, staleAfterUs = STALE_AFTER_US): boolean {
  return nowUs !== undefined && nowUs - tile.ts_us > staleAfterUs;
}

/** The header line (strikes) and one line per layout row (a blank string for the block gap). */
export function renderGridLines(model: GridModel, layout: GridLayout, o: GridTextOptions): string[] {
  const c = o.chalk;
  const { strikes, spotStrike, labelWidth, cellWidth } = layout;
  const guide = styleOf(c, 'guide', c.yellow);
  const dim = styleOf(c, 'dim', c.dim);
  const bold = styleOf(c, 'bold', c.bold);
  const spot = styleOf(c, 'spot', c.bold.inverse);
  const isGuideBefore = (i: number): boolean => spotStrike !== undefined && (strikes[i] === spotStrike || strikes[i - 1] === spotStrike);
  const isGuideAfterLast = spotStrike !== undefined && strikes[strikes.length - 1] === spotStrike;

  const head = new StyledLine().add((model.axis === 'width' ? 'w\\K' : 'K').padEnd(labelWidth), dim);
  strikes.forEach((k, i) => {
    if (isGuideBefore(i)) head.add('│', guide);
    else if (i === 0 && layout.hiddenLeft > 0) head.add('‹', dim);
    else head.add(' ', bold);
    head.add(formatStrikeLabel(k).padStart(cellWidth), k === spotStrike ? spot : bold);
  });
  if (isGuideAfterLast) head.add('│', guide);
  else if (layout.hiddenRight > 0) head.add('›', dim);

  const labels = labelContextOf(model);
  // on the strike × expiration view, the selected expiration's labels stand out
  const highlight = model.axis === 'right' && model.allSeries.length > 1 ? model.series?.key : undefined;
  const lines = [head.toString()];
  for (const row of layout.rows) {
    if (row === null) {
      lines.push('');
      continue;
    }
    const line = new StyledLine().add(rowLabel(row, labels).padEnd(labelWidth), row.series === highlight ? bold : dim);
    strikes.forEach((k, i) => {
      const cell = cellText(model.cell(row, k), cellWidth, o);
      if (isGuideBefore(i)) line.add('│', guide).add(cell.text, cell.style);
      else line.add(` ${cell.text}`, cell.style);
    });
    if (isGuideAfterLast) line.add('│', guide);
    lines.push(line.toString());
  }
  return lines;
}

/** A cell's text (right-aligned in `width`) and style; `·` where no tile is published. */
export function cellText(tile: PublishedTile | undefined, width: number, o: GridTextOptions): { text: string; style: Style } {
  if (!tile) return { text: '·'.padStart(width), style: styleOf(o.chalk, 'dim', o.chalk.dim) };
  const text = formatCellText(tile, o.mode, o.nowUs, width).padStart(width);
  const index = tile.score === null ? undefined : colorIndex(tile.score, o.scale);
  const shade = { isStale: isStale(tile, o.nowUs, o.staleAfterUs), isLow: tile.confidence < (o.lowConfidence ?? LOW_CONFIDENCE) };
  return { text, style: cellStyle(index, shade, o.chalk) };
}
