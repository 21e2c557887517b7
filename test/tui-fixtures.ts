/**
 * Hand-made published versions for the terminal UI tests: plain data in the shape of the NDJSON
 * stream (DESIGN §3), with values from simple closed formulas so the expected cells are known.
 */
import type { PublishedTile, Right, VersionRecord } from '../src/engine/types.js';

/** 2025-11-21T14:30:00Z = 09:30:00 New York. */
export const T0 = 1_763_735_400_000_000;
export const EXP = '2025-11-21';
export const EXP2 = '2025-11-24';
export const SEC = 1_000_000;

const ticker = (root: string, exp: string, right: Right, k: number): string =>
  `O:${root}${exp.slice(2, 4)}${exp.slice(5, 7)}${exp.slice(8, 10)}${right}${String(Math.round(k * 1000)).padStart(8, '0')}`;

/** A published tile with the given strikes and ratios (legs priced so that Σ ratio × price = value). */
export function tile(
  strategy: string,
  right: Right,
  strikes: readonly number[],
  ratios: readonly number[],
  value: number,
  score: number | null,
  opts: { root?: string; expiration?: string; ts_us?: number; confidence?: number } = {},
): PublishedTile {
  const root = opts.root ?? 'SPXW';
  const expiration = opts.expiration ?? EXP;
  const ts_us = opts.ts_us ?? T0;
  return {
    key: `${root}:${expiration}:${strategy}:${right}:${strikes.join('/')}`,
    root,
    expiration,
    strategy,
    right,
    strikes,
    legs: strikes.map((k, i) => ({ ticker: ticker(root, expiration, right, k), ratio: ratios[i]!, price: i === 0 ? value : 0, ts_us, source: 'ws' as const })),
    value,
    score,
    ts_us,
    confidence: opts.confidence ?? 1,
    source: 'ws',
  };
}

/** A fly's value in the fixtures: a bump centred on 5900, scaled by width (score = value / w). */
export function flyValue(body: number, w: number): number {
  return Math.round(w * 0.3 * Math.exp(-(((body - 5900) / 30) ** 2)) * 100) / 100;
}

/** Fly tiles for bodies 5850…5950 step 5, widths 5/10/20, calls and puts. */
export function flyTiles(opts: { expiration?: string; ts_us?: number } = {}): PublishedTile[] {
  const out: PublishedTile[] = [];
  for (const right of ['C', 'P'] as const) {
    for (let k = 5850; k <= 5950; k += 5) {
      for (const w of [5, 10, 20]) {
        const v = flyValue(k, w);
        out.push(tile('fly', right, [k - w, k, k + w], [1, -2, 1], v, v / w, opts));
      }
    }
  }
  return out;
}

/** Call and put verticals, long strike K in 5850…5950, widths 5/10 (score = value / w). */
export function verticalTiles(): PublishedTile[] {
  const out: PublishedTile[] = [];
  for (let k = 5850; k <= 5950; k += 5) {
    for (const w of [5, 10]) {
      const pc = Math.round(w * Math.min(1, Math.max(0, (5950 - k) / 100)) * 100) / 100;
      out.push(tile('vertical', 'C', [k, k + w], [1, -1], pc, pc / w));
      const pp = Math.round(w * Math.min(1, Math.max(0, (k - 5850) / 100)) * 100) / 100;
      out.push(tile('vertical', 'P', [k - w, k], [-1, 1], pp, pp / w));
    }
  }
  return out;
}

/** Singles at 5850…5950 for calls and puts; score = strike − 5800 (easy to recognise). */
export function singleTiles(): PublishedTile[] {
  const out: PublishedTile[] = [];
  for (const right of ['C', 'P'] as const) {
    for (let k = 5850; k <= 5950; k += 5) out.push(tile('single', right, [k], [1], Math.abs(k - 5900) + 10, k - 5800));
  }
  return out;
}

/** A version record carrying `upserts` (sorted by key, as the publisher does) and `removes`. */
export function version(strategy: string, n: number, upserts: readonly PublishedTile[], removes: readonly string[] = [], at_us = T0 + n * SEC): VersionRecord {
  return {
    type: 'version',
    strategy,
    version: n,
    at_us,
    reasons: n === 1 ? ['structural'] : ['value'],
    prev_hash: n === 1 ? '' : `h${n - 1}`,
    hash: `h${n}`,
    upserts: [...upserts].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    removes,
    stats: { slots: upserts.length, populated: upserts.length, changed: upserts.length },
  };
}

/** Strips ANSI escapes (frames are asserted on as text). */
export function plain(s: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (s ?? '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}
