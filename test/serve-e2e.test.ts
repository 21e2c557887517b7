/**
 * End to end through real processes and sockets: `sim` → `serve` → `record` → `replay` gives the
 * same final tile values as replaying the sim recording directly.
 *
 * Why the values converge although the re-recording has its own receive times, misses the trades
 * sent before it subscribed, and polls the chain at its own cadence: a leg's mark is the newest fact
 * by event time (a last-writer-wins register), and the re-recording holds the sim's last chain
 * snapshot (serve keeps serving it after the end) plus every trade after it. The config pins the
 * expirations (the re-recording is dated today, the sim 2025-11-21), takes a band wide enough for
 * every contract (so both topologies hold the same tiles), and publishes on every change (so the
 * final published tiles are the final staged tiles in both runs — end of input is no publish).
 * How many trades the recorder gets before it has subscribed depends on the machine's pace, so the
 * direct replay is of the sim restricted to the trade events the re-recording holds: the test does
 * not depend on timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newReadReport, readRecording } from '../src/recording/reader.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'bin/heatmap.js');
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests (npm test does)');
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-e2e-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fsp.rm(dir, { recursive: true, force: true });
});

interface Proc {
  readonly child: ChildProcess;
  err: string;
  readonly exited: Promise<number | null>;
  /** Resolves once stderr satisfies `cond` (re-checked on every chunk); rejects if the process exits first. */
  stderrUntil(cond: (err: string) => boolean, what: string): Promise<void>;
}

function run(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  const waiters: (() => void)[] = [];
  const p: Proc = {
    child,
    err: '',
    exited: new Promise((resolve) => child.on('close', (code) => {
      resolve(code);
      for (const w of waiters.splice(0)) w();
    })),
    stderrUntil: (cond, what) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (cond(p.err)) resolve();
          else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`process exited before: ${what}\n${p.err}`));
          else waiters.push(check);
        };
        check();
      }),
  };
  child.stderr!.on('data', (d: Buffer) => {
    p.err += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  return p;
}

/** Final value per tile key, per strategy, folded from the version lines of a replay. */
async function finalValues(ndjson: string): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  for (const line of (await fsp.readFile(ndjson, 'utf8')).split('\n')) {
    if (line === '') continue;
    const o = JSON.parse(line) as { type: string; upserts?: { key: string; value: number }[]; removes?: string[] };
    if (o.type !== 'version') continue;
    for (const t of o.upserts!) values.set(t.key, t.value);
    for (const k of o.removes!) values.delete(k);
  }
  return values;
}

/** The newest "chain N" of the recorder's status lines. */
const lastChainCount = (err: string): number => {
  const all = [...err.matchAll(/\| chain (\d+)/g)];
  return all.length === 0 ? -1 : Number(all[all.length - 1]![1]);
};

it('sim → serve → record → replay gives the same final tile values as replaying the sim (the trades the recorder received)', async () => {
  const sim = path.join(dir, 'sim');
  const rerec = path.join(dir, 'rerec');
  const config = path.join(dir, 'config.json');
  const publishAlways = { publish: { min_changed: 1, min_changed_pct: null, min_interval_ms: 0 } };
  await fsp.writeFile(
    config,
    JSON.stringify({
      topology: { expirations: ['2025-11-21', '2025-11-24', '2025-11-25'], strike_band_points: 1000 },
      strategies: { single: publishAlways, vertical: publishAlways, fly: publishAlways },
    }),
  );

  const simProc = run(['sim', '--out', sim, '--duration', '2m', '--seed', '3']);
  expect(await simProc.exited).toBe(0);

  const serve = run(['serve', sim, '--port', '0', '--speed', '40', '--hold']);
  await serve.stderrUntil((e) => /REST (http:\/\/127\.0\.0\.1:\d+)/.test(e), 'serve URLs');
  const restUrl = /REST (http:\/\/127\.0\.0\.1:\d+)/.exec(serve.err)![1]!;
  const wsUrl = restUrl.replace('http://', 'ws://');

  const record = run([
    'record', '--out', rerec, '--rest-url', restUrl, '--ws-url', wsUrl, '--api-key', 'any', '--config', config,
    '--snapshot-floor', '100ms', '--status-interval', '200ms',
  ]);
  await serve.stderrUntil((e) => e.includes('end of recording'), 'serve reaching the end of the recording');
  // Two more snapshots after the end: the recorder holds the final chain, and every frame sent
  // before the end (same loopback, earlier) has been read.
  await record.stderrUntil((e) => lastChainCount(e) >= 0, 'a recorder status line');
  const atEnd = lastChainCount(record.err);
  await record.stderrUntil((e) => lastChainCount(e) >= atEnd + 2, 'two snapshots after the end');
  record.child.kill('SIGINT');
  expect(await record.exited).toBe(0);
  serve.child.kill('SIGINT');
  expect(await serve.exited).toBe(0);
  expect(record.err).toMatch(/topology: spot [\d.]+ \(index\)/);

  // What the recorder received depends on the machine's pace (trades played before it subscribed
  // are not in the re-recording). Compare with the sim restricted to the trades it did receive:
  // the final marks are then the same (last writer by event time), however late it subscribed.
  const received = new Set<string>();
  for await (const l of readRecording(rerec, {}, newReadReport())) {
    if (l.stream !== 'options') continue;
    for (const ev of (JSON.parse(l.text) as { frame: { sym?: string; q?: number }[] }).frame) received.add(`${ev.sym}|${ev.q}`);
  }
  expect(received.size).toBeGreaterThan(100);
  const simReceived = path.join(dir, 'sim-received');
  await fsp.cp(sim, simReceived, { recursive: true });
  const optionsFile = path.join(simReceived, 'options.ndjson.gz');
  const kept: string[] = [];
  for (const line of gunzipSync(await fsp.readFile(optionsFile)).toString('utf8').split('\n')) {
    if (line === '') continue;
    const o = JSON.parse(line) as { recv_us: number; frame: { sym?: string; q?: number }[] };
    const frame = o.frame.filter((ev) => received.has(`${ev.sym}|${ev.q}`));
    if (frame.length > 0) kept.push(JSON.stringify({ recv_us: o.recv_us, frame }));
  }
  await fsp.writeFile(optionsFile, gzipSync(kept.join('\n') + '\n'));

  const a = path.join(dir, 'a.ndjson');
  const b = path.join(dir, 'b.ndjson');
  expect(await run(['replay', simReceived, '--config', config, '--format', '1', '--out', a]).exited).toBe(0);
  expect(await run(['replay', rerec, '--config', config, '--format', '1', '--out', b]).exited).toBe(0);
  const direct = await finalValues(a);
  const viaServe = await finalValues(b);
  expect(direct.size).toBeGreaterThan(1000);
  expect([...viaServe.keys()].sort()).toEqual([...direct.keys()].sort());
  const differing = [...direct].filter(([k, v]) => viaServe.get(k) !== v);
  expect(differing).toEqual([]);
}, 120_000);
