/**
 * The web heatmap (served at `GET /` by every SSE server): the page's state, its streams and its
 * controls. Rendering is view.js; folding fold.js; the grid's geometry model.js.
 *
 * Streams: the selected strategy's, plus `single`'s (its scores imply the spot, see model.js), so
 * at most two connections whatever the number of strategies; switching back to a strategy
 * resumes from the version it holds. Events only fold into state and mark the page dirty; the DOM
 * is updated once per animation frame.
 *
 * URL parameters: `strategy`, `series` (`ROOT YYYY-MM-DD`), `mode` (score|value|age|conf),
 * `right` (both|C|P), `stale_s` (default 60), `low_conf` (default 0.8).
 *
 * For tests and benchmarks, `window.heatmapState` reads the folded state and drives the page
 * (documented in the README, "The web view").
 */
import { StrategyStream } from './stream.js';
import { MODES, formatEngineTime } from './format.js';
import { createView } from './view.js';

const params = new URLSearchParams(location.search);
const positive = (text, fallback) => (Number(text) > 0 ? Number(text) : fallback);
const RIGHTS = ['both', 'C', 'P'];
/**
 * Tiles under this confidence are greyed (in italics), unless `?low_conf=` says otherwise: the
 * terminal view's LOW_CONFIDENCE (src/tui/grid-lines.ts), so both views grey the same tiles.
 */
const LOW_CONFIDENCE = 0.8;

/** What the user selected and what the page knows; view.js reads it. */
const ui = {
  strategies: [],
  selected: params.get('strategy') ?? undefined,
  series: params.get('series') ?? undefined,
  mode: MODES.includes(params.get('mode')) ? params.get('mode') : 'score',
  right: RIGHTS.includes(params.get('right')) ? params.get('right') : 'both',
  hover: undefined,
  pinned: undefined,
  /** The replay behind the server has ended (GET /sse/heatmap `final`). */
  final: false,
  listError: undefined,
  staleUs: positive(params.get('stale_s'), 60) * 1e6,
  lowConf: positive(params.get('low_conf'), LOW_CONFIDENCE),
};
const streams = new Map();
const notices = [];
const perf = { events: 0, renders: 0, backlog: 0, maxBacklog: 0, renderMs: [] };

const view = createView({ ui, streams, notices, actions: { select, setSeries, setMode, setRight, cycle, refresh: invalidate } });

let isDirty = true;
let isFrameAsked = false;

/** Marks the page for the next animation frame (never renders now). */
function invalidate() {
  isDirty = true;
  if (isFrameAsked) return;
  isFrameAsked = true;
  requestAnimationFrame(frame);
}

function frame() {
  isFrameAsked = false;
  if (!isDirty) return;
  isDirty = false;
  const t0 = performance.now();
  view.render();
  perf.renders++;
  perf.maxBacklog = Math.max(perf.maxBacklog, perf.backlog);
  perf.backlog = 0;
  perf.renderMs.push(performance.now() - t0);
  if (perf.renderMs.length > 5000) perf.renderMs.splice(0, 2500);
}

const handlers = {
  change() {
    perf.events++;
    perf.backlog++;
    invalidate();
  },
  state(stream) {
    if (stream.state === 'live' || stream.state === 'ended') void list();
    invalidate();
  },
  notice(kind, data, stream) {
    let d;
    try {
      d = JSON.parse(data);
    } catch {
      d = { message: data };
    }
    // gaps go to every strategy's stream: show each once
    const text = describe(kind, d, stream.name);
    if (kind === 'gap' && notices.slice(-20).some((n) => n.text === text)) return;
    notices.push({ kind, text, at: new Date().toLocaleTimeString() });
    if (notices.length > 200) notices.splice(0, 100);
    invalidate();
  },
};

function describe(kind, d, name) {
  const t = (us) => (typeof us === 'number' ? formatEngineTime(us) : '?');
  switch (kind) {
    case 'gap':
      return `gap: no ${d.stream} data ${t(d.from_us)} → ${t(d.to_us)} ET (${d.reason})`;
    case 'failed':
      return `${d.strategy ?? name} FAILED at ${t(d.at_us)} ET: ${d.message}`;
    case 'end':
      return `stream ended (${d.reason}) at ${d.strategy ?? name} v${d.version} — reconnects when the server is back`;
    case 'resync':
      return d.why === 'foreign'
        ? `${name}: v${d.got} is from another run (a restarted server?) — reloaded from a snapshot`
        : `${name}: a version was missing after v${d.held} — resynced`;
    default:
      return `${name}: ${d.message ?? kind}`;
  }
}

/** Reads the strategy list (GET /sse/heatmap); the first call creates the streams. */
async function list() {
  let body;
  try {
    const res = await fetch('sse/heatmap', { cache: 'no-store' });
    body = await res.json();
    ui.listError = undefined;
  } catch (err) {
    ui.listError = `cannot reach the server (${err.message}) — retrying`;
    if (streams.size === 0) setTimeout(list, 3000);
    return invalidate();
  }
  ui.final = body.final === true;
  if (streams.size === 0) {
    ui.strategies = body.strategies.map((s) => s.name);
    for (const s of body.strategies) streams.set(s.name, new StrategyStream(s.name, new URL(s.url.replace(/^\//, ''), document.baseURI).href, handlers));
    if (!ui.strategies.includes(ui.selected)) ui.selected = ui.strategies[0];
    subscribe();
  }
  invalidate();
}

/** Opens the streams the page needs (the selected strategy, `single` for the spot), closes the others. */
function subscribe() {
  for (const [name, s] of streams) {
    const isWanted = name === ui.selected || name === 'single';
    if (isWanted && s.state === 'idle') s.open();
    else if (!isWanted && s.state !== 'idle') s.close();
  }
}

function syncUrl() {
  const p = new URLSearchParams(location.search);
  const set = (k, v) => (v === undefined ? p.delete(k) : p.set(k, v));
  set('strategy', ui.selected);
  set('series', ui.series);
  set('mode', ui.mode === 'score' ? undefined : ui.mode);
  set('right', ui.right === 'both' ? undefined : ui.right);
  const q = p.toString();
  history.replaceState(null, '', q ? `?${q}` : location.pathname);
}

function select(name) {
  if (!streams.has(name) || name === ui.selected) return;
  ui.selected = name;
  ui.hover = ui.pinned = undefined;
  subscribe();
  syncUrl();
  invalidate();
}

function setSeries(key) {
  ui.series = key;
  ui.hover = ui.pinned = undefined;
  syncUrl();
  invalidate();
}

function setMode(mode) {
  if (!MODES.includes(mode)) return;
  ui.mode = mode;
  syncUrl();
  invalidate();
}

function setRight(right) {
  if (!RIGHTS.includes(right)) return;
  ui.right = right;
  syncUrl();
  invalidate();
}

const wrap = (i, n) => ((i % n) + n) % n;

/** Keyboard steps, as in the terminal view: strategy, expiry, mode, right. */
function cycle(what, delta) {
  if (what === 'strategy' && ui.strategies.length > 0) select(ui.strategies[wrap(ui.strategies.indexOf(ui.selected) + delta, ui.strategies.length)]);
  if (what === 'series') {
    const keys = view.seriesKeys();
    if (keys.length > 0) setSeries(keys[wrap(Math.max(0, keys.indexOf(ui.series ?? keys[0])) + delta, keys.length)]);
  }
  if (what === 'mode') setMode(MODES[wrap(MODES.indexOf(ui.mode) + delta, MODES.length)]);
  if (what === 'right') setRight(RIGHTS[wrap(RIGHTS.indexOf(ui.right) + delta, RIGHTS.length)]);
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/**
 * The test and benchmark hook: read-only views of the folded state (tiles as format 1 objects),
 * the streams' counters, notices and render statistics, plus the user's actions.
 */
window.heatmapState = Object.freeze({
  strategies: () => [...ui.strategies],
  view: () => ({ strategy: ui.selected, series: view.seriesKey(), mode: ui.mode, right: ui.right, ...view.marks() }),
  fold: (name) => {
    const f = streams.get(name)?.fold;
    return f && { version: f.version, at_us: f.at_us, hash: f.hash, errors: f.errors, tiles: f.sortedTiles() };
  },
  stream: (name) => {
    const s = streams.get(name);
    return s && { state: s.state, opens: s.opens, errors: s.errors, snapshots: s.snapshots, diffs: s.diffs, resyncs: s.resyncs, log: s.log.slice() };
  },
  notices: () => notices.map((n) => ({ ...n })),
  perf: () => ({
    events: perf.events,
    renders: perf.renders,
    max_backlog: perf.maxBacklog,
    render_ms: { p50: quantile(perf.renderMs, 0.5), p95: quantile(perf.renderMs, 0.95), max: Math.max(0, ...perf.renderMs) },
  }),
  /** Resolves after the next rendered frame. */
  frame: () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(perf.renders)))),
  select,
  setSeries,
  setMode,
  setRight,
});

setInterval(invalidate, 1000); // the "updated … ago" clock
// the listing says when the replay behind the server has ended ("replay finished")
setInterval(() => {
  if (!ui.final && streams.size > 0) void list();
}, 5000);
void list();
