/**
 * Rendered frames of the terminal heatmap (ink-testing-library): the grid of a known published
 * version, the spot marker, keys (strategy, expiration, speed, pause, shown figure, quit), the
 * frame-rate cap, and narrow and wide terminals. Frames are read as text (ANSI stripped), except
 * in the colour test, which renders with a colour-level chalk.
 */
import { Chalk } from 'chalk';
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Pacer } from '../src/replay/pacer.js';
import { INITIAL_UI } from '../src/tui/controls.js';
import { fitNumber } from '../src/tui/format.js';
import { HeatmapApp } from '../src/tui/HeatmapApp.js';
import { HeatmapView } from '../src/tui/HeatmapView.js';
import { TileStore } from '../src/tui/tile-store.js';
import { EXP, EXP2, flyTiles, flyValue, plain, SEC, singleTiles, T0, tile, verticalTiles, version } from './tui-fixtures.js';

afterEach(() => cleanup());

const STRATEGIES = ['single', 'vertical', 'fly'];
const FLY = 2;

/** A store holding version 1 of every strategy (flies in two expirations), spot 5902. */
function filledStore(): TileStore {
  const store = new TileStore(STRATEGIES);
  store.onOutput(version('single', 1, singleTiles()), 5902, T0);
  store.onOutput(version('vertical', 1, verticalTiles()), 5902, T0);
  store.onOutput(version('fly', 1, [...flyTiles(), ...flyTiles({ expiration: EXP2 })]), 5902, T0 + SEC);
  return store;
}

/** Sets the fake terminal's size and tells Ink and the app, as a real resize would. */
function resize(stdout: NodeJS.EventEmitter, columns: number, rows: number): void {
  Object.defineProperty(stdout, 'columns', { value: columns, configurable: true });
  Object.defineProperty(stdout, 'rows', { value: rows, configurable: true });
  stdout.emit('resize');
}

function mount(store = filledStore(), opts: { pacer?: Pacer; onQuit?: () => void; strategyIndex?: number } = {}) {
  const r = render(
    <HeatmapApp
      store={store}
      underlying="I:SPX"
      pacer={opts.pacer}
      onQuit={opts.onQuit ?? (() => undefined)}
      initialUi={{ ...INITIAL_UI, strategyIndex: opts.strategyIndex ?? FLY }}
    />,
  );
  return { ...r, text: () => plain(r.lastFrame()), lines: () => plain(r.lastFrame()).split('\n') };
}

/** The text under a strike's column in the row labelled `label` (columns are right-aligned under the strike). */
function cellAt(lines: string[], label: string, strike: number): string {
  const head = lines.find((l) => /^(w\\K|K)\s/.test(l))!;
  const end = head.search(new RegExp(`\\b${strike}\\b`)) + String(strike).length;
  const row = lines.find((l) => l.startsWith(label))!;
  const start = head.lastIndexOf(' ', end - String(strike).length - 1) + 1;
  // the cell is the characters between the previous separator and the strike's end
  return row.slice(Math.min(start, end - 5), end).replace(/^[│ ]+/, '').trim();
}

const ANSI_SPOT = /│\s*5900\s*│/;

describe('the grid of a published version', () => {
  it('shows the fly heatmap of the nearest expiration: widths down, strikes across, the values of version 1', () => {
    const { text, lines } = mount();
    const frame = text();
    expect(frame).toContain('I:SPX');
    expect(frame).toContain(`SPXW ${EXP}`);
    expect(frame).toContain('v1');
    expect(frame).toContain('09:30:01.000 ET');
    for (const label of ['C  5', 'C 10', 'C 20', 'P  5', 'P 10', 'P 20']) expect(lines().some((l) => l.startsWith(label))).toBe(true);
    for (const [label, k, w] of [
      ['C  5', 5900, 5],
      ['C 10', 5880, 10],
      ['P 20', 5915, 20],
    ] as const) {
      expect(cellAt(lines(), label, k)).toBe(fitNumber(flyValue(k, w) / w, 5));
    }
  });

  it('marks the strike nearest spot with guides on every line, and moves them when spot moves', async () => {
    const store = filledStore();
    const { lines, text } = mount(store);
    const head = lines().find((l) => l.startsWith('w\\K'))!;
    expect(head).toMatch(ANSI_SPOT);
    const guided = lines().filter((l) => /^[CP] /.test(l));
    for (const l of guided) expect(l.split('│')).toHaveLength(3);
    // the two guides sit at the same offsets on the strike line and on every row
    const at = (l: string) => [l.indexOf('│'), l.lastIndexOf('│')];
    for (const l of guided) expect(at(l)).toEqual(at(head));
    expect(text()).toContain('spot 5902.00');
    store.onOutput(version('fly', 2, [tile('fly', 'C', [5910, 5915, 5920], [1, -2, 1], 1, 0.2)]), 5914, T0 + 2 * SEC);
    await vi.waitFor(() => expect(text()).toMatch(/│\s*5915\s*│/));
    expect(text()).toContain('v2');
  });

  it('shows stale tiles dimmed on grey and fresh ones on their score colour', () => {
    const store = new TileStore(['fly']);
    store.onOutput(version('fly', 1, [tile('fly', 'C', [5890, 5900, 5910], [1, -2, 1], 4, 0.4, { ts_us: T0 - 120 * SEC }), tile('fly', 'C', [5895, 5905, 5915], [1, -2, 1], 4, 0.4)]), 5900, T0);
    const c = new Chalk({ level: 2 });
    const r = render(<HeatmapView snapshot={store.snapshot()} ui={INITIAL_UI} underlying="I:SPX" control={{ speed: 1, paused: false, lagMs: 0 }} columns={100} rows={30} chalk={c} />);
    const row = r.lastFrame()!.split('\n').find((l) => plain(l).startsWith('C 10'))!;
    expect(row).toMatch(/\x1b\[48;5;237m[^\n]*0\.400/); // stale: grey background
    expect(row).toMatch(/\x1b\[48;5;160m[^\n]*0\.400/); // fresh: the scale's top colour
  });

  it('greys low-confidence tiles (under 80 %) in italics, keeps 80 % and up on their score colour, and says so in the footer', () => {
    const store = new TileStore(['fly']);
    store.onOutput(
      version('fly', 1, [
        tile('fly', 'C', [5890, 5900, 5910], [1, -2, 1], 4, 0.4, { confidence: 0.7999 }),
        tile('fly', 'C', [5895, 5905, 5915], [1, -2, 1], 4, 0.4, { confidence: 0.8 }),
      ]),
      5900,
      T0,
    );
    const c = new Chalk({ level: 2 });
    const r = render(<HeatmapView snapshot={store.snapshot()} ui={INITIAL_UI} underlying="I:SPX" control={{ speed: 1, paused: false, lagMs: 0 }} columns={120} rows={30} chalk={c} />);
    const frame = r.lastFrame()!;
    const row = frame.split('\n').find((l) => plain(l).startsWith('C 10'))!;
    // grey background (237), the score's colour (160) as text, italic (3), not dimmed: it is fresh
    expect(row).toMatch(/\x1b\[48;5;237m\x1b\[38;5;160m\x1b\[3m\s*0\.400/);
    expect(row).toMatch(/\x1b\[48;5;160m\x1b\[38;5;231m\s*0\.400/); // 0.8 is not low: the scale's top colour
    expect(plain(frame)).toContain('grey = stale, grey italic = confidence < 80%');
  });

  it('says so while nothing is published yet', () => {
    const { text } = mount(new TileStore(STRATEGIES));
    expect(text()).toContain('waiting for the first published version of fly');
  });
});

describe('keys', () => {
  it('switches strategy with →, ← and tab', async () => {
    const { stdin, text } = mount();
    stdin.write('\u001B[C'); // → wraps from fly to single
    await vi.waitFor(() => expect(text()).toMatch(/^K\s/m));
    expect(text()).toMatch(/^C 11-21/m);
    stdin.write('\t');
    await vi.waitFor(() => expect(text()).toMatch(/^C 10 /m)); // vertical: width rows
    expect(text()).not.toMatch(/^C 20 /m);
    stdin.write('\u001B[D');
    await vi.waitFor(() => expect(text()).toMatch(/^K\s/m));
  });

  it('walks expirations with ↓ and ↑', async () => {
    const { stdin, text } = mount();
    stdin.write('\u001B[B');
    await vi.waitFor(() => expect(text()).toContain(`SPXW ${EXP2}`));
    expect(text()).toContain('2/2');
    stdin.write('\u001B[A');
    await vi.waitFor(() => expect(text()).toContain(`SPXW ${EXP}`));
  });

  it('pauses and resumes the pacer with space, changes its speed with + and -', async () => {
    const pacer = new Pacer(1);
    const { stdin, text } = mount(filledStore(), { pacer });
    stdin.write(' ');
    await vi.waitFor(() => expect(text()).toContain('paused'));
    expect(pacer.paused).toBe(true);
    stdin.write(' ');
    await vi.waitFor(() => expect(text()).not.toContain('paused'));
    expect(pacer.paused).toBe(false);
    stdin.write('+');
    await vi.waitFor(() => expect(text()).toContain('speed 2x'));
    stdin.write('++'); // typed faster than read: both count
    await vi.waitFor(() => expect(text()).toContain('speed 10x'));
    expect(pacer.speed).toBe(10);
    stdin.write('-');
    await vi.waitFor(() => expect(text()).toContain('speed 5x'));
  });

  it('toggles the shown figure with v: score, value, age, confidence', async () => {
    const { stdin, text, lines } = mount();
    stdin.write('v');
    await vi.waitFor(() => expect(text()).toContain('showing value'));
    expect(cellAt(lines(), 'C 10', 5880)).toBe(fitNumber(flyValue(5880, 10), 5));
    stdin.write('v');
    await vi.waitFor(() => expect(text()).toContain('showing age'));
    expect(cellAt(lines(), 'C 10', 5880)).toBe('1.0s'); // engine time T0 + 1 s, tiles at T0
    stdin.write('v');
    await vi.waitFor(() => expect(text()).toContain('showing conf'));
    expect(cellAt(lines(), 'C 10', 5880)).toBe('100%');
  });

  it.each([
    ['q', 'q'],
    ['Ctrl-C', '\u0003'],
  ])('quits on %s: stops the replay and unmounts, releasing the keyboard', async (_name, key) => {
    const abort = new AbortController();
    const { stdin } = mount(filledStore(), { onQuit: () => abort.abort() });
    expect(stdin.listenerCount('readable')).toBeGreaterThan(0);
    stdin.write(key);
    await vi.waitFor(() => expect(abort.signal.aborted).toBe(true));
    await vi.waitFor(() => expect(stdin.listenerCount('readable')).toBe(0));
  });
});

describe('rendering rate and the end of the replay', () => {
  it('renders a burst of 1000 versions in a few frames, not one per version', async () => {
    const store = filledStore();
    const { frames, text } = mount(store);
    const before = frames.length;
    for (let n = 2; n <= 1001; n++) store.onOutput(version('fly', n, [tile('fly', 'C', [5890, 5900, 5910], [1, -2, 1], n / 1000, n / 10000)]), 5902, T0 + n * SEC);
    await vi.waitFor(() => expect(text()).toContain('v1001'));
    expect(frames.length - before).toBeLessThanOrEqual(3);
  });

  it('says the replay finished and keeps the last heatmap', async () => {
    const store = filledStore();
    const { text } = mount(store);
    store.finish('end');
    await vi.waitFor(() => expect(text()).toContain('replay finished'));
    expect(text()).toMatch(/^C 10 /m);
  });
});

describe('terminal size', () => {
  it('fits 80×24: every line within 80 columns, the frame shorter than the screen, spot centred', async () => {
    const { stdout, lines } = mount();
    resize(stdout, 80, 24);
    // The frame before the resize is 100 wide, and Ink first cuts the old layout's lines at the new
    // width with `…`: wait for our own 80-column layout (neither cut nor wider than 80).
    await vi.waitFor(() => {
      expect(lines().join('\n')).not.toContain('…');
      expect(Math.max(...lines().map((l) => l.length))).toBeLessThanOrEqual(80);
    });
    expect(lines().length).toBeLessThanOrEqual(23);
    const head = lines().find((l) => l.startsWith('w\\K'))!;
    const strikes = head.match(/\d{4}/g)!.map(Number);
    expect(strikes.length).toBeGreaterThanOrEqual(11);
    expect(strikes.length).toBeLessThan(21);
    expect(Math.abs(strikes.indexOf(5900) - (strikes.length - 1) / 2)).toBeLessThanOrEqual(1);
    expect(lines().join('\n')).toContain('q quit');
  });

  it('uses 200×60: all 21 strikes, both rights, wider cells', async () => {
    const { stdout, lines } = mount();
    resize(stdout, 200, 60);
    await vi.waitFor(() => expect(lines().find((l) => l.startsWith('w\\K'))!.match(/\d{4}/g)).toHaveLength(21));
    expect(Math.max(...lines().map((l) => l.length))).toBeLessThanOrEqual(200);
    expect(lines().filter((l) => /^[CP] +\d+ /.test(l))).toHaveLength(6);
    expect(lines().join('\n')).toContain('←/→ tab strategy');
  });

  it('keeps the selected right when short: 80×11 shows the call block only, r shows puts', async () => {
    const { stdout, stdin, lines } = mount();
    resize(stdout, 80, 11);
    await vi.waitFor(() => expect(lines().filter((l) => /^P +\d+ /.test(l))).toHaveLength(0));
    expect(lines().join('\n')).not.toContain('…');
    expect(lines().filter((l) => /^C +\d+ /.test(l)).length).toBeGreaterThan(0);
    expect(lines().length).toBeLessThanOrEqual(10);
    stdin.write('r');
    await vi.waitFor(() => expect(lines().filter((l) => /^P +\d+ /.test(l)).length).toBeGreaterThan(0));
    expect(lines().filter((l) => /^C +\d+ /.test(l))).toHaveLength(0);
  });

  it('says when the terminal is too small', async () => {
    const { stdout, text } = mount();
    resize(stdout, 30, 8);
    await vi.waitFor(() => expect(text()).toContain('terminal too small'));
  });
});
