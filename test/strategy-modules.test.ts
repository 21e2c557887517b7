/**
 * Strategy modules (`--strategy-module FILE`, `strategies.modules`): the shipped examples run on
 * the open fixture with tile values checked by hand against the leg prices of the `single` stream,
 * from a folder outside the repository, in worker threads and under `verify`; every way a module
 * can be wrong is an exit 2 naming the file and the problem; what only shows while running (bad
 * results) is the strategy's error line.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEngineConfig } from '../src/cli/config-file.js';
import { InputError } from '../src/errors.js';
import { ROOT, parseNdjson, runCli, tempDirsPerTest } from './helpers/cli.js';
import { singleLike } from './helpers/modules.js';

const tmp = tempDirsPerTest('heatmap-modules-');
const OPEN = path.join(ROOT, 'fixtures', 'open-3m');
const CONDOR = path.join(ROOT, 'examples', 'iron-condor.mjs');
const BWFLY = path.join(ROOT, 'examples', 'broken-wing-butterfly.mjs');

/** Publish on every change: at each evaluation every strategy publishes every tile that moved. */
const EAGER = { min_changed: 1, min_changed_pct: null, min_score_delta: null, max_interval_ms: null, min_interval_ms: 0 };

interface Leg {
  ticker: string;
  ratio: number;
  price: number;
}
interface Tile {
  key: string;
  legs: Leg[];
  value: number;
  score: number | null;
}
interface Version {
  type: 'version';
  strategy: string;
  version: number;
  at_us: number;
  upserts: Tile[];
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

describe('the shipped example modules on fixtures/open-3m', () => {
  it('publish tiles whose values are Σ ratio × leg price, the leg prices being the single stream\'s, from a config outside the repository', async () => {
    const dir = await tmp();
    // Copies outside the repository: `import 'heatmap'` would not resolve there; the factory form needs nothing.
    await mkdir(path.join(dir, 'strategies'));
    await copyFile(CONDOR, path.join(dir, 'strategies', 'condor.mjs'));
    await copyFile(BWFLY, path.join(dir, 'strategies', 'bwfly.mjs'));
    const config = path.join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        strategies: {
          single: { publish: EAGER },
          // paths relative to the config file; publish settings of module strategies in the object form
          modules: [{ path: 'strategies/condor.mjs', publish: EAGER }, { path: './strategies/bwfly.mjs', publish: EAGER }],
        },
      }),
    );
    const r = await runCli(['replay', OPEN, '--config', config, '--strategies', 'single,iron-condor,bw-fly', '--format', '1', '--no-progress', '--jobs', '1']);
    expect(r.code, r.stderr).toBe(0);
    const out = parseNdjson(r.stdout);
    const summary = out.at(-1) as { strategies: Record<string, { versions: number; slots: number; error?: string }> };
    expect(Object.keys(summary.strategies)).toEqual(['single', 'bw-fly', 'iron-condor']); // built-ins, then modules by name

    // Hand-written tiles: SPXW 2025-11-21, centre 5900, w = 10.
    const occ = (right: 'C' | 'P', k: number): string => `O:SPXW251121${right}0${k}000`;
    const expected: Record<string, { legs: [string, number][]; score: (value: number) => number }> = {
      'SPXW:2025-11-21:iron-condor:C:5880/5890/5910/5920': { legs: [[occ('P', 5880), 1], [occ('P', 5890), -1], [occ('C', 5910), -1], [occ('C', 5920), 1]], score: (v) => -v / 10 },
      'SPXW:2025-11-21:bw-fly:C:5890/5900/5920': { legs: [[occ('C', 5890), 1], [occ('C', 5900), -2], [occ('C', 5920), 1]], score: (v) => v / 10 },
      'SPXW:2025-11-21:bw-fly:P:5880/5900/5910': { legs: [[occ('P', 5880), 1], [occ('P', 5900), -2], [occ('P', 5910), 1]], score: (v) => v / 10 },
    };
    const price = new Map<string, number>(); // ticker → the single stream's value (ratio 1: the leg price)
    const checked = new Map<string, number>();
    let condorVersions = 0;
    for (const o of out) {
      if (o.type !== 'version') continue;
      const v = o as unknown as Version;
      if (v.strategy === 'single') {
        for (const t of v.upserts) price.set(t.legs[0]!.ticker, t.value);
        continue;
      }
      if (v.strategy === 'iron-condor') condorVersions++;
      for (const t of v.upserts) {
        // every tile: its value is Σ ratio × the price single published for each leg at this evaluation
        expect(t.value, t.key).toBe(round6(t.legs.reduce((sum, l) => sum + l.ratio * price.get(l.ticker)!, 0)));
        const want = expected[t.key];
        if (!want) continue;
        expect(t.legs.map((l) => [l.ticker, l.ratio])).toEqual(want.legs);
        expect(t.value).toBe(round6(want.legs.reduce((sum, [ticker, ratio]) => sum + ratio * price.get(ticker)!, 0)));
        expect(t.score).toBeCloseTo(want.score(t.value), 9);
        checked.set(t.key, (checked.get(t.key) ?? 0) + 1);
      }
    }
    expect([...checked.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const n of checked.values()) expect(n).toBeGreaterThan(10); // priced again and again as the legs move
    expect(condorVersions).toBe(summary.strategies['iron-condor']!.versions);

    // The slots: every (centre, width) whose four contracts the chain lists, counted from the singles.
    const singleKeys = new Set([...price.keys()]);
    const widths = [5, 10, 15, 20, 25, 30, 40, 50];
    let condors = 0;
    for (const exp of ['251121', '251124', '251125']) {
      for (let k = 5850; k <= 5950; k += 5) {
        for (const w of widths) {
          const legs = [`P0${k - 2 * w}`, `P0${k - w}`, `C0${k + w}`, `C0${k + 2 * w}`].map((s) => `O:SPXW${exp}${s}000`);
          if (legs.every((l) => singleKeys.has(l))) condors++;
        }
      }
    }
    expect(condors).toBeGreaterThan(0);
    expect(summary.strategies['iron-condor']!.slots).toBe(condors);
  });

  it("through the library: replay() runs the modules a config lists, the same lines as the CLI", async () => {
    interface Api {
      replay: (dir: string, o: { config: unknown }) => AsyncIterable<{ type: string; strategy?: string }>;
      validateConfig: (raw: unknown) => unknown;
      outputBytes: (out: unknown) => Buffer;
    }
    const api = (await import('heatmap' as string)) as Api;
    const config = api.validateConfig({ strategies: { single: { enabled: false }, vertical: { enabled: false }, fly: { enabled: false }, modules: [CONDOR] } });
    const lines: string[] = [];
    for await (const out of api.replay(OPEN, { config })) if (out.type === 'version') lines.push(api.outputBytes(out).toString('utf8'));
    const cli = await runCli(['replay', OPEN, '--strategy-module', CONDOR, '--strategies', 'iron-condor', '--no-progress']);
    expect(lines.length).toBeGreaterThan(100);
    expect(lines).toEqual(cli.stdout.split('\n').filter((l) => l.startsWith('{"type":"version"')));
  });

  it('the iron condor is in the README verbatim (the interface\'s full example)', async () => {
    const code = await readFile(CONDOR, 'utf8');
    expect(await readFile(path.join(ROOT, 'README.md'), 'utf8')).toContain(code.trim());
  });

  it('give the same stream in worker threads (--jobs 2) as in one thread, and verify is deterministic with them', async () => {
    const args = ['replay', OPEN, '--strategy-module', CONDOR, '--strategy-module', BWFLY, '--strategies', 'fly,iron-condor,bw-fly', '--no-progress'];
    const one = await runCli([...args, '--jobs', '1']);
    const two = await runCli([...args, '--jobs', '2']);
    expect(one.code, one.stderr).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    const v = await runCli(['verify', OPEN, '--strategy-module', CONDOR, '--strategy-module', BWFLY, '--strategies', 'iron-condor,bw-fly']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/iron-condor +360 versions/);
    expect(v.stdout).toMatch(/✓ deterministic/);
  });
});

describe('a module that is wrong is an exit 2 naming the file and the problem', () => {
  // Checked in this process (loading a module that does not parse is left to the CLI test below:
  // vitest, not Node, would parse it here).
  const cases: [string, string | null, RegExp][] = [
    ['missing.mjs', null, /strategy module .*missing\.mjs does not exist/],
    ['none.mjs', 'export const helper = 1;', /strategy module .*none\.mjs exports no strategy/],
    ['number.mjs', 'export default 42;', /number\.mjs: its default export is number, not a strategy/],
    ['shape.mjs', "export default { name: 'shape', usesSpot: 'yes', enumerate: 1 };", /shape\.mjs: its default export is not a strategy — "usesSpot" must be true or false \(got "yes"\); "enumerate" must be a function .*; "score" must be a function/],
    ['spaces.mjs', singleLike('Iron Condor', 'return value;'), /spaces\.mjs: .*name "Iron Condor" is not a valid strategy name: lowercase letters/],
    ['colon.mjs', singleLike('a:b', 'return value;'), /colon\.mjs: .*name "a:b" is not a valid strategy name.*tile keys/],
    ['builtin.mjs', singleLike('fly', 'return value;'), /builtin\.mjs: its strategy is named "fly", which is already a built-in strategy/],
    ['factory.mjs', "export default function () { throw new Error('no model file'); }", /factory\.mjs: its default export \(a factory\) threw: no model file/],
  ];
  for (const [file, source, message] of cases) {
    it(file, async () => {
      const dir = await tmp();
      const f = path.join(dir, file);
      if (source !== null) await writeFile(f, source);
      const err = await loadEngineConfig(undefined, undefined, { runsStrategies: true, modules: [f] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('name clashes with a custom strategy of the config and between two modules', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'a.mjs'), singleLike('dup', 'return value;'));
    await writeFile(path.join(dir, 'b.mjs'), singleLike('dup', 'return value;'));
    await writeFile(path.join(dir, 'bwb.mjs'), singleLike('bwb', 'return value;'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ strategies: { custom: [{ name: 'bwb', legs: [{ ratio: 1, offset: 0 }] }], modules: ['bwb.mjs'] } }));
    await expect(loadEngineConfig(path.join(dir, 'config.json'), undefined, { runsStrategies: true })).rejects.toThrow(
      /bwb\.mjs: its strategy is named "bwb", which is already a custom strategy of the config/,
    );
    await expect(loadEngineConfig(undefined, undefined, { runsStrategies: true, modules: [path.join(dir, 'a.mjs'), path.join(dir, 'b.mjs')] })).rejects.toThrow(
      new RegExp(`b\\.mjs: its strategy is named "dup", which is already the strategy of module ${path.join(dir, 'a.mjs').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
    );
    // the same file twice (config and flag) is one module, not a clash
    await writeFile(path.join(dir, 'twice.json'), JSON.stringify({ strategies: { modules: ['a.mjs'] } }));
    const cfg = await loadEngineConfig(path.join(dir, 'twice.json'), 'dup', { runsStrategies: true, modules: [path.join(dir, 'a.mjs')] });
    expect(cfg.strategies.modules.map((m) => m.name)).toEqual(['dup']);
  });

  it('through the CLI: exit 2, `heatmap: …` on stderr, no stack trace, no NDJSON', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'shape.mjs'), "export const strategy = { name: 'shape', usesSpot: false, enumerate() { return []; } };");
    await writeFile(path.join(dir, 'syntax.mjs'), 'export default {');
    for (const [file, message] of [
      ['nope.mjs', /^heatmap: strategy module \S*nope\.mjs does not exist\n$/],
      ['syntax.mjs', /^heatmap: strategy module \S*syntax\.mjs could not be loaded: SyntaxError: Unexpected end of input\n$/],
      ['shape.mjs', /^heatmap: strategy module \S*shape\.mjs: its "strategy" export is not a strategy — "score" must be a function .*\n$/],
    ] as const) {
      for (const cmd of ['replay', 'verify']) {
        const r = await runCli([cmd, OPEN, '--strategy-module', path.join(dir, file), '--no-progress'].filter((a) => cmd === 'replay' || a !== '--no-progress'));
        expect(r.code, `${cmd} ${file}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stdout).toBe('');
      }
    }
  });
});

describe("a module's console output", () => {
  it('goes to stderr, never into the NDJSON on stdout, in one thread and in worker threads', async () => {
    const dir = await tmp();
    const chatty = path.join(dir, 'chatty.mjs');
    await writeFile(chatty, singleLike('chatty', "if (!globalThis.saidOnce) { globalThis.saidOnce = true; console.log('score says hello'); console.info('info too'); } return value;", "console.log('import says hello');"));
    for (const jobs of ['1', '2']) {
      const r = await runCli(['replay', OPEN, '--strategy-module', chatty, '--strategies', 'single,chatty', '--jobs', jobs, '--no-progress']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      for (const l of lines) expect(() => JSON.parse(l), `--jobs ${jobs}: ${l.slice(0, 80)}`).not.toThrow();
      expect(lines.at(-1)).toMatch(/^\{"type":"summary"/);
      expect(r.stderr, `--jobs ${jobs}`).toContain('import says hello');
      expect(r.stderr, `--jobs ${jobs}`).toContain('score says hello');
      expect(r.stderr, `--jobs ${jobs}`).toContain('info too');
    }
  }, 120_000);
});

describe('a module that never finishes loading', () => {
  it('a loop at import time, or process.exit(): exit 2 naming the file, instead of a CLI that hangs', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'ok.mjs'), singleLike('fine', 'return value;'));
    await writeFile(path.join(dir, 'spin.mjs'), `for (;;) {}\n${singleLike('spin', 'return value;')}`);
    await writeFile(path.join(dir, 'quit.mjs'), `process.exit(0);\n${singleLike('quit', 'return value;')}`);
    // the loop is found by the 20 s load timeout of the throwaway thread that loads modules first
    const spin = await runCli(['replay', OPEN, '--strategy-module', path.join(dir, 'ok.mjs'), '--strategy-module', path.join(dir, 'spin.mjs'), '--no-progress']);
    expect(spin.code, spin.stderr).toBe(2);
    expect(spin.stderr).toMatch(/^heatmap: strategy module \S*spin\.mjs did not finish loading within 20 s — does it loop at import time or in its factory\?\n$/);
    expect(spin.stdout).toBe('');
    const quit = await runCli(['verify', OPEN, '--strategy-module', path.join(dir, 'quit.mjs')]);
    expect(quit.code, quit.stderr).toBe(2);
    expect(quit.stderr).toMatch(/^heatmap: strategy module \S*quit\.mjs ended its thread while loading \(process\.exit\?\)\n$/);
  }, 120_000);
});

describe('a module whose results are wrong fails while running, alone', () => {
  it('enumerate() returning no tile definitions, or score() a string: the strategy\'s error line, the others unchanged', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'notiles.mjs'), "export default { name: 'notiles', usesSpot: false, enumerate() { return 'tiles'; }, score() { return 0; } };");
    await writeFile(path.join(dir, 'textscore.mjs'), singleLike('textscore', "return 'high';"));
    const r = await runCli(['replay', OPEN, '--strategy-module', path.join(dir, 'notiles.mjs'), '--strategy-module', path.join(dir, 'textscore.mjs'), '--no-progress', '--jobs', '1']);
    expect(r.code, r.stderr).toBe(0);
    const out = parseNdjson(r.stdout);
    const errors = out.filter((o) => o.type === 'error');
    expect(errors).toEqual([
      expect.objectContaining({ strategy: 'notiles', reason: 'threw', message: expect.stringMatching(/^enumerate\(\) returned "tiles", not an array of tile definitions/) }),
      expect.objectContaining({ strategy: 'textscore', reason: 'threw', message: expect.stringMatching(/^score\(\) returned "high" for SPX/) }),
    ]);
    const plain = await runCli(['replay', OPEN, '--no-progress', '--jobs', '1']);
    const others = (text: string): string[] => text.split('\n').filter((l) => /^\{"type":"version","format":2,"strategy":"(single|vertical|fly)"/.test(l));
    expect(others(r.stdout)).toEqual(others(plain.stdout));
    expect(r.stderr).toMatch(/notiles .*FAILED: enumerate\(\) returned/);
  });
});
