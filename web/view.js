/**
 * The page's DOM: tabs, expiry selector, toggles, the info line, the status line, the strike grid,
 * the legend and the tile details. `render()` runs at most once per animation frame (app.js) and
 * writes only what changed: the table is rebuilt when its rows or strikes change, otherwise each
 * cell's text, colours and class are compared with what it shows. Text goes in via
 * `textContent` only (no HTML from the stream).
 */
import { buildGrid, formatStrike, impliedSpot, nearestStrike } from './model.js';
import { cellText, colorIndex, colorValue, fitNumber, formatAge, formatEngineTime, scaleOf } from './format.js';

/** Background of stale and low-confidence tiles (the terminal's grey 237); their hue goes to the text. */
const GREY = '#3a3a3a';

const $ = (id) => document.getElementById(id);

/** `h('td', { className: 'x' }, 'text', child)` */
function h(tag, props = {}, ...children) {
  const el = Object.assign(document.createElement(tag), props);
  for (const c of children) el.append(c);
  return el;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export function createView({ ui, streams, notices, actions }) {
  const grid = $('grid');
  let gridSig = '';
  /** One entry per body cell: { td, row, strike, text, bg, fg, cls, key }. */
  let cells = [];
  let tabsSig = '';
  let seriesSig = '';
  let detailSig = '';
  let model = buildGrid('', new Map(), undefined);
  let spotMemo = { fold: undefined, revision: -1, spot: undefined };
  let marks = { spot: undefined, atm: undefined, nowUs: undefined };

  // --- controls -------------------------------------------------------------------------------
  $('tabs').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-strategy]');
    if (b) actions.select(b.dataset.strategy);
  });
  $('series').addEventListener('change', (e) => actions.setSeries(e.target.value));
  $('rights').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-right]');
    if (b) actions.setRight(b.dataset.right);
  });
  $('modes').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-mode]');
    if (b) actions.setMode(b.dataset.mode);
  });
  grid.addEventListener('mouseover', (e) => {
    const key = e.target.closest('td')?.dataset.key;
    if (key !== ui.hover) {
      ui.hover = key;
      actions.refresh();
    }
  });
  grid.addEventListener('mouseleave', () => {
    ui.hover = undefined;
    actions.refresh();
  });
  grid.addEventListener('click', (e) => {
    const key = e.target.closest('td')?.dataset.key;
    ui.pinned = key === undefined || key === ui.pinned ? undefined : key; // tap pins, tap again unpins
    actions.refresh();
  });
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey || e.altKey) return;
    const step = { ArrowRight: ['strategy', 1], ArrowLeft: ['strategy', -1], ArrowDown: ['series', 1], ArrowUp: ['series', -1], v: ['mode', 1], r: ['right', 1] }[e.key];
    if (step) {
      e.preventDefault();
      actions.cycle(...step);
    } else if (e.key === 'Escape') {
      ui.pinned = undefined;
      actions.refresh();
    }
  });

  // --- pieces -------------------------------------------------------------------------------
  function engineNow() {
    let now;
    for (const s of streams.values()) if (s.fold.at_us !== null && (now === undefined || s.fold.at_us > now)) now = s.fold.at_us;
    return now;
  }

  function spotNow() {
    const f = streams.get('single')?.fold;
    if (f && (f !== spotMemo.fold || f.revision !== spotMemo.revision)) spotMemo = { fold: f, revision: f.revision, spot: impliedSpot(f.tiles.values()) };
    return f ? spotMemo.spot : undefined;
  }

  function renderTabs() {
    const sig = `${ui.strategies.join(',')}|${ui.selected}`;
    if (sig === tabsSig) return;
    tabsSig = sig;
    const buttons = ui.strategies.map((name) => {
      const b = h('button', { type: 'button', role: 'tab', className: name === ui.selected ? 'on' : '', textContent: name, ariaSelected: String(name === ui.selected) });
      b.dataset.strategy = name;
      return b;
    });
    $('tabs').replaceChildren(...buttons);
  }

  function renderControls() {
    const sig = model.allSeries.map((s) => s.key).join(',') + `|${model.series?.key}`;
    if (sig !== seriesSig) {
      seriesSig = sig;
      const sel = $('series');
      sel.replaceChildren(...model.allSeries.map((s) => h('option', { value: s.key, textContent: s.key, selected: s.key === model.series?.key })));
      sel.disabled = model.allSeries.length < 2;
    }
    for (const b of $('rights').querySelectorAll('button')) b.ariaPressed = String(b.dataset.right === ui.right);
    for (const b of $('modes').querySelectorAll('button')) b.ariaPressed = String(b.dataset.mode === ui.mode);
  }

  function renderInfo(stream, nowUs) {
    const fold = stream?.fold;
    const state = stream?.state ?? 'connecting';
    const conn = ui.listError ?? (state === 'reconnecting' && fold?.hasState ? `reconnecting… (resumes after v${fold.version})` : state === 'ended' ? 'ended — waiting for the server' : state);
    setText($('conn'), conn);
    $('conn').className = `conn ${ui.listError ? 'down' : state}`;
    setText($('final'), ui.final ? 'replay finished' : '');
    setText($('version'), fold?.hasState ? `v${fold.version}` : 'v–');
    setText($('clock'), fold?.at_us ? `${formatEngineTime(fold.at_us, true)} ET` : '--:--:-- ET');
    const lagUs = nowUs === undefined ? undefined : Date.now() * 1000 - nowUs;
    // only meaningful when the engine follows the wall clock (live); a replay's clock is in the past
    setText($('lag'), lagUs !== undefined && Math.abs(lagUs) < 3600e6 ? `lag ${Math.round(lagUs / 1000)} ms` : 'lag n/a');
    setText($('spot'), marks.spot !== undefined ? `spot ≈ ${marks.spot.toFixed(2)}` : 'spot n/a');
    setText($('count'), fold?.hasState ? `${fold.tiles.size} tiles` : '');
    const ago = stream?.lastEventMs === undefined ? undefined : (performance.now() - stream.lastEventMs) / 1000;
    setText($('updated'), ago === undefined ? '' : `updated ${ago < 10 ? ago.toFixed(1) : Math.round(ago)} s ago`);
  }

  function renderStatus() {
    const last = notices.at(-1);
    const el = $('status');
    setText(el, last ? `${last.at}  ${last.text}${notices.length > 1 ? `  (${notices.length} notices)` : ''}` : '');
    el.className = last ? `status ${last.kind}` : 'status';
    el.title = notices.map((n) => `${n.at}  ${n.text}`).join('\n');
  }

  function rebuildGrid() {
    const head = h('tr', {}, h('th', { className: 'corner', textContent: model.axis === 'width' ? 'w\\K' : 'K' }));
    for (const k of model.strikes) head.append(h('th', { scope: 'col', className: k === marks.atm ? 'atm' : '', textContent: formatStrike(k) }));
    const body = [];
    cells = [];
    let block;
    for (const row of model.rows) {
      if (block !== undefined && row.block !== block) body.push(h('tr', { className: 'gap' }, h('td', { colSpan: model.strikes.length + 1 })));
      block = row.block;
      const isSel = model.axis === 'right' && model.allSeries.length > 1 && row.series === model.series?.key;
      const tr = h('tr', {}, h('th', { scope: 'row', className: isSel ? 'sel' : '', textContent: row.label }));
      for (const strike of model.strikes) {
        const td = h('td');
        td.dataset.strike = formatStrike(strike);
        tr.append(td);
        cells.push({ td, row, strike, text: undefined, bg: undefined, fg: undefined, cls: undefined, key: undefined });
      }
      body.push(tr);
    }
    grid.tHead.replaceChildren(head);
    grid.tBodies[0].replaceChildren(...body);
    // like the terminal's strike window: the ATM column in the middle of what is visible
    const atm = grid.tHead.querySelector('th.atm');
    const wrap = $('grid-wrap');
    if (atm && wrap.scrollWidth > wrap.clientWidth) {
      wrap.scrollLeft += atm.getBoundingClientRect().left - wrap.getBoundingClientRect().left - (wrap.clientWidth - atm.offsetWidth) / 2;
    }
    setText($('empty'), model.rows.length === 0 ? (streams.get(ui.selected)?.fold.hasState ? 'no tiles published yet' : 'waiting for the stream…') : '');
  }

  function renderGrid(nowUs) {
    const sig = [ui.selected, model.axis, model.series?.key, model.strikes.join(','), model.rows.map((r) => r.series + r.label).join(','), marks.atm].join('|');
    if (sig !== gridSig) {
      gridSig = sig;
      rebuildGrid();
    }
    const tiles = cells.map((c) => model.cell(c.row, c.strike));
    const values = ui.mode === 'value' ? tiles.filter(Boolean).map((t) => t.value) : [];
    const scale = scaleOf(ui.mode, ui.selected, values, ui.staleUs);
    const focus = ui.pinned ?? ui.hover;
    tiles.forEach((t, i) => {
      const c = cells[i];
      let text = '·';
      let bg = '';
      let fg = '';
      let cls = 'empty';
      if (t) {
        text = cellText(t, ui.mode, nowUs);
        const x = colorValue(t, ui.mode, nowUs);
        const p = x === undefined ? undefined : scale.palette[colorIndex(x, scale)];
        const isStale = nowUs !== undefined && nowUs - t.ts_us > ui.staleUs;
        const isLow = t.confidence < ui.lowConf;
        cls = isStale ? 'stale' : isLow ? 'low' : '';
        bg = isStale || isLow ? GREY : (p?.[0] ?? '');
        fg = isStale || isLow ? (p?.[0] ?? '') : (p?.[1] ?? '');
        if (t.key === focus) cls += ' focus';
      }
      if (c.strike === marks.atm) cls += ' atm';
      const key = t?.key;
      if (c.key !== key) {
        c.key = key;
        if (key === undefined) delete c.td.dataset.key;
        else c.td.dataset.key = key;
      }
      if (c.text !== text) c.td.textContent = c.text = text;
      if (c.bg !== bg) c.td.style.backgroundColor = c.bg = bg;
      if (c.fg !== fg) c.td.style.color = c.fg = fg;
      if (c.cls !== cls) c.td.className = c.cls = cls;
    });
    return scale;
  }

  function renderLegend(scale) {
    const sig = `${ui.mode}|${scale.lo}|${scale.mid}|${scale.hi}|${scale.unit}|${ui.staleUs}|${ui.lowConf}`;
    const el = $('legend');
    if (el.dataset.sig === sig) return;
    el.dataset.sig = sig;
    const fmt = (x) => {
      const s = fitNumber(x, 6);
      return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
    };
    const strip = h('span', { className: 'strip' }, ...scale.palette.map(([bg]) => {
      const sw = h('span', { className: 'swatch' });
      sw.style.backgroundColor = bg;
      return sw;
    }));
    const stale = h('span', { className: 'swatch grey' });
    stale.style.backgroundColor = GREY;
    el.replaceChildren(
      h('span', { className: 'what', textContent: ui.mode }),
      h('span', { textContent: fmt(scale.lo) }), strip, h('span', { textContent: fmt(scale.hi) }),
      h('span', { className: 'dim', textContent: `(mid ${fmt(scale.mid)} ${scale.unit})` }),
      h('span', { className: 'key' }, stale, ` stale (> ${ui.staleUs / 1e6} s) · `, h('i', { textContent: 'italic' }), ` confidence < ${Math.round(ui.lowConf * 100)} %`),
      h('span', { className: 'key' }, h('span', { className: 'atm-key', textContent: 'K' }), ' ATM strike (nearest the spot implied by the single scores)'),
      h('span', { className: 'dim', textContent: '←/→ strategy · ↑/↓ expiry · v mode · r calls/puts · tap a tile to pin' }),
    );
  }

  function renderDetail(nowUs) {
    const key = ui.pinned ?? ui.hover;
    const tile = key === undefined ? undefined : streams.get(ui.selected)?.fold.tiles.get(key);
    const sig = tile ? `${tile.key}|${tile.value}|${tile.score}|${tile.ts_us}|${tile.confidence}|${tile.legs.map((l) => l.price).join()}|${nowUs}|${ui.pinned}` : '';
    if (sig === detailSig) return;
    detailSig = sig;
    const el = $('detail');
    if (!tile) return el.replaceChildren(h('p', { className: 'hint', textContent: 'hover or tap a tile for its legs' }));
    const n = (x) => (x === null ? '–' : String(x));
    const dl = h('dl');
    for (const [k, v] of [
      ['value', n(tile.value)],
      ['score', n(tile.score)],
      ['confidence', `${n(tile.confidence)} (${Math.round(tile.confidence * 100)} %)`],
      ['newest leg', `${formatEngineTime(tile.ts_us)} ET (${tile.source})`],
      ['age', nowUs === undefined ? '?' : formatAge(nowUs - tile.ts_us)],
    ]) dl.append(h('dt', { textContent: k }), h('dd', { textContent: v }));
    const legs = h('table', { className: 'legs' }, h('tr', {}, ...['ticker', 'ratio', 'price', 'time ET', 'source'].map((t) => h('th', { textContent: t }))));
    for (const l of tile.legs) {
      legs.append(h('tr', {}, ...[l.ticker, (l.ratio > 0 ? '+' : '') + l.ratio, String(l.price), formatEngineTime(l.ts_us), l.source].map((t) => h('td', { textContent: t }))));
    }
    el.replaceChildren(h('h2', { textContent: tile.key }), h('p', { className: 'dim', textContent: ui.pinned ? 'pinned — tap again or Esc to release' : 'hover' }), dl, legs);
  }

  return {
    render() {
      const stream = streams.get(ui.selected);
      const nowUs = engineNow();
      model = buildGrid(ui.selected ?? '', stream?.fold.tiles ?? new Map(), ui.series, ui.right);
      const spot = spotNow();
      marks = { spot, atm: nearestStrike(model.strikes, spot), nowUs };
      renderTabs();
      renderControls();
      renderInfo(stream, nowUs);
      renderStatus();
      const scale = renderGrid(nowUs);
      renderLegend(scale);
      renderDetail(nowUs);
    },
    /** The series of the strategy shown (for ↑/↓). */
    seriesKeys: () => model.allSeries.map((s) => s.key),
    seriesKey: () => model.series?.key,
    marks: () => ({ ...marks }),
  };
}
