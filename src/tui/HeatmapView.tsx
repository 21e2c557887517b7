import { Box, Text } from 'ink';
import chalk, { type ChalkInstance } from 'chalk';
import type { ReactElement } from 'react';
import { renderFooterLines, renderHeaderLines, type HeaderInfo } from './chrome-lines.js';
import { scaleFor } from './color-scale.js';
import type { UiState } from './controls.js';
import { renderGridLines } from './grid-lines.js';
import { buildGridModel, listSeries } from './grid-model.js';
import { layoutGrid } from './layout.js';
import type { StoreSnapshot } from './tile-store.js';

/** Replay controls as the header shows them (read from the pacer at render time). */
export interface ControlState {
  readonly speed: number | 'max';
  readonly paused: boolean;
  readonly lagMs: number;
}

export interface HeatmapViewProps {
  readonly snapshot: StoreSnapshot;
  readonly ui: UiState;
  readonly underlying: string;
  readonly control: ControlState;
  /** Terminal size in characters. */
  readonly columns: number;
  readonly rows: number;
  /** Colour support; defaults to chalk's own detection. */
  readonly chalk?: ChalkInstance;
}

/** Smallest terminal the view lays out in; below it, it says so. */
export const MIN_COLUMNS = 40;
export const MIN_ROWS = 10;

/** Lines above and below the grid rows: header (2), strike line (1), footer (2). */
const CHROME_LINES = 5;

/**
 * Computes every line of a frame: header, strike line, grid rows, footer. Pure; the view and the
 * benchmark call it. The frame is `rows − 1` lines high (one as high as the terminal makes Ink
 * clear the screen on every render) and no line is wider than `columns`.
 */
export function renderFrameLines(p: HeatmapViewProps): string[] {
  const c = p.chalk ?? chalk;
  if (p.columns < MIN_COLUMNS || p.rows < MIN_ROWS) {
    return [c.yellow(`terminal too small: ${p.columns}×${p.rows}, need ${MIN_COLUMNS}×${MIN_ROWS}`), c.dim('q quit')];
  }
  const names = p.snapshot.strategies.map((s) => s.name);
  const view = p.snapshot.strategies[p.ui.strategyIndex];
  const name = view?.name ?? '-';
  const tiles = view?.tiles ?? new Map();
  const model = buildGridModel(name, tiles, p.ui.series, p.ui.right);
  const seriesKeys = listSeries(tiles.values()).map((s) => s.key);
  const layout = layoutGrid(model, p.snapshot.spot, p.columns, p.rows - 1 - CHROME_LINES);
  const scale = scaleFor(name);
  const header: HeaderInfo = {
    underlying: p.underlying,
    strategies: names,
    strategyIndex: p.ui.strategyIndex,
    series: model.series?.key,
    seriesIndex: model.series ? seriesKeys.indexOf(model.series.key) : 0,
    seriesCount: seriesKeys.length,
    version: view?.version ?? 0,
    populated: view?.stats?.populated,
    slots: view?.stats?.slots,
    engineUs: p.snapshot.engine_us,
    speed: p.control.speed,
    paused: p.control.paused,
    lagMs: p.control.lagMs,
    inputRate: p.snapshot.inputRate,
    versionRate: p.snapshot.versionRate,
    spot: p.snapshot.spot,
    mode: p.ui.mode,
    finished: p.snapshot.finished,
    error: view?.error,
  };
  const lines = renderHeaderLines(header, p.columns, c);
  if (model.strikes.length === 0) {
    lines.push(c.dim(view && view.version > 0 ? `no tiles in version ${view.version}` : `waiting for the first published version of ${name}…`));
  } else {
    lines.push(...renderGridLines(model, layout, { mode: p.ui.mode, scale, nowUs: p.snapshot.engine_us, chalk: c }));
  }
  const footer = renderFooterLines(scale, p.columns, c, layout);
  // Fill the screen, footer at the bottom: a frame of constant height is erased completely by
  // Ink's next render even when the terminal shrank or grew in between (no stale lines on resize).
  while (lines.length + footer.length < p.rows - 1) lines.push('');
  lines.push(...footer);
  return lines;
}

/**
 * The whole screen, presentational only: props in, one `<Text>` per line out (a chalk-built
 * string per grid row, never a component per cell — bench/tui-frame.mjs measures the difference).
 */
export function HeatmapView(props: HeatmapViewProps): ReactElement {
  const lines = renderFrameLines(props);
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate">
          {line === '' ? ' ' : line}
        </Text>
      ))}
    </Box>
  );
}
