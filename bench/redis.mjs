#!/usr/bin/env node
// The Redis scale-out (DESIGN §6) against the single-process replay, on one recording:
//
//   node bench/redis.mjs [REC] [--json]        (default REC: bench/data/day, made by npm run bench)
//
// 1. replay REC --speed max --out /dev/null (one process, its default worker threads): the baseline.
// 2. A fresh redis-server (free loopback port, no persistence); 3 pipeline processes (one strategy
//    each) and 1 sse process started first, then feed REC --speed max. Measured: the feed's time
//    (XADD rate), each pipeline's time from the feed's start (XREAD rate), the end-to-end time (feed
//    start → last pipeline done), Redis memory with the default trimming, the keys' sizes.
// 3. Checks that each strategy stream ends on the same version and hash as the replay.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const bin = path.join(root, 'bin/heatmap.js');
const args = process.argv.slice(2);
const json = args.includes('--json');
const rec = args.find((a) => !a.startsWith('--')) ?? path.join(here, 'data/day');
const STRATEGIES = ['single', 'vertical', 'fly'];
const log = (m) => process.stderr.write(`${m}\n`);
if (!fs.existsSync(path.join(rec, 'manifest.json'))) {
  console.error(`bench/redis: ${rec} is not a recording (run npm run bench first, or name one)`);
  process.exit(2);
}
const { createClient } = await import('redis');

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

function run(argv) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, ...argv], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, ms: performance.now() - t0, stderr, end: performance.now() }));
  });
}

// 1. The baseline: the output goes to a file (the day's is GBs); its last line is the summary.
log(`redis bench: replay ${rec} --speed max (one process) …`);
const outFile = path.join(os.tmpdir(), `heatmap-bench-replay-${process.pid}.ndjson`);
const t0 = performance.now();
const base = spawnSync(process.execPath, [bin, 'replay', rec, '--out', outFile, '--no-progress'], { cwd: root, encoding: 'utf8' });
const replayMs = performance.now() - t0;
if (base.status !== 0) throw new Error(`replay failed: ${base.stderr.slice(-2000)}`);
const summary = JSON.parse(lastLine(outFile));
fs.rmSync(outFile, { force: true });

/** The last line of a (large) file, read from its end. */
function lastLine(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, 1 << 20);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8').trimEnd().split('\n').at(-1);
  } finally {
    fs.closeSync(fd);
  }
}

// 2. Redis.
const port = await freePort();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heatmap-bench-redis-'));
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const url = `redis://127.0.0.1:${port}`;
const client = createClient({ url });
client.on('error', () => {});
for (let i = 0; ; i++) {
  try {
    await client.connect();
    break;
  } catch {
    if (i > 100) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}
try {
  const ssePort = await freePort();
  const sse = spawn(process.execPath, [bin, 'sse', '--redis', url, '--port', String(ssePort)], { cwd: root, stdio: 'ignore' });
  log('redis bench: 3 pipelines + 1 sse, then feed --speed max …');
  const start = performance.now();
  const pipelines = STRATEGIES.map((s) => run(['pipeline', '--redis', url, '--strategies', s, '--no-progress']));
  const feed = await run(['feed', rec, '--redis', url]);
  if (feed.code !== 0) throw new Error(`feed failed: ${feed.stderr.slice(-2000)}`);
  const done = await Promise.all(pipelines);
  for (const p of done) if (p.code !== 0) throw new Error(`pipeline failed: ${p.stderr.slice(-2000)}`);
  const totalMs = Math.max(...done.map((p) => p.end)) - start;
  sse.kill('SIGTERM');

  const info = await client.info('memory');
  const mem = (k) => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(info)?.[1]);
  const stats = await client.info('commandstats');
  const calls = (c) => Number(new RegExp(`^cmdstat_${c}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
  const rawLen = await client.xLen('massive:raw');
  const streams = {};
  for (const s of STRATEGIES) {
    const key = `massive:heatmap:${s}`;
    const last = (await client.xRevRange(key, '+', '-', { COUNT: 1 }))[0];
    const line = JSON.parse(last.message.line);
    const want = summary.strategies[s];
    streams[s] = {
      entries: await client.xLen(key),
      last_version: line.version,
      matches_replay: line.version === want.versions && line.hash === want.final_hash,
      memory_mb: Math.round(((await client.memoryUsage(key, { SAMPLES: 0 })) ?? 0) / 1e5) / 10,
    };
  }
  const rawMb = Math.round(((await client.memoryUsage('massive:raw', { SAMPLES: 100 })) ?? 0) / 1e5) / 10;
  const result = {
    recording: rec,
    raw_entries: rawLen,
    replay_s: Math.round(replayMs / 100) / 10,
    feed_s: Math.round(feed.ms / 100) / 10,
    xadd_entries_per_s: Math.round(rawLen / (feed.ms / 1000)),
    pipelines_s: Object.fromEntries(STRATEGIES.map((s, i) => [s, Math.round((done[i].end - start) / 100) / 10])),
    xread_entries_per_s: Object.fromEntries(STRATEGIES.map((s, i) => [s, Math.round(rawLen / ((done[i].end - start) / 1000))])),
    end_to_end_s: Math.round(totalMs / 100) / 10,
    vs_replay: Math.round((totalMs / replayMs) * 100) / 100,
    redis_commands: { multi: calls('multi'), xadd: calls('xadd'), xread: calls('xread'), xrange: calls('xrange') },
    redis_memory_mb: { used: Math.round(mem('used_memory') / 1e5) / 10, peak: Math.round(mem('used_memory_peak') / 1e5) / 10, raw_stream: rawMb },
    streams,
    cores: os.availableParallelism(),
  };
  if (json) console.log(JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
  if (!Object.values(streams).every((s) => s.matches_replay)) {
    console.error('redis bench: a strategy stream does not end on the replay\'s version and hash');
    process.exitCode = 1;
  }
} finally {
  await client.close().catch(() => {});
  server.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}
