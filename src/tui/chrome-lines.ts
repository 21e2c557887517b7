import type { ChalkInstance } from 'chalk';
import { renderLegend, type ColorScale } from './color-scale.js';
import { fitNumber, formatEngineTime, formatRate, formatSpeed, type ShowMode } from './format.js';
import { LOW_CONFIDENCE } from './grid-lines.js';

/**
 * The header and footer lines around the grid. Each line is a list of segments with priorities;
 * when the terminal is too narrow the least important segments are dropped, whole, instead of
 * wrapping or cutting words.
 */

/** A piece of a line: styled text, its visible width, and how important it is (0 = never drop). */
export interface Segment {
  readonly text: string;
  readonly width: number;
  readonly prio: number;
}

/** A segment from plain text, styled by `style`. */
export function seg(plain: string, prio: number, style?: (s: string) => string): Segment {
  return { text: style ? style(plain) : plain, width: plain.length, prio };
}

/** Joins segments with `gap` spaces, dropping the least important (then the rightmost) until the line fits. */
export function fitSegments(segments: readonly Segment[], width: number, gap = 2): string {
  const kept = [...segments];
  const total = (): number => kept.reduce((n, s) => n + s.width, 0) + gap * Math.max(0, kept.length - 1);
  while (total() > width && kept.length > 1) {
    let drop = -1;
    kept.forEach((s, i) => {
      if (s.prio > 0 && (drop < 0 || s.prio >= kept[drop]!.prio)) drop = i;
    });
    if (drop < 0) break;
    kept.splice(drop, 1);
  }
  return kept.map((s) => s.text).join(' '.repeat(gap));
}

/** Everything the header shows. */
export interface HeaderInfo {
  readonly underlying: string;
  readonly strategies: readonly string[];
  readonly strategyIndex: number;
  /** `SPXW 2025-11-21`, or undefined before the first tile. */
  readonly series: string | undefined;
  readonly seriesIndex: number;
  readonly seriesCount: number;
  readonly version: number;
  readonly populated: number | undefined;
  readonly slots: number | undefined;
  readonly engineUs: number | undefined;
  readonly speed: number | 'max';
  readonly paused: boolean;
  readonly lagMs: number;
  readonly inputRate: number;
  readonly versionRate: number;
  readonly spot: number | undefined;
  readonly mode: ShowMode;
  readonly finished: 'end' | 'aborted' | undefined;
  readonly error: string | undefined;
}

/** The two header lines. */
export function renderHeaderLines(h: HeaderInfo, width: number, c: ChalkInstance): string[] {
  const name = h.strategies[h.strategyIndex] ?? '-';
  const tabs = h.strategies.map((s, i) => (i === h.strategyIndex ? c.inverse.bold(` ${s} `) : ` ${s} `)).join('');
  const tabsWidth = h.strategies.reduce((n, s) => n + s.length + 2, 0);
  const line1: Segment[] = [
    seg('heatmap', 6, c.dim),
    seg(h.underlying, 0, c.bold.cyan),
    tabsWidth + 1 <= width / 2 ? { text: tabs, width: tabsWidth, prio: 0 } : seg(`‹${name}› ${h.strategyIndex + 1}/${h.strategies.length}`, 0, c.bold),
    seg(h.series ?? 'no tiles yet', 1, h.series ? c.bold : c.dim),
    seg(h.seriesCount > 0 ? `${h.seriesIndex + 1}/${h.seriesCount}` : '', 5, c.dim),
    seg(`v${h.version}`, 1, c.bold),
    seg(h.populated !== undefined ? `${h.populated}/${h.slots} tiles` : '', 7, c.dim),
    seg(h.engineUs !== undefined ? `${formatEngineTime(h.engineUs)} ET` : '--:--:--', 2),
  ].filter((s) => s.width > 0);
  const status = h.finished
    ? seg(h.finished === 'end' ? 'replay finished · q to quit' : 'stopped', 0, c.green.bold)
    : h.paused
      ? seg('paused', 0, c.yellow.inverse.bold)
      : seg(`speed ${formatSpeed(h.speed)}`, 0, c.bold);
  const line2: Segment[] = [
    status,
    h.finished === undefined && h.paused ? seg(`speed ${formatSpeed(h.speed)}`, 3) : seg('', 9),
    seg(`in ${formatRate(h.inputRate)}/s`, 3),
    seg(`${formatRate(h.versionRate)} versions/s`, 4),
    seg(h.speed === 'max' || h.finished || h.paused ? 'lag -' : `lag ${Math.round(h.lagMs)} ms`, 5, h.lagMs > 250 && !h.finished ? c.red : undefined),
    seg(h.spot !== undefined ? `spot ${h.spot.toFixed(2)}` : 'spot ?', 1, c.yellow),
    seg(`showing ${h.mode}`, 2, c.cyan),
    seg(h.error ? `FAILED: ${h.error}` : '', 0, c.red.bold),
  ].filter((s) => s.width > 0);
  return [fitSegments(line1, width), fitSegments(line2, width)];
}

const KEYS_LONG = '←/→ tab strategy  ↑/↓ expiry  +/- speed  space pause  v score/value/age/conf  r calls/puts  q quit';
const KEYS_SHORT = '←→ strategy ↑↓ expiry +- speed space pause v show r C/P q quit';
const KEYS_TINY = '←→ ↑↓ +- space v r q';

/** The footer: the colour legend (and what is cut off), then the key bindings. */
export function renderFooterLines(
  scale: ColorScale,
  width: number,
  c: ChalkInstance,
  notes: { readonly hiddenRows: number; readonly hiddenLeft: number; readonly hiddenRight: number },
): string[] {
  const fmt = (x: number): string => {
    const s = fitNumber(x, 6);
    return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  };
  const legend = renderLegend(scale, c, fmt);
  const hidden: string[] = [];
  if (notes.hiddenLeft + notes.hiddenRight > 0) hidden.push(`${notes.hiddenLeft + notes.hiddenRight} strikes off-screen`);
  if (notes.hiddenRows > 0) hidden.push(`${notes.hiddenRows} rows off-screen (r)`);
  const line1 = fitSegments(
    [
      seg('score', 3, c.dim),
      { text: legend.text, width: legend.width, prio: 0 },
      seg(`grey = stale, grey italic = confidence < ${Math.round(LOW_CONFIDENCE * 100)}%`, 2, c.dim),
      seg(hidden.join(', '), 4, c.dim),
    ].filter((s) => s.width > 0),
    width,
  );
  const keys = [KEYS_LONG, KEYS_SHORT, KEYS_TINY].find((k) => k.length <= width) ?? KEYS_TINY;
  return [line1, c.dim(keys)];
}
