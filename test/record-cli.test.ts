/**
 * `heatmap record` as a process (the built CLI) against the Massive look-alike on loopback:
 * exit codes, SIGINT closing the files cleanly, kill -9 losing at most the last second, and the
 * key never showing up in any output or file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/engine/config.js';
import { readManifest } from '../src/recording/manifest.js';
import { newReadReport, readRecording } from '../src/recording/reader.js';
import { replayRecording } from '../src/replay/replay.js';
import { chainItem, makeContracts, MassiveTestServer, tickerOf } from './helpers/massive-test-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'cli-KEY-0d9e8f7a6b5c4d3e';
const EXPS = ['2031-03-21'];
const CONTRACTS = makeContracts('SPXW', EXPS, [5880, 5890, 5900, 5910, 5920]);

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests (npm test does)');
});

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

interface Proc {
  readonly child: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function heatmap(args: string[], env: Record<string, string | undefined> = {}): Proc {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/heatmap.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, MASSIVE_API_KEY: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, out: () => out, err: () => err, exited };
}

async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-record-cli-'));
  cleanup.push(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

async function server(o: Parameters<typeof MassiveTestServer.start>[0] = {}): Promise<MassiveTestServer> {
  const s = await MassiveTestServer.start({
    chain: () => CONTRACTS.map((contract) => ({ contract, raw: chainItem(contract, 5900) })),
    onSubscribe: (conn) => {
      if (conn.cluster === 'indices') conn.ws.send(JSON.stringify([{ ev: 'V', val: 5900, T: 'I:SPX', t: Date.now() }]));
    },
    ...o,
  });
  cleanup.push(() => s.close());
  return s;
}

async function writeConfig(dir: string): Promise<string> {
  const file = path.join(dir, 'config.json');
  await fsp.writeFile(file, JSON.stringify({ topology: { expirations: EXPS, strike_band_points: 50 } }));
  return file;
}

const recordArgs = (s: MassiveTestServer, out: string, config: string, extra: string[] = []): string[] => [
  'record', '--out', out, '--rest-url', s.restUrl, '--ws-url', s.wsUrl, '--config', config,
  '--snapshot-floor', '50ms', '--backoff-base', '20ms', '--backoff-cap', '100ms', '--status-interval', '100ms', ...extra,
];

/** All bytes of a recording's files, gunzipped where possible (a cut gzip yields what it holds). */
async function allText(dir: string): Promise<string> {
  let text = '';
  for (const f of await fsp.readdir(dir)) {
    const raw = await fsp.readFile(path.join(dir, f));
    text += f.endsWith('.gz') ? zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8') : raw.toString('utf8');
  }
  return text;
}

describe('heatmap record (process)', () => {
  it('exits 2 without a key, naming MASSIVE_API_KEY', async () => {
    const dir = await tmp();
    const p = heatmap(['record', '--out', path.join(dir, 'rec')]);
    expect((await p.exited).code).toBe(2);
    expect(p.err()).toMatch(/set MASSIVE_API_KEY/);
  });

  it('exits 1 on a 401 with a clear message and no key anywhere', async () => {
    const s = await server({ rest: () => ({ status: 401, body: `{"status":"ERROR","request_id":"x","error":"Unknown API Key","echo":"${KEY}"}` }) });
    const dir = await tmp();
    const p = heatmap(recordArgs(s, path.join(dir, 'rec'), await writeConfig(dir), ['--api-key', KEY]));
    expect((await p.exited).code).toBe(1);
    expect(p.err()).toMatch(/heatmap: Massive REST rejected the API key: HTTP 401/);
    expect(p.out() + p.err()).not.toContain(KEY);
    expect(await allText(path.join(dir, 'rec'))).not.toContain(KEY);
    expect((await readManifest(path.join(dir, 'rec'))).source).toBe('massive');
  });

  it('SIGINT closes the files cleanly, finalises the manifest, prints a summary; the key is nowhere', async () => {
    const s = await server();
    const dir = await tmp();
    const rec = path.join(dir, 'rec');
    const p = heatmap(recordArgs(s, rec, await writeConfig(dir)), { MASSIVE_API_KEY: KEY });
    await s.until(() => s.live('options').some((c) => c.topics.size === CONTRACTS.length), 'options subscribed');
    s.send('options', [{ ev: 'T', sym: tickerOf(CONTRACTS[0]!), x: 302, p: 4.2, s: 1, t: Date.now(), q: 77 }]);
    await s.until(() => /chain [2-9]/.test(p.err()), 'two snapshots in the status line');
    p.child.kill('SIGINT');
    expect((await p.exited).code).toBe(0);
    expect(p.err()).toMatch(/closing files/);
    expect(p.err()).toMatch(/recorded 00:00:\d\d \(signal\) to /);
    const manifest = await readManifest(rec);
    const report = newReadReport();
    const lines: string[] = [];
    for await (const l of readRecording(rec, {}, report)) lines.push(l.text);
    expect(report.cuts).toEqual([]); // every gzip member ended properly
    // Every stream's count (the clock stream too: ticks without input while the session waited).
    expect(Object.values(manifest.streams).reduce((n, st) => n + st.lines, 0)).toBe(lines.length);
    expect(manifest.streams.chain!.lines).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('"q":77'))).toBe(true);
    expect(p.out() + p.err()).not.toContain(KEY);
    expect(await allText(rec)).not.toContain(KEY);
  });

  it('kill -9 loses at most the last second: the recording still replays', async () => {
    const s = await server();
    const dir = await tmp();
    const rec = path.join(dir, 'rec');
    const p = heatmap(recordArgs(s, rec, await writeConfig(dir)), { MASSIVE_API_KEY: KEY });
    await s.until(() => s.live('options').some((c) => c.topics.size > 0), 'options subscribed');
    s.send('options', [{ ev: 'T', sym: tickerOf(CONTRACTS[1]!), x: 302, p: 3.3, s: 1, t: Date.now(), q: 88 }]);
    // The writer flushes every second and then rewrites the manifest with the flushed line counts.
    // Poll the manifest (bounded) until it reports flushed options and chain lines.
    let flushed = 0;
    for (let i = 0; i < 300 && flushed === 0; i++) {
      const m = await readManifest(rec);
      if ((m.streams.options?.lines ?? 0) > 0 && (m.streams.chain?.lines ?? 0) > 0) flushed = m.streams.options!.lines;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(flushed).toBeGreaterThan(0);
    p.child.kill('SIGKILL');
    expect((await p.exited).signal).toBe('SIGKILL');
    const report = newReadReport();
    const lines: string[] = [];
    for await (const l of readRecording(rec, {}, report)) lines.push(l.text);
    expect(lines.some((l) => l.includes('"q":88'))).toBe(true);
    expect(report.bad.total).toBe(0);
    const replay = await replayRecording({ dir: rec, config: validateConfig({ topology: { expirations: EXPS, strike_band_points: 50 } }), onOutput: () => undefined });
    expect(replay.summary.topology).not.toBeNull();
  });
});
