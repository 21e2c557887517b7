/**
 * Text formatting for the terminal heatmap: numbers squeezed into fixed-width cells, ages, engine
 * time in New York, replay speed. Pure functions, no colour (colour is `color-scale.ts`).
 */

/** What a cell shows; colour is always the score. */
export type ShowMode = 'score' | 'value' | 'age' | 'conf';

/** The modes in the order `v` cycles through them. */
export const SHOW_MODES: readonly ShowMode[] = ['score', 'value', 'age', 'conf'];

/**
 * Formats `x` in at most `width` characters with as many decimals (up to 3) as fit, falling back
 * to k/M suffixes, and to `#` signs when even that does not fit. `-0.000` becomes `0.000`.
 */
export function fitNumber(x: number, width: number): string {
  if (!Number.isFinite(x)) return fill(Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf', width);
  for (let d = 3; d >= 0; d--) {
    let s = x.toFixed(d);
    if (/^-0\.?0*$/.test(s)) s = s.slice(1);
    if (s.length <= width) return s;
  }
  const abs = Math.abs(x);
  for (const [div, suffix] of [
    [1e3, 'k'],
    [1e6, 'M'],
    [1e9, 'G'],
  ] as const) {
    if (abs < div) continue;
    for (let d = 1; d >= 0; d--) {
      const s = `${(x / div).toFixed(d)}${suffix}`;
      if (s.length <= width) return s;
    }
  }
  return '#'.repeat(Math.max(0, width));
}

function fill(s: string, width: number): string {
  return s.length <= width ? s : '#'.repeat(width);
}

/** An age in µs as `0.4s`, `12s`, `3m`, `2h`, `5d` (at most 4 characters). */
export function formatAge(ageUs: number): string {
  const s = Math.max(0, ageUs) / 1e6;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.min(999, Math.floor(s / 86400))}d`;
}

/** A strike as a plain decimal (`5900`, `592.5`), as in tile keys. */
export function formatStrikeLabel(k: number): string {
  return String(Math.round(k * 1000) / 1000);
}

/** The figure a cell shows for a tile in one mode (no padding, at most `width` characters). */
export function formatCellText(
  tile: { readonly value: number; readonly score: number | null; readonly ts_us: number; readonly confidence: number },
  mode: ShowMode,
  nowUs: number | undefined,
  width: number,
): string {
  switch (mode) {
    case 'score':
      return tile.score === null ? '-' : fitNumber(tile.score, width);
    case 'value':
      return fitNumber(tile.value, width);
    case 'age':
      return nowUs === undefined ? '?' : fill(formatAge(nowUs - tile.ts_us), width);
    case 'conf':
      return fill(`${Math.round(tile.confidence * 100)}%`, width);
  }
}

const NY_TIME = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hour12: false,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

const NY_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Engine time (µs since the epoch) as New York wall time `HH:MM:SS.mmm`, optionally with the date. */
export function formatEngineTime(us: number, withDate = false): string {
  const d = new Date(Math.floor(us / 1000));
  const ms = String(Math.floor(us / 1000) % 1000).padStart(3, '0');
  // Some ICU versions print midnight as 24:…; normalise.
  const time = `${NY_TIME.format(d).replace(/^24/, '00')}.${ms}`;
  return withDate ? `${NY_DATE.format(d)} ${time}` : time;
}

/** Replay speed as shown in the header: `1x`, `0.5x`, `max`. */
export function formatSpeed(speed: number | 'max'): string {
  return speed === 'max' ? 'max' : `${formatStrikeLabel(speed)}x`;
}

/** A rate with a sensible number of digits: `0`, `3.2`, `45`, `1,234`. */
export function formatRate(perSecond: number): string {
  if (perSecond <= 0 || !Number.isFinite(perSecond)) return '0';
  if (perSecond < 10) return perSecond.toFixed(1);
  return Math.round(perSecond).toLocaleString('en-US');
}
