#!/usr/bin/env node
/**
 * Benchmark (not a test): CPU per frame of the terminal heatmap at 120×40 (or COLSxROWS).
 *
 *   npm run build && node bench/tui-frame.mjs [--size 120x40] [--frames 300] [--repeat 5] [--only rows] [--json]
 *
 * Each frame folds a new version (every visible fly changes value) into the TUI's store, takes a
 * snapshot and re-renders through Ink 6 (React reconcile + Yoga layout + output string) into a
 * discarding stdout, with 256 colours on. It reports process CPU (user + system) per frame for:
 *   rows   — the shipped view: one <Text> per line, a chalk-built string per grid row;
 *   spans  — the same grid as one <Text> per cell nested in a row <Text> (Ink colour props);
 *   boxes  — one <Box width=…> per cell in a row <Box>;
 * plus `lines only`, the pure string building of the shipped view without Ink.
 */
import { Writable } from 'node:stream';

// Ink's own colour props go through chalk's default instance: give it 256 colours, like our strings,
// so that every variant writes the same colours. Set before Ink and chalk are loaded.
process.env.FORCE_COLOR ??= '2';
// React's production build, as `heatmap replay --tui` loads it (src/tui/react-mode.ts).
process.env.NODE_ENV ??= 'production';
const { Chalk } = await import('chalk');
const { Box, render, Text } = await import('ink');
const { createElement: h } = await import('react');
const { HeatmapView, renderFrameLines } = await import('../dist/tui/HeatmapView.js');
const { PALETTE, colorIndex, scaleFor } = await import('../dist/tui/color-scale.js');
const { buildGridModel } = await import('../dist/tui/grid-model.js');
const { layoutGrid } = await import('../dist/tui/layout.js');
const { TileStore } = await import('../dist/tui/tile-store.js');
const { formatCellText } = await import('../dist/tui/format.js');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const [COLS, ROWS] = arg('--size', '120x40').split('x').map(Number);
const FRAMES = Number(arg('--frames', '300'));
const REPEAT = Number(arg('--repeat', '5'));
const T0 = 1_763_735_400_000_000;
const WIDTHS = [5, 10, 15, 20, 25, 30, 40, 50];
const chalk = new Chalk({ level: 2 });

/** Fly tiles over a ±100-point band at 5-point strikes, 8 widths, calls and puts (≈1,100 tiles). */
function flyTiles(frame) {
  const out = [];
  for (const right of ['C', 'P']) {
    for (let k = 5800; k <= 6000; k += 5) {
      for (const w of WIDTHS) {
        if (k - w < 5800 || k + w > 6000) continue;
        const value = Math.round(w * 0.3 * Math.exp(-(((k - 5900 - (frame % 20)) / 40) ** 2)) * 100) / 100;
        const strikes = [k - w, k, k + w];
        out.push({
          key: `SPXW:2025-11-21:fly:${right}:${strikes.join('/')}`,
          root: 'SPXW',
          expiration: '2025-11-21',
          strategy: 'fly',
          right,
          strikes,
          legs: strikes.map((s, i) => ({ ticker: `O:SPXW251121${right}0${s}000`, ratio: [1, -2, 1][i], price: 1, ts_us: T0, source: 'ws' })),
          value,
          score: value / w,
          ts_us: T0 + frame * 1e5,
          confidence: 1,
          source: 'ws',
        });
      }
    }
  }
  return out;
}

const store = new TileStore(['fly']);
const ui = { strategyIndex: 0, series: undefined, mode: 'score', right: 'C' };
const control = { speed: 10, paused: false, lagMs: 0 };
let version = 0;
function nextSnapshot() {
  version++;
  const upserts = flyTiles(version);
  store.onOutput({ type: 'version', strategy: 'fly', version, at_us: T0 + version * 1e5, reasons: ['value'], prev_hash: '', hash: '', upserts, removes: [], stats: { slots: upserts.length, populated: upserts.length, changed: upserts.length } }, 5900 + (version % 20), T0 + version * 1e5);
  return store.snapshot();
}

/** The grid as per-cell elements (the designs the issue measured against). */
function PerCellView({ snapshot, perCell }) {
  const view = snapshot.strategies[0];
  const model = buildGridModel('fly', view.tiles, undefined, 'C');
  const layout = layoutGrid(model, snapshot.spot, COLS, ROWS - 6);
  const scale = scaleFor('fly');
  const header = renderFrameLines({ snapshot, ui, underlying: 'I:SPX', control, columns: COLS, rows: ROWS, chalk }).slice(0, 3);
  const rows = layout.rows.map((row, r) => {
    if (row === null) return h(Text, { key: r }, ' ');
    const cells = layout.strikes.map((k) => {
      const t = model.cell(row, k);
      const text = (t ? formatCellText(t, 'score', snapshot.engine_us, layout.cellWidth) : '·').padStart(layout.cellWidth);
      const p = t && t.score !== null ? PALETTE[colorIndex(t.score, scale)] : undefined;
      const props = p ? { backgroundColor: `ansi256(${p.bg})`, color: `ansi256(${p.fg})` } : { dimColor: true };
      return perCell === 'boxes' ? h(Box, { key: k, width: layout.cellWidth + 1, justifyContent: 'flex-end' }, h(Text, props, text)) : h(Text, { key: k, ...props }, ` ${text}`);
    });
    const label = `${row.right} ${String(row.width).padStart(2)}`;
    return perCell === 'boxes' ? h(Box, { key: r, flexDirection: 'row' }, h(Box, { width: 4 }, h(Text, { dimColor: true }, label)), ...cells) : h(Text, { key: r, wrap: 'truncate' }, h(Text, { dimColor: true }, label), ...cells);
  });
  return h(Box, { flexDirection: 'column' }, ...header.map((l, i) => h(Text, { key: `h${i}`, wrap: 'truncate' }, l)), ...rows);
}

function fakeStdout() {
  const s = new Writable({ write: (_c, _e, cb) => cb() });
  return Object.assign(s, { columns: COLS, rows: ROWS, isTTY: false });
}
const fakeStdin = () => Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false, setRawMode() {}, ref() {}, unref() {}, setEncoding() {}, read: () => null, resume() {}, pause() {} });

function cpuMs(fn) {
  const before = process.cpuUsage();
  fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

function benchInk(name, element) {
  let bytes = 0;
  const stdout = fakeStdout();
  stdout.write = (chunk) => ((bytes += chunk.length), true);
  const app = render(element(nextSnapshot()), { stdout, stdin: fakeStdin(), debug: true, exitOnCtrlC: false, patchConsole: false });
  for (let i = 0; i < 50; i++) app.rerender(element(nextSnapshot())); // warm-up
  bytes = 0;
  const snaps = Array.from({ length: FRAMES }, () => nextSnapshot());
  const ms = cpuMs(() => {
    for (const s of snaps) app.rerender(element(s));
  });
  app.unmount();
  return { name, ms_per_frame: ms / FRAMES, kb_per_frame: bytes / FRAMES / 1024 };
}

function benchLines() {
  const snaps = Array.from({ length: FRAMES }, () => nextSnapshot());
  const ms = cpuMs(() => {
    for (const s of snaps) renderFrameLines({ snapshot: s, ui, underlying: 'I:SPX', control, columns: COLS, rows: ROWS, chalk });
  });
  return { name: 'lines only', ms_per_frame: ms / FRAMES, kb_per_frame: NaN };
}

const ONLY = arg('--only', '');
const variants = [
  ['lines', benchLines],
  ['rows', () => benchInk('rows (shipped)', (s) => h(HeatmapView, { snapshot: s, ui, underlying: 'I:SPX', control, columns: COLS, rows: ROWS, chalk }))],
  ['spans', () => benchInk('spans per cell', (s) => h(PerCellView, { snapshot: s, perCell: 'spans' }))],
  ['boxes', () => benchInk('boxes per cell', (s) => h(PerCellView, { snapshot: s, perCell: 'boxes' }))],
].filter(([key]) => !ONLY || key === ONLY);
// Rounds interleave the variants, and each reports its median round: a busy machine skews all alike.
const runs = new Map(variants.map(([key]) => [key, []]));
for (let round = 0; round < REPEAT; round++) for (const [key, run] of variants) runs.get(key).push(run());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const results = variants.map(([key]) => {
  const rs = runs.get(key);
  return { name: rs[0].name, ms_per_frame: median(rs.map((r) => r.ms_per_frame)), kb_per_frame: rs[0].kb_per_frame, min: Math.min(...rs.map((r) => r.ms_per_frame)) };
});

const sample = renderFrameLines({ snapshot: store.snapshot(), ui, underlying: 'I:SPX', control, columns: COLS, rows: ROWS, chalk });
const gridRows = sample.filter((l) => /^(\x1b\[[0-9;]*m)*[CP] +\d+/.test(l)).length;
const gridCols = (sample[2].replace(/\x1b\[[0-9;]*m/g, '').match(/\d{4}/g) ?? []).length;
if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify({ columns: COLS, rows: ROWS, grid_rows: gridRows, grid_strikes: gridCols, frames: FRAMES, repeat: REPEAT, results }) + '\n');
  process.exit(0);
}
process.stdout.write(
  `tui frame CPU at ${COLS}x${ROWS} (${gridRows} rows x ${gridCols} strikes shown; median of ${REPEAT} rounds of ${FRAMES} frames; node ${process.version}, NODE_ENV=${process.env.NODE_ENV ?? '-'})\n`,
);
for (const r of results) {
  const kb = Number.isNaN(r.kb_per_frame) ? '' : `  ${r.kb_per_frame.toFixed(1)} KB/frame written`;
  process.stdout.write(`  ${r.name.padEnd(16)} ${r.ms_per_frame.toFixed(2).padStart(7)} ms/frame (best ${r.min.toFixed(2)})${kb}\n`);
}
const shipped = results.find((r) => r.name.startsWith('rows'));
if (shipped) process.stdout.write(`  at 20 frames/s the shipped view costs ${((shipped.ms_per_frame * 20) / 10).toFixed(1)} % of one core\n`);
