import type { ChalkInstance } from 'chalk';
import { PLAIN, styleOf, type Style } from './styled-line.js';

/**
 * The fixed diverging colour scale of the heatmap. Fixed means it does not re-scale with the data:
 * a colour always means the same score, frame after frame and session after session, so a trader
 * can read a cell without a legend lookup. Each strategy has its own domain (scores of different
 * strategies are in different units), split at a midpoint into a cool half and a warm half
 * (a two-slope norm); scores beyond the ends clamp to the end colours.
 */
export interface ColorScale {
  /** Score shown in the darkest blue (and below). */
  readonly lo: number;
  /** Score shown in the neutral middle colour. */
  readonly mid: number;
  /** Score shown in the darkest red (and above). */
  readonly hi: number;
  /** What the score means, for the legend. */
  readonly unit: string;
}

/**
 * Default domains, from the score formulas (README) and what the simulator's open market gives:
 * - `single`: time value in bp of spot; 0 = no time value, ≥ 60 bp is rich for 0–2 DTE.
 * - `vertical`: value / width, the market's probability of finishing in the money; 0.5 = at the money.
 * - `fly`: value / width, centred on 0: a fly is worth between 0 and its width, so a blue (negative)
 *   fly is a stale or crossed leg, white is a dead wing, red the money; near-the-money flies of
 *   short-dated SPX sit around 0.1–0.4.
 * - custom structures: value / (highest − lowest strike), credit below 0.
 */
const SCALES: Readonly<Record<string, ColorScale>> = {
  single: { lo: 0, mid: 30, hi: 60, unit: 'bp of spot' },
  vertical: { lo: 0, mid: 0.5, hi: 1, unit: 'value/width' },
  fly: { lo: -0.2, mid: 0, hi: 0.4, unit: 'value/width' },
};

const CUSTOM_SCALE: ColorScale = { lo: -0.25, mid: 0, hi: 0.25, unit: 'value/span' };

/** The scale for a strategy (custom strategies share one). */
export function scaleFor(strategy: string): ColorScale {
  return SCALES[strategy] ?? CUSTOM_SCALE;
}

/**
 * 256-colour palette, cool → warm (after ColorBrewer RdYlBu, mapped to the xterm cube). `fg` is the
 * text colour that stays legible on that background. Terminals without 256 colours get chalk's
 * nearest 16-colour equivalent.
 */
export const PALETTE: readonly { readonly bg: number; readonly fg: number }[] = [
  { bg: 25, fg: 231 },
  { bg: 32, fg: 231 },
  { bg: 74, fg: 16 },
  { bg: 117, fg: 16 },
  { bg: 254, fg: 16 },
  { bg: 222, fg: 16 },
  { bg: 215, fg: 16 },
  { bg: 202, fg: 16 },
  { bg: 160, fg: 231 },
];

const MID_INDEX = (PALETTE.length - 1) / 2;

/** Palette index (0 … PALETTE.length − 1) of a score on a scale. */
export function colorIndex(score: number, scale: ColorScale): number {
  if (!Number.isFinite(score)) return score > 0 ? PALETTE.length - 1 : 0;
  let t: number; // position in [-1, 1]
  if (score >= scale.mid) t = scale.hi > scale.mid ? (score - scale.mid) / (scale.hi - scale.mid) : 1;
  else t = scale.mid > scale.lo ? (score - scale.mid) / (scale.mid - scale.lo) : -1;
  t = Math.max(-1, Math.min(1, t));
  return Math.round(MID_INDEX + t * MID_INDEX);
}

/** Background shade of a stale or low-confidence tile: its colour goes to the text, the cell goes dark grey. */
const GREY_BG = 237;

/** How a cell is drawn besides its score colour. */
export interface CellShade {
  /** Newest leg older than the staleness limit: grey, hue dimmed. */
  readonly isStale: boolean;
  /** Confidence under the view's threshold: grey, hue in italics (as the web view shows it). */
  readonly isLow?: boolean;
}

/**
 * The style of a cell: its score colour as the background — or, for a stale or low-confidence
 * tile, the score colour as the foreground on dark grey (dimmed when stale, italic when of low
 * confidence), so what cannot be trusted reads at a glance while the hue stays visible.
 * `index` undefined (no score) is unpainted (dimmed when stale, italic when of low confidence).
 */
export function cellStyle(index: number | undefined, shade: boolean | CellShade, c: ChalkInstance): Style {
  const { isStale, isLow = false } = typeof shade === 'boolean' ? { isStale: shade } : shade;
  const tag = `${isStale ? ':stale' : ''}${isLow ? ':low' : ''}`;
  if (index === undefined) {
    if (!isStale && !isLow) return PLAIN;
    return styleOf(c, `cell:none${tag}`, isStale && isLow ? c.dim.italic : isStale ? c.dim : c.italic);
  }
  const p = PALETTE[index]!;
  if (!isStale && !isLow) return styleOf(c, `cell:${index}`, c.bgAnsi256(p.bg).ansi256(p.fg));
  let st = c.bgAnsi256(GREY_BG).ansi256(p.bg);
  if (isStale) st = st.dim;
  if (isLow) st = st.italic;
  return styleOf(c, `cell:${index}${tag}`, st);
}

/** `text` painted in its cell style (see `cellStyle`). */
export function paintCell(text: string, index: number | undefined, shade: boolean | CellShade, c: ChalkInstance): string {
  const st = cellStyle(index, shade, c);
  return st.open + text + st.close;
}

/**
 * A one-line legend: the scale's ends around a strip of the palette and its midpoint, e.g.
 * `0 ▒▒▒▒▒▒▒▒▒ 0.4 (mid 0.15 value/width)`. Without colour the strip is left out. Returns the
 * styled text and its visible width.
 */
export function renderLegend(scale: ColorScale, c: ChalkInstance, format: (x: number) => string): { text: string; width: number } {
  const strip = c.level > 0 ? PALETTE.map((p) => c.bgAnsi256(p.bg)('  ')).join('') : '';
  const stripWidth = c.level > 0 ? PALETTE.length * 2 : 0;
  const tail = `(mid ${format(scale.mid)} ${scale.unit})`;
  const plain = `${format(scale.lo)} ${' '.repeat(stripWidth)} ${format(scale.hi)} ${tail}`;
  const text = `${format(scale.lo)} ${strip} ${format(scale.hi)} ${c.dim(tail)}`;
  return { text, width: plain.length };
}
