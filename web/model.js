/**
 * Where each tile sits in the web grid: the terminal view's grid model (src/tui/grid-model.ts and
 * layout.ts), in plain JS. Columns are strikes; rows depend on the strategy:
 * - `fly`: rows are widths of the selected expiration, the column is the body strike;
 * - `vertical`: rows are widths of the selected expiration, the column is the long strike K;
 * - `single` and custom structures: a row per right and expiration (strike × expiration view); a
 *   custom structure's column is the leg with the largest |ratio| (ties: the lower strike).
 * Also: the spot implied by the `single` scores (the stream carries no index value). Pure.
 */

/** `width` rows (one expiration at a time) or `right` rows (every expiration). */
export function rowAxisOf(strategy) {
  return strategy === 'fly' || strategy === 'vertical' ? 'width' : 'right';
}

/** `ROOT EXPIRATION`: the expiry selector's key. */
export function seriesKeyOf(t) {
  return `${t.root} ${t.expiration}`;
}

/** Column strike and row width of a tile. */
export function placeTile(t) {
  const k = t.strikes;
  switch (t.strategy) {
    case 'fly':
      return { strike: k[1], width: k[1] - k[0] };
    case 'vertical':
      return { strike: t.right === 'C' ? k[0] : k[1], width: k[1] - k[0] };
    case 'single':
      return { strike: k[0], width: null };
    default: {
      let body = 0;
      t.legs.forEach((leg, i) => {
        if (Math.abs(leg.ratio) > Math.abs(t.legs[body].ratio)) body = i;
      });
      return { strike: k[body] ?? k[0], width: null };
    }
  }
}

/** Every series that has tiles, by expiration then root. */
export function listSeries(tiles) {
  const seen = new Map();
  for (const t of tiles) {
    const key = seriesKeyOf(t);
    if (!seen.has(key)) seen.set(key, { root: t.root, expiration: t.expiration, key });
  }
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  return [...seen.values()].sort((a, b) => cmp(a.expiration, b.expiration) || cmp(a.root, b.root));
}

/** A strike as in tile keys: `5900`, `592.5`. */
export function formatStrike(k) {
  return String(Math.round(k * 1000) / 1000);
}

/**
 * The grid of one strategy's tiles (a Map key → tile) for the selected series (`seriesKey`; the
 * first when absent or unknown). `rights` is `both` (calls first), `C` or `P`.
 * Returns { axis, series, allSeries, strikes, rows: [{series, right, width, label, block}], cell(row, strike) }.
 */
export function buildGrid(strategy, tiles, seriesKey, rights = 'both') {
  const axis = rowAxisOf(strategy);
  const allSeries = listSeries(tiles.values());
  const series = allSeries.find((s) => s.key === seriesKey) ?? allSeries[0];
  const shown = rights === 'both' ? ['C', 'P'] : [rights];
  const cells = new Map();
  const strikes = new Set();
  const widths = { C: new Set(), P: new Set() };
  const has = new Set(strategy === 'single' ? ['C', 'P'] : []);
  const cellKey = (s, right, width, strike) => `${s}|${right}|${width ?? ''}|${strike}`;
  for (const t of tiles.values()) {
    has.add(t.right);
    const key = seriesKeyOf(t);
    if ((axis === 'width' && key !== series?.key) || !shown.includes(t.right)) continue;
    const { strike, width } = placeTile(t);
    strikes.add(strike);
    if (width !== null) widths[t.right].add(width);
    cells.set(cellKey(key, t.right, width, strike), t);
  }
  const rows = [];
  if (series && axis === 'width') {
    const digits = Math.max(1, ...[...widths.C, ...widths.P].map((w) => formatStrike(w).length));
    shown.forEach((right, block) => {
      for (const width of [...widths[right]].sort((a, b) => a - b)) {
        rows.push({ series: series.key, right, width, block, label: `${right} ${formatStrike(width).padStart(digits)}` });
      }
    });
  } else if (series) {
    const multiRoot = new Set(allSeries.map((s) => s.root)).size > 1;
    allSeries.forEach((s, block) => {
      for (const right of shown.filter((r) => has.has(r))) {
        rows.push({ series: s.key, right, width: null, block, label: `${multiRoot ? `${s.root} ` : ''}${right} ${s.expiration.slice(5)}` });
      }
    });
  }
  return {
    axis,
    series,
    allSeries,
    strikes: [...strikes].sort((a, b) => a - b),
    rows,
    cell: (row, strike) => cells.get(cellKey(row.series, row.right, row.width, strike)),
  };
}

/** The strike nearest `spot` (ties: the lower strike); undefined without spot or strikes. */
export function nearestStrike(strikes, spot) {
  if (spot === undefined || strikes.length === 0) return undefined;
  let best = strikes[0];
  for (const k of strikes) if (Math.abs(k - spot) < Math.abs(best - spot)) best = k;
  return best;
}

/**
 * The spot implied by the `single` tiles. A single's score is its time value in bp of spot,
 * `(value − intrinsic) / S × 10 000` (README, score formulas), and every single tile of a version
 * is scored with the same spot (a spot change re-scores them all). For an out-of-the-money tile
 * that gives S = value × 10 000 / score; in the money, S = (value + K) / (1 + score/10 000) for a
 * call and (K − value) / (1 − score/10 000) for a put. Each tile yields the candidate that agrees
 * with its own moneyness; the result is their median, or undefined without scored singles.
 */
export function impliedSpot(singleTiles) {
  const found = [];
  for (const t of singleTiles) {
    if (t.score === null || t.strikes.length !== 1 || !(t.value > 0)) continue;
    const k = t.strikes[0];
    const s = t.score / 10_000;
    const otm = s > 0 ? t.value / s : NaN;
    const itm = t.right === 'C' ? (t.value + k) / (1 + s) : (k - t.value) / (1 - s);
    if (Number.isFinite(otm) && (t.right === 'C' ? otm <= k : otm >= k)) found.push(otm);
    else if (Number.isFinite(itm) && itm > 0 && (t.right === 'C' ? itm > k : itm < k)) found.push(itm);
  }
  if (found.length === 0) return undefined;
  found.sort((a, b) => a - b);
  const mid = found.length >> 1;
  return found.length % 2 ? found[mid] : (found[mid - 1] + found[mid]) / 2;
}
