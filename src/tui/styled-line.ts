import type { ChalkInstance } from 'chalk';

/**
 * Building one terminal line from styled pieces with as few escape sequences as possible.
 *
 * Why: Ink re-tokenizes every line it draws, one grapheme at a time, escape characters included.
 * A heatmap cell painted naively by chalk carries ~30 characters of SGR codes around 5 visible
 * ones, so the codes, not the text, set the CPU cost of a frame. Here neighbouring pieces with
 * the same style share one open/close pair, and adjacent SGR sequences are merged into one
 * (`ESC[48;5;117m ESC[38;5;16m` → `ESC[48;5;117;38;5;16m`).
 */

/** The open and close codes chalk emits for one style (empty without colour support). */
export interface Style {
  readonly open: string;
  readonly close: string;
}

/** No styling. */
export const PLAIN: Style = { open: '', close: '' };

const SENTINEL = '\u0000';
const cache = new WeakMap<ChalkInstance, Map<string, Style>>();

/**
 * The codes of a chalk style, taken from what chalk paints around a sentinel character, so that
 * chalk's colour level (none, 16, 256, truecolor) decides them. Cached per chalk and `id`.
 */
export function styleOf(c: ChalkInstance, id: string, paint: (s: string) => string): Style {
  let styles = cache.get(c);
  if (!styles) cache.set(c, (styles = new Map()));
  let s = styles.get(id);
  if (!s) {
    const [open = '', close = ''] = paint(SENTINEL).split(SENTINEL);
    s = { open, close };
    styles.set(id, s);
  }
  return s;
}

const ADJACENT_SGR = /\x1b\[([0-9;]*)m\x1b\[([0-9;]*)m/g;

/** Merges runs of adjacent SGR sequences into single sequences. */
export function mergeSgr(s: string): string {
  let prev: string;
  let out = s;
  do {
    prev = out;
    out = out.replace(ADJACENT_SGR, '\x1b[$1;$2m');
  } while (out !== prev);
  return out;
}

/** Accumulates styled pieces of one line; pieces in the same style share their codes. */
export class StyledLine {
  private out = '';
  private current: Style = PLAIN;
  private width = 0;

  /** Appends `text` (printable, one column per character) in `style`. */
  add(text: string, style: Style = PLAIN): this {
    if (style !== this.current) {
      this.out += this.current.close + style.open;
      this.current = style;
    }
    this.out += text;
    this.width += text.length;
    return this;
  }

  /** Visible width so far. */
  get length(): number {
    return this.width;
  }

  /** The finished line. */
  toString(): string {
    return mergeSgr(this.out + this.current.close);
  }
}
