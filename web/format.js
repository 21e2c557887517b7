/**
 * Cell text and colour of the web heatmap: the terminal view's formatting (src/tui/format.ts) and
 * colour scale (src/tui/color-scale.ts) in plain JS, so a cell reads the same in both views.
 * Pure: no DOM.
 */

/** What a cell shows and is coloured by. */
export const MODES = ['score', 'value', 'age', 'conf'];

/** Characters of a cell's figure (the terminal's cells are 5–8). */
export const CELL_CHARS = 6;

/**
 * `x` in at most `width` characters with up to 3 decimals, then k/M/G, then `#`s
 * (src/tui/format.ts fitNumber). `-0.000` becomes `0.000`.
 */
export function fitNumber(x, width) {
  if (!Number.isFinite(x)) return fill(Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf', width);
  for (let d = 3; d >= 0; d--) {
    let s = x.toFixed(d);
    if (/^-0\.?0*$/.test(s)) s = s.slice(1);
    if (s.length <= width) return s;
  }
  const abs = Math.abs(x);
  for (const [div, suffix] of [[1e3, 'k'], [1e6, 'M'], [1e9, 'G']]) {
    if (abs < div) continue;
    for (let d = 1; d >= 0; d--) {
      const s = `${(x / div).toFixed(d)}${suffix}`;
      if (s.length <= width) return s;
    }
  }
  return '#'.repeat(Math.max(0, width));
}

function fill(s, width) {
  return s.length <= width ? s : '#'.repeat(width);
}

/** An age in µs as `0.4s`, `12s`, `3m`, `2h`, `5d`. */
export function formatAge(ageUs) {
  const s = Math.max(0, ageUs) / 1e6;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.min(999, Math.floor(s / 86400))}d`;
}

/** The figure of a tile in a mode (`nowUs`: engine time, for ages). */
export function cellText(tile, mode, nowUs) {
  switch (mode) {
    case 'value':
      return fitNumber(tile.value, CELL_CHARS);
    case 'age':
      return nowUs === undefined ? '?' : fill(formatAge(nowUs - tile.ts_us), CELL_CHARS);
    case 'conf':
      return fill(`${Math.round(tile.confidence * 100)}%`, CELL_CHARS);
    default:
      return tile.score === null ? '-' : fitNumber(tile.score, CELL_CHARS);
  }
}

const NY_TIME = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' });
const NY_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Engine time (µs) as New York wall time `HH:MM:SS.mmm`, optionally with the date. */
export function formatEngineTime(us, withDate = false) {
  const d = new Date(Math.floor(us / 1000));
  const ms = String(Math.floor(us / 1000) % 1000).padStart(3, '0');
  const time = `${NY_TIME.format(d).replace(/^24/, '00')}.${ms}`;
  return withDate ? `${NY_DATE.format(d)} ${time}` : time;
}

/**
 * Diverging palette, cool → warm: the terminal's xterm-256 colours (25 32 74 117 254 222 215 202
 * 160) as RGB, with the text colour that stays legible on each.
 */
export const DIVERGING = [
  ['#005faf', '#fff'], ['#0087d7', '#fff'], ['#5fafd7', '#000'], ['#87d7ff', '#000'], ['#e4e4e4', '#000'],
  ['#ffd787', '#000'], ['#ffaf5f', '#000'], ['#ff5f00', '#000'], ['#d70000', '#fff'],
];

/** Sequential palette (viridis), worst → best: ages (old → fresh) and confidences (low → high). */
export const SEQUENTIAL = [
  ['#440154', '#fff'], ['#472d7b', '#fff'], ['#3b528b', '#fff'], ['#2c728e', '#fff'], ['#21918c', '#fff'],
  ['#28ae80', '#000'], ['#5ec962', '#000'], ['#addc30', '#000'], ['#fde725', '#000'],
];

/** Fixed score domains per strategy (src/tui/color-scale.ts): a colour always means the same score. */
const SCORE_SCALES = {
  single: { lo: 0, mid: 30, hi: 60, unit: 'bp of spot' },
  vertical: { lo: 0, mid: 0.5, hi: 1, unit: 'value/width' },
  fly: { lo: -0.2, mid: 0, hi: 0.4, unit: 'value/width' },
};
const CUSTOM_SCALE = { lo: -0.25, mid: 0, hi: 0.25, unit: 'value/span' };

/**
 * The colour scale of a mode: `{ lo, mid, hi, unit, palette }`.
 * - score: the terminal's fixed per-strategy domain (diverging);
 * - value: the range of the values on screen (`values`), centred on 0 when it spans 0 (diverging);
 * - age: fresh (0) → stale (`staleUs`), sequential, fresh brightest;
 * - conf: 50 % → 100 %, sequential.
 */
export function scaleOf(mode, strategy, values, staleUs) {
  if (mode === 'age') return { lo: staleUs / 1e6, mid: staleUs / 2e6, hi: 0, unit: 's old', palette: SEQUENTIAL };
  if (mode === 'conf') return { lo: 50, mid: 75, hi: 100, unit: '% confidence', palette: SEQUENTIAL };
  if (mode === 'value') {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo > hi) [lo, hi] = [0, 1];
    return { lo, mid: lo < 0 && hi > 0 ? 0 : (lo + hi) / 2, hi, unit: 'value', palette: DIVERGING };
  }
  return { ...(SCORE_SCALES[strategy] ?? CUSTOM_SCALE), palette: DIVERGING };
}

/** Palette index of `x` on a scale (two slopes around `mid`, clamped; `lo` may be above `hi`). */
export function colorIndex(x, scale) {
  const n = scale.palette.length - 1;
  if (!Number.isFinite(x)) return x > 0 === scale.hi >= scale.lo ? n : 0;
  const up = scale.hi >= scale.lo ? 1 : -1;
  let t;
  if ((x - scale.mid) * up >= 0) t = scale.hi !== scale.mid ? (x - scale.mid) / (scale.hi - scale.mid) : 1;
  else t = scale.mid !== scale.lo ? (x - scale.mid) / (scale.mid - scale.lo) : -1;
  t = Math.max(-1, Math.min(1, t));
  return Math.round(n / 2 + (t * n) / 2);
}

/** The number a tile is coloured by in a mode (undefined: no colour). */
export function colorValue(tile, mode, nowUs) {
  if (mode === 'value') return tile.value;
  if (mode === 'age') return nowUs === undefined ? undefined : Math.max(0, nowUs - tile.ts_us) / 1e6;
  if (mode === 'conf') return tile.confidence * 100;
  return tile.score ?? undefined;
}
