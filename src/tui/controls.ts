import type { Right } from '../engine/types.js';
import { SHOW_MODES, type ShowMode } from './format.js';

/**
 * Keys → actions → next UI state, as pure functions (`(state, action) → state`). The Ink app only
 * wires them to `useInput`, the pacer and the quit path.
 */

/** What the user has selected. */
export interface UiState {
  readonly strategyIndex: number;
  /** Selected series key (`ROOT EXPIRATION`); undefined = the first one. */
  readonly series: string | undefined;
  readonly mode: ShowMode;
  /** Which right's block comes first (and alone when both do not fit). */
  readonly right: Right;
}

export const INITIAL_UI: UiState = { strategyIndex: 0, series: undefined, mode: 'score', right: 'C' };

export type UiAction =
  | { readonly type: 'strategy'; readonly delta: 1 | -1 }
  | { readonly type: 'series'; readonly delta: 1 | -1 }
  | { readonly type: 'speed'; readonly delta: 1 | -1 }
  | { readonly type: 'pause' }
  | { readonly type: 'mode' }
  | { readonly type: 'right' }
  | { readonly type: 'quit' };

/** The subset of Ink's `Key` the bindings read. */
export interface KeyFlags {
  readonly leftArrow?: boolean;
  readonly rightArrow?: boolean;
  readonly upArrow?: boolean;
  readonly downArrow?: boolean;
  readonly tab?: boolean;
  readonly shift?: boolean;
  readonly ctrl?: boolean;
}

/** Maps a key press (Ink's `useInput` arguments) to an action, or undefined for unbound keys. */
export function keyToAction(input: string, key: KeyFlags): UiAction | undefined {
  if (key.ctrl && input === 'c') return { type: 'quit' };
  if (key.tab) return { type: 'strategy', delta: key.shift ? -1 : 1 };
  if (key.rightArrow) return { type: 'strategy', delta: 1 };
  if (key.leftArrow) return { type: 'strategy', delta: -1 };
  // ↑ goes to the earlier expiration (the list reads top-down, nearest first)
  if (key.upArrow) return { type: 'series', delta: -1 };
  if (key.downArrow) return { type: 'series', delta: 1 };
  if (key.ctrl) return undefined;
  switch (input) {
    case '+':
    case '=':
      return { type: 'speed', delta: 1 };
    case '-':
    case '_':
    case '−':
      return { type: 'speed', delta: -1 };
    case ' ':
      return { type: 'pause' };
    case 'v':
      return { type: 'mode' };
    case 'r':
      return { type: 'right' };
    case 'q':
    case 'Q':
      return { type: 'quit' };
    default:
      return undefined;
  }
}

/**
 * Like `keyToAction` for everything one `useInput` call can carry: keys typed faster than the
 * terminal is read (or pasted) arrive as one string, e.g. `"++ "`, and each character counts.
 */
export function keysToActions(input: string, key: KeyFlags): UiAction[] {
  const isPlainRun = input.length > 1 && !key.ctrl && !key.tab && !key.leftArrow && !key.rightArrow && !key.upArrow && !key.downArrow;
  const parts = isPlainRun ? [...input] : [input];
  return parts.map((ch) => keyToAction(ch, isPlainRun ? {} : key)).filter((a): a is UiAction => a !== undefined);
}

const wrap = (i: number, n: number): number => (n <= 0 ? 0 : ((i % n) + n) % n);

/**
 * The next UI state. `seriesKeys` are the selected strategy's series (for ↑/↓); speed, pause and
 * quit do not change the UI state (they act on the pacer and the app).
 */
export function applyUiAction(s: UiState, a: UiAction, strategyCount: number, seriesKeys: readonly string[]): UiState {
  switch (a.type) {
    case 'strategy':
      // the series stays selected when the next strategy has it (same expiration across strategies)
      return { ...s, strategyIndex: wrap(s.strategyIndex + a.delta, strategyCount) };
    case 'series': {
      if (seriesKeys.length === 0) return s;
      const at = s.series === undefined ? 0 : Math.max(0, seriesKeys.indexOf(s.series));
      return { ...s, series: seriesKeys[wrap(at + a.delta, seriesKeys.length)] };
    }
    case 'mode':
      return { ...s, mode: SHOW_MODES[wrap(SHOW_MODES.indexOf(s.mode) + 1, SHOW_MODES.length)]! };
    case 'right':
      return { ...s, right: s.right === 'C' ? 'P' : 'C' };
    default:
      return s;
  }
}

/** Speed steps of `+`/`-`; `max` is above the last. */
export const SPEED_STEPS: readonly number[] = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** The next speed step up (`delta` 1) or down (-1) from `speed`, which need not be a step. */
export function nextSpeed(speed: number | 'max', delta: 1 | -1): number | 'max' {
  if (delta > 0) {
    if (speed === 'max') return 'max';
    return SPEED_STEPS.find((s) => s > speed) ?? 'max';
  }
  if (speed === 'max') return SPEED_STEPS[SPEED_STEPS.length - 1]!;
  return [...SPEED_STEPS].reverse().find((s) => s < speed) ?? SPEED_STEPS[0]!;
}
