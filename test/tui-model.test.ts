/**
 * The terminal UI's pure pieces: folding published versions, placing tiles, fitting the grid to a
 * width, the colour scale, cell text, keys and speed steps.
 */
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { colorIndex, PALETTE, paintCell, scaleFor } from '../src/tui/color-scale.js';
import { applyUiAction, INITIAL_UI, keyToAction, nextSpeed } from '../src/tui/controls.js';
import { fitNumber, formatAge, formatCellText, formatEngineTime } from '../src/tui/format.js';
import { buildGridModel, listSeries, placeTile } from '../src/tui/grid-model.js';
import { chooseStrikeWindow, fitRows, layoutGrid } from '../src/tui/layout.js';
import { RateMeter } from '../src/tui/rate-meter.js';
import { chooseTuiTerminal, CI_NOTICE, NO_TERMINAL_NOTICE } from '../src/tui/terminal.js';
import { applyVersion, TileStore } from '../src/tui/tile-store.js';
import { EXP, EXP2, flyTiles, flyValue, singleTiles, T0, tile, verticalTiles, version } from './tui-fixtures.js';

const byKey = (tiles: ReturnType<typeof flyTiles>) => new Map(tiles.map((t) => [t.key, t]));

describe('folding published versions', () => {
  it('applies removes then upserts; a later version overwrites a tile', () => {
    const m = new Map();
    const a = tile('fly', 'C', [5890, 5900, 5910], [1, -2, 1], 2, 0.2);
    const b = tile('fly', 'C', [5895, 5900, 5905], [1, -2, 1], 1, 0.2);
    applyVersion(m, version('fly', 1, [a, b]));
    applyVersion(m, version('fly', 2, [{ ...a, value: 3, score: 0.3 }], [b.key]));
    expect([...m.keys()]).toEqual([a.key]);
    expect(m.get(a.key).value).toBe(3);
  });

  it('keeps one map per strategy, counts versions, and hands out snapshots that later versions do not change', () => {
    let wall = 0;
    const store = new TileStore(['single', 'fly'], () => wall);
    store.onOutput(version('fly', 1, flyTiles()), 5901, T0);
    const first = store.snapshot();
    wall = 1000;
    store.onOutput(version('fly', 2, [tile('fly', 'C', [5890, 5900, 5910], [1, -2, 1], 9, 0.9)]), 5903, T0 + 1);
    store.onOutput({ type: 'gap', at_us: T0 + 2, stream: 'options', from_us: T0, to_us: T0 + 2, reason: 'disconnect' });
    const second = store.snapshot();
    const fly1 = first.strategies.find((s) => s.name === 'fly')!;
    const fly2 = second.strategies.find((s) => s.name === 'fly')!;
    expect(fly1.version).toBe(1);
    expect(fly1.tiles.get('SPXW:2025-11-21:fly:C:5890/5900/5910')!.value).toBe(flyValue(5900, 10));
    expect(fly2.version).toBe(2);
    expect(fly2.tiles.get('SPXW:2025-11-21:fly:C:5890/5900/5910')!.value).toBe(9);
    expect(fly2.tiles.size).toBe(fly1.tiles.size);
    expect(second.spot).toBe(5903);
    expect(second.versions).toBe(2);
    expect(second.gaps).toBe(1);
    expect(second.strategies.map((s) => s.name)).toEqual(['single', 'fly']);
    // an unchanged strategy keeps its view object (no copy per frame)
    expect(second.strategies[0]).toBe(first.strategies[0]);
  });

  it('records a pipeline failure and the end of the replay', () => {
    const store = new TileStore(['fly']);
    store.onOutput({ type: 'error', strategy: 'fly', at_us: T0, message: 'boom' });
    store.finish('end');
    store.finish('aborted');
    const s = store.snapshot();
    expect(s.strategies[0]!.error).toBe('boom');
    expect(s.finished).toBe('end');
    expect(s.inputRate).toBe(0);
  });
});

describe('rate meter', () => {
  it('is the slope over the window and decays to 0 when the counter stops', () => {
    const m = new RateMeter(2000);
    m.sample(0, 0);
    m.sample(100, 1000);
    m.sample(200, 2000);
    expect(m.rate(2000)).toBeCloseTo(100);
    expect(m.rate(3000)).toBeCloseTo(50); // 100 units in the window 1000…3000
    expect(m.rate(4500)).toBe(0);
  });
});

describe('placing tiles', () => {
  it('puts a fly at its body and width, a vertical at its long strike, a single at its strike', () => {
    expect(placeTile(tile('fly', 'P', [5880, 5900, 5920], [1, -2, 1], 1, 0.05))).toEqual({ strike: 5900, width: 20 });
    expect(placeTile(tile('vertical', 'C', [5900, 5910], [1, -1], 5, 0.5))).toEqual({ strike: 5900, width: 10 });
    expect(placeTile(tile('vertical', 'P', [5890, 5900], [-1, 1], 5, 0.5))).toEqual({ strike: 5900, width: 10 });
    expect(placeTile(tile('single', 'C', [5900], [1], 20, 30))).toEqual({ strike: 5900, width: null });
    // custom broken-wing fly: body is the −2 leg
    expect(placeTile(tile('bwb', 'C', [5890, 5900, 5920], [1, -2, 1], 1, 0.03))).toEqual({ strike: 5900, width: null });
  });

  it('lists series by expiration and builds rows per right and width', () => {
    const tiles = byKey([...flyTiles(), ...flyTiles({ expiration: EXP2 })]);
    expect(listSeries(tiles.values()).map((s) => s.key)).toEqual([`SPXW ${EXP}`, `SPXW ${EXP2}`]);
    const g = buildGridModel('fly', tiles, `SPXW ${EXP2}`, 'P');
    expect(g.series?.expiration).toBe(EXP2);
    expect(g.blocks.map((b) => b.map((r) => `${r.right}${r.width}`))).toEqual([['P5', 'P10', 'P20'], ['C5', 'C10', 'C20']]);
    expect(g.strikes[0]).toBe(5850);
    expect(g.strikes).toHaveLength(21);
    const row = { series: `SPXW ${EXP2}`, right: 'C' as const, width: 10 };
    expect(g.cell(row, 5900)!.key).toBe(`SPXW:${EXP2}:fly:C:5890/5900/5910`);
    expect(g.cell(row, 6000)).toBeUndefined();
    expect(g.cell({ ...row, series: `SPXW ${EXP}` }, 5900)).toBeUndefined(); // only the selected series is in the grid
  });

  it('gives singles a call and a put row per expiration, verticals their width rows', () => {
    const singles = [...singleTiles(), ...singleTiles().map((t) => ({ ...t, key: t.key.replace(EXP, EXP2), expiration: EXP2 }))];
    const s = buildGridModel('single', byKey(singles), `SPXW ${EXP2}`);
    expect(s.axis).toBe('right');
    expect(s.blocks).toEqual([
      [{ series: `SPXW ${EXP}`, right: 'C', width: null }, { series: `SPXW ${EXP}`, right: 'P', width: null }],
      [{ series: `SPXW ${EXP2}`, right: 'C', width: null }, { series: `SPXW ${EXP2}`, right: 'P', width: null }],
    ]);
    expect(s.selectedBlock).toBe(1);
    expect(s.cell(s.blocks[1]![1]!, 5950)!.key).toBe(`SPXW:${EXP2}:single:P:5950`);
    const v = buildGridModel('vertical', byKey(verticalTiles()), undefined);
    expect(v.blocks.flat().map((r) => `${r.right}${r.width}`)).toEqual(['C5', 'C10', 'P5', 'P10']);
  });
});

describe('fitting the grid', () => {
  const strikes = Array.from({ length: 41 }, (_, i) => 5800 + 5 * i);

  it('centres the window on the strike nearest spot and slides it in at the edges', () => {
    expect(chooseStrikeWindow(strikes, 5901, 11)).toEqual({ start: 15, count: 11 }); // 5875 … 5925
    expect(chooseStrikeWindow(strikes, 5790, 11)).toEqual({ start: 0, count: 11 });
    expect(chooseStrikeWindow(strikes, 6100, 11)).toEqual({ start: 30, count: 11 });
    expect(chooseStrikeWindow(strikes, 5900, 100)).toEqual({ start: 0, count: 41 });
  });

  it('fills 80 columns with as many 5-character cells as fit and marks the spot strike', () => {
    const model = buildGridModel('fly', byKey(flyTiles()), undefined);
    const l = layoutGrid(model, 5902, 80, 18);
    const lineWidth = l.labelWidth + l.strikes.length * (l.cellWidth + 1) + 1;
    expect(lineWidth).toBeLessThanOrEqual(80);
    expect(lineWidth + l.cellWidth + 1).toBeGreaterThan(80); // one more column would not fit
    expect(l.spotStrike).toBe(5900);
    expect(l.strikes.indexOf(5900)).toBe(Math.floor((l.strikes.length - 1) / 2));
    expect(l.hiddenLeft + l.hiddenRight + l.strikes.length).toBe(21);
  });

  it('widens cells when every strike fits (200 columns)', () => {
    const model = buildGridModel('fly', byKey(flyTiles()), undefined);
    const l = layoutGrid(model, 5900, 200, 50);
    expect(l.strikes).toHaveLength(21);
    expect(l.cellWidth).toBe(8);
    expect(l.rows).toHaveLength(7); // 3 call widths, a blank, 3 put widths
    expect(l.rows[3]).toBeNull();
  });

  it('drops the blank lines, then whole blocks around the selected one, then widths, when the height is short', () => {
    const block = (right: 'C' | 'P') => [5, 10, 20].map((width) => ({ series: 'S', right, width }));
    const blocks = [block('C'), block('P')];
    expect(fitRows(blocks, 0, 7).rows).toEqual([...blocks[0]!, null, ...blocks[1]!]);
    expect(fitRows(blocks, 0, 6)).toEqual({ rows: blocks.flat(), hidden: 0 });
    expect(fitRows(blocks, 0, 5)).toEqual({ rows: blocks[0], hidden: 3 });
    expect(fitRows(blocks, 1, 5)).toEqual({ rows: blocks[1], hidden: 3 });
    expect(fitRows(blocks, 0, 2)).toEqual({ rows: blocks[0]!.slice(0, 2), hidden: 4 });
    // four expirations of singles in 5 lines, the third selected: it and the fourth are kept
    const series = ['a', 'b', 'c', 'd'].map((s) => (['C', 'P'] as const).map((right) => ({ series: s, right, width: null })));
    expect(fitRows(series, 2, 5).rows.map((r) => r!.series)).toEqual(['c', 'c', 'd', 'd']);
  });
});

describe('colour scale and cells', () => {
  it('maps the fixed domain onto the diverging palette, clamping beyond it', () => {
    const fly = scaleFor('fly');
    const last = PALETTE.length - 1;
    expect(colorIndex(fly.mid, fly)).toBe(last / 2);
    expect(colorIndex(fly.lo, fly)).toBe(0);
    expect(colorIndex(fly.hi, fly)).toBe(last);
    expect(colorIndex(fly.hi * 10, fly)).toBe(last);
    expect(colorIndex(-100, fly)).toBe(0);
    expect(colorIndex(0.1, fly)).toBeGreaterThan(last / 2);
    expect(colorIndex(0.3, fly)).toBeGreaterThan(colorIndex(0.1, fly));
    expect(scaleFor('vertical').mid).toBe(0.5);
    expect(scaleFor('my-custom').mid).toBe(0);
  });

  it('paints a fresh cell on its score colour and a stale one dimmed on grey', () => {
    const c = new Chalk({ level: 2 });
    const fresh = paintCell('0.300', 8, false, c);
    expect(fresh).toContain(`\x1b[48;5;${PALETTE[8]!.bg}m`);
    const stale = paintCell('0.300', 8, true, c);
    expect(stale).toContain('\x1b[48;5;237m');
    expect(stale).toContain('\x1b[2m');
    expect(stale).not.toContain(`\x1b[48;5;${PALETTE[8]!.bg}m`);
  });

  it('squeezes numbers into the cell width', () => {
    expect(fitNumber(0.13456, 5)).toBe('0.135');
    expect(fitNumber(12.3456, 5)).toBe('12.35');
    expect(fitNumber(-0.0001, 5)).toBe('0.000');
    expect(fitNumber(-0.398, 5)).toBe('-0.40');
    expect(fitNumber(123456, 5)).toBe('123k');
    expect(fitNumber(5900, 5)).toBe('5900');
  });

  it('shows score, value, age and confidence', () => {
    const t = tile('fly', 'C', [5890, 5900, 5910], [1, -2, 1], 2.5, 0.25, { ts_us: T0, confidence: 0.875 });
    expect(formatCellText(t, 'score', T0, 5)).toBe('0.250');
    expect(formatCellText(t, 'value', T0, 5)).toBe('2.500');
    expect(formatCellText(t, 'age', T0 + 75_000_000, 5)).toBe('1m');
    expect(formatCellText(t, 'conf', T0, 5)).toBe('88%');
    expect(formatCellText({ ...t, score: null }, 'score', T0, 5)).toBe('-');
    expect(formatAge(3_200_000)).toBe('3.2s');
    expect(formatEngineTime(T0 + 1_234_000)).toBe('09:30:01.234');
  });
});

describe('keys', () => {
  it('maps the bindings', () => {
    expect(keyToAction('', { rightArrow: true })).toEqual({ type: 'strategy', delta: 1 });
    expect(keyToAction('', { tab: true, shift: true })).toEqual({ type: 'strategy', delta: -1 });
    expect(keyToAction('', { downArrow: true })).toEqual({ type: 'series', delta: 1 });
    expect(keyToAction('+', {})).toEqual({ type: 'speed', delta: 1 });
    expect(keyToAction('-', {})).toEqual({ type: 'speed', delta: -1 });
    expect(keyToAction(' ', {})).toEqual({ type: 'pause' });
    expect(keyToAction('c', { ctrl: true })).toEqual({ type: 'quit' });
    expect(keyToAction('q', {})).toEqual({ type: 'quit' });
    expect(keyToAction('x', {})).toBeUndefined();
  });

  it('cycles strategies, series and the shown figure', () => {
    let s = applyUiAction(INITIAL_UI, { type: 'strategy', delta: -1 }, 3, []);
    expect(s.strategyIndex).toBe(2);
    s = applyUiAction(s, { type: 'series', delta: 1 }, 3, ['a', 'b']);
    expect(s.series).toBe('b');
    s = applyUiAction(s, { type: 'series', delta: 1 }, 3, ['a', 'b']);
    expect(s.series).toBe('a');
    s = applyUiAction(applyUiAction(s, { type: 'mode' }, 3, []), { type: 'mode' }, 3, []);
    expect(s.mode).toBe('age');
  });

  it('steps the speed through 1, 2, 5, 10 … max and back', () => {
    expect(nextSpeed(1, 1)).toBe(2);
    expect(nextSpeed(3, 1)).toBe(5);
    expect(nextSpeed(1000, 1)).toBe('max');
    expect(nextSpeed('max', 1)).toBe('max');
    expect(nextSpeed('max', -1)).toBe(1000);
    expect(nextSpeed(10, -1)).toBe(5);
    expect(nextSpeed(0.25, -1)).toBe(0.25);
  });
});

describe('choosing the terminal', () => {
  const stream = (isTTY: boolean) => {
    const written: string[] = [];
    return { isTTY, written, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream & { written: string[] };
  };

  it('draws on stdout when it is a terminal, dropping NDJSON bound for it', () => {
    const io = { stdin: { isTTY: true }, stdout: stream(true), stderr: stream(true) };
    expect(chooseTuiTerminal(undefined, io, {})).toMatchObject({ out: io.stdout, dropsNdjson: true, interactive: true });
    expect(chooseTuiTerminal('-', io, {})).toMatchObject({ dropsNdjson: true });
    expect(chooseTuiTerminal('v.ndjson', io, {})).toMatchObject({ out: io.stdout, dropsNdjson: false });
  });

  it('draws on stderr when stdout is piped, and goes without a TUI when neither is a terminal', () => {
    const piped = { stdin: { isTTY: false }, stdout: stream(false), stderr: stream(true) };
    expect(chooseTuiTerminal(undefined, piped, {})).toMatchObject({ out: piped.stderr, dropsNdjson: false, interactive: false });
    const none = { stdin: { isTTY: false }, stdout: stream(false), stderr: stream(false) };
    expect(chooseTuiTerminal(undefined, none, {})).toBeUndefined();
    expect(none.stderr.written).toEqual([NO_TERMINAL_NOTICE]);
  });

  it('warns that CI in the environment makes Ink draw only the last frame', () => {
    const io = { stdin: { isTTY: true }, stdout: stream(true), stderr: stream(true) };
    chooseTuiTerminal(undefined, io, { CI: 'true' });
    chooseTuiTerminal(undefined, io, { CI: 'false' });
    chooseTuiTerminal(undefined, io, { CI_JOB_ID: '1' });
    expect(io.stderr.written).toEqual([CI_NOTICE, CI_NOTICE]);
  });
});
