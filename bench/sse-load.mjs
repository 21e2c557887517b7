#!/usr/bin/env node
// SSE load benchmark (not a test): N concurrent SSE clients on loopback, each must receive every
// version of its strategy; reports delivery latency percentiles and the publisher's throughput with
// and without clients.
//
//   npm run build && node bench/sse-load.mjs [--clients 500] [--speed 1] [--minutes 1]
//                                            [--strategies single,vertical,fly] [--workers 1]
//                                            [--buffer-mib 16] [--runs 3] [--format 2]
//                                            [--encoding gzip|identity] [--no-latency] [--json]
//
// Input: a `heatmap sim` recording (generated once into bench/data/, git-ignored), replayed through
// the real engine (dist/replay/replay.js) into the real SSE server (dist/sinks/sse.js).
// Clients live in worker threads (raw loopback sockets read into one shared buffer, de-chunked and
// scanned by hand: Node's HTTP client copied every chunk), so their parsing does not run on the
// publisher's event loop and takes little of the cores the server shares with them.
// --encoding gzip (default: what browsers ask for) makes the clients send `Accept-Encoding: gzip`.
// In the throughput phase they then keep the compressed bytes and inflate them only after the
// stream has ended (the server is closed once the replay is done), outside the measured time —
// real clients are on other machines. In the latency phase each inflates every HTTP chunk as it
// completes, synchronously: the server writes each batch's deflate piece as one chunk, and pieces
// are independent (src/sinks/sse-gzip.ts), so no queue of 500 async inflaters adds to the latency.
// Latency = time the client has parsed the whole diff − time the engine emitted the version (both
// wall clock, performance.timeOrigin + now()).
//
// Phases (throughput figures are the best of --runs runs; the machine's other load only slows runs):
//   1. throughput: replay at max speed, no SSE server        (engine alone)
//   2. throughput: replay at max speed, SSE server, 0 clients
//   3. throughput: replay at max speed, N clients connected  (+ time until every client has it all)
//   4. latency:    replay at --speed, N clients; every client must get every version as a diff
//                  (skipped with --no-latency: `npm run bench` measures throughput only)
// The stream is in --format (default 2, as `replay --sse`), so the diffs are the lines users get.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const wallMs = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Main thread: the publisher.

async function main() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const args = parseArgs(process.argv.slice(2));
  const log = (...a) => { if (!args.json) console.error(...a); };
  const dist = (p) => import(path.join(here, '../dist', p));
  const { replayRecording } = await dist('replay/replay.js');
  const { SseServer } = await dist('sinks/sse.js');
  const { Pacer } = await dist('replay/pacer.js');
  const { loadEngineConfig } = await dist('cli/config-file.js');
  const config = await loadEngineConfig(undefined, args.strategies.join(','));

  const rec = path.join(here, 'data', `sse-sim-${args.minutes}m`);
  if (!fs.existsSync(path.join(rec, 'manifest.json'))) {
    log(`generating ${rec} (heatmap sim, ${args.minutes} min, seed 3)…`);
    fs.mkdirSync(path.dirname(rec), { recursive: true });
    execFileSync(process.execPath, [path.join(here, '../bin/heatmap.js'), 'sim', '--out', rec, '--duration', `${args.minutes}m`, '--seed', '3', '--force'], { stdio: 'ignore' });
  }

  const replay = async (server, speed, onPublish) => {
    const started = performance.now();
    let publishMs = 0;
    const r = await replayRecording({
      dir: rec,
      config,
      pacer: speed === 'max' ? undefined : new Pacer(speed),
      format: args.format,
      onOutput: (out) => {
        if (!server) return;
        const t0 = performance.now();
        server.publish(out);
        publishMs += performance.now() - t0;
        if (out.type === 'version') onPublish?.(out);
      },
    });
    const ms = performance.now() - started;
    const versions = Object.values(r.summary.strategies).reduce((n, s) => n + s.versions, 0);
    const final = Object.fromEntries(Object.entries(r.summary.strategies).map(([k, s]) => [k, s.versions]));
    return { ms, versions, lines: r.lines, final, publishMs };
  };
  const startServer = () => SseServer.start({ strategies: args.strategies, port: 0, maxBufferBytes: args.bufferMib * 1048576, heartbeatMs: 15_000 });
  const rate = (x) => ({ versions_per_s: Math.round((x.versions / x.ms) * 1000), lines_per_s: Math.round((x.lines / x.ms) * 1000), wall_ms: Math.round(x.ms) });

  log(`recording ${rec}; strategies ${args.strategies.join(',')}; ${args.clients} clients in ${args.workers} worker(s)`);
  await replay(undefined, 'max'); // warm-up (JIT, file cache)
  const best = async (runOnce) => {
    let b;
    for (let i = 0; i < args.runs; i++) {
      const r = await runOnce();
      if (!b || r.ms < b.ms) b = r;
    }
    return b;
  };
  const alone = await best(() => replay(undefined, 'max'));
  log(`1. engine alone (max speed):          ${fmtRate(rate(alone))}`);

  let server;
  const idle = await best(async () => {
    server = await startServer();
    const r = await replay(server, 'max');
    await server.close();
    return r;
  });
  log(`2. SSE server, 0 clients (max speed): ${fmtRate(rate(idle))}  (time inside publish(): ${idle.publishMs.toFixed(0)} ms)`);

  // 3. throughput with N clients (fresh server and clients per run)
  const loaded = await best(async () => {
    server = await startServer();
    const clients = await connectClients(server, args, args.gzip);
    const r = await replay(server, 'max');
    const replayEnd = wallMs();
    const stats = server.status();
    // Deferred (gzip) clients know they have it all when their stream ends: end it now.
    if (args.gzip) await server.close('replay over', 60_000);
    const res = await finish(clients, r.final);
    await server.close();
    return { ...r, res, stats, catchUpMs: res.doneAt - replayEnd };
  });
  const { res: res3, stats: stats3, catchUpMs } = loaded;
  const resyncs3 = stats3.reduce((n, s) => n + s.resyncs, 0);
  const drops3 = stats3.reduce((n, s) => n + s.drops, 0);
  const complete3 = res3.results.filter((c) => c.complete).length;
  log(`3. SSE server, ${args.clients} clients (max speed): ${fmtRate(rate(loaded))}  (publish(): ${loaded.publishMs.toFixed(0)} ms)`);
  log(`   all clients caught up ${Math.round(catchUpMs)} ms after the replay ended; ${fmtBytes(res3.bytes)} delivered` +
    `${args.gzip ? ` gzip-compressed (${fmtBytes(res3.inflated)} inflated)` : ''}; ` +
    `${complete3}/${args.clients} got every version as a diff; ${resyncs3} slow-client resyncs, ${drops3} drops (bound ${args.bufferMib} MiB)`);

  const throughput = {
    engine_alone: rate(alone),
    sse_no_clients: { ...rate(idle), publish_ms: round(idle.publishMs) },
    sse_with_clients: { ...rate(loaded), publish_ms: round(loaded.publishMs), catch_up_ms: Math.round(catchUpMs), bytes: res3.bytes, inflated_bytes: res3.inflated, gzip_clients: stats3.reduce((n, s) => n + s.gzip_clients, 0), complete_clients: complete3, resyncs: resyncs3, drops: drops3 },
  };
  const head = {
    node: process.version, cpus: (await import('node:os')).cpus().length, clients: args.clients, workers: args.workers, strategies: args.strategies,
    recording_minutes: args.minutes, buffer_mib: args.bufferMib, format: args.format, encoding: args.gzip ? 'gzip' : 'identity',
  };
  if (!args.latency) {
    if (args.json) console.log(JSON.stringify({ ...head, throughput }, null, 2));
    return;
  }

  // 4. latency at a realistic pace
  server = await startServer();
  const clients = await connectClients(server, args, false);
  const published = new Map(args.strategies.map((s) => [s, []]));
  const paced = await replay(server, args.speed, (v) => { published.get(v.strategy)[v.version] = wallMs(); });
  const res4 = await finish(clients, paced.final);
  const stats4 = server.status();
  await server.close();
  const lat = [];
  let missing = 0;
  for (const c of res4.results) {
    const pub = published.get(c.strategy);
    for (let v = 1; v <= paced.final[c.strategy]; v++) {
      const t = c.times[v];
      if (t === undefined || Number.isNaN(t)) missing++;
      else lat.push(t - pub[v]);
    }
  }
  lat.sort((a, b) => a - b);
  const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : NaN);
  const latency = { samples: lat.length, p50_ms: round(pct(50)), p90_ms: round(pct(90)), p99_ms: round(pct(99)), max_ms: round(lat.at(-1)), missing };
  log(`4. latency at --speed ${args.speed} (${paced.versions} versions, ${lat.length.toLocaleString('en-US')} deliveries): ` +
    `p50 ${latency.p50_ms} ms, p90 ${latency.p90_ms} ms, p99 ${latency.p99_ms} ms, max ${latency.max_ms} ms; missing ${missing}; ` +
    `resyncs ${stats4.reduce((n, s) => n + s.resyncs, 0)}, drops ${stats4.reduce((n, s) => n + s.drops, 0)}`);

  const report = { ...head, throughput, latency: { speed: args.speed, versions: paced.versions, ...latency } };
  if (args.json) console.log(JSON.stringify(report, null, 2));
}

/**
 * Starts the worker(s) and resolves once every client has its initial snapshot (deferred clients:
 * its first bytes, which the server writes with the snapshot when it attaches the client).
 */
async function connectClients(server, args, deferred) {
  const per = Math.ceil(args.clients / args.workers);
  const workers = [];
  for (let w = 0; w < args.workers; w++) {
    const urls = [];
    for (let i = w * per; i < Math.min(args.clients, (w + 1) * per); i++) {
      const s = args.strategies[i % args.strategies.length];
      urls.push({ strategy: s, url: `${server.url}/sse/heatmap/${s}` });
    }
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { urls, gzip: args.gzip, deferred } });
    await new Promise((resolve, reject) => {
      worker.once('message', (m) => (m.type === 'connected' ? resolve() : reject(new Error(String(m.error)))));
      worker.once('error', reject);
    });
    workers.push(worker);
  }
  return workers;
}

/** Tells the workers the final versions and collects their clients' receive times. */
async function finish(workers, final) {
  const all = await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', (m) => resolve(m));
    w.once('error', reject);
    w.postMessage({ type: 'final', final });
  })));
  await Promise.all(workers.map((w) => w.terminate()));
  const bad = all.find((m) => m.type === 'error');
  if (bad) throw new Error(bad.error);
  return { results: all.flatMap((m) => m.results), bytes: all.reduce((n, m) => n + m.bytes, 0), inflated: all.reduce((n, m) => n + m.inflated, 0), doneAt: Math.max(...all.map((m) => m.doneAt)) };
}

// ---------------------------------------------------------------------------------------------
// Worker: SSE clients.

function runClients({ urls, gzip, deferred }) {
  let bytes = 0;
  let inflated = 0;
  const clients = urls.map(({ strategy, url }) => ({ strategy, url, times: [], snapshots: 0, last: -1, head: '', pendingNl: false, chunks: [], ended: false }));
  let final;
  let finished = false;
  const check = () => {
    if (finished || !final) return;
    if (deferred ? !clients.every((c) => c.ended) : !clients.every((c) => c.last >= final[c.strategy])) return;
    finished = true;
    const doneAt = wallMs();
    for (const c of clients) c.socket.destroy();
    if (deferred) {
      // Outside the measured time: inflate each stream (gunzipSync checks its trailer) and scan it.
      for (const c of clients) {
        const text = zlib.gunzipSync(Buffer.concat(c.chunks));
        c.chunks = [];
        inflated += text.length;
        onSse(c, text, 0, text.length, doneAt);
      }
    }
    const results = clients.map((c) => {
      const times = new Float64Array(final[c.strategy] + 1).fill(NaN);
      c.times.forEach((t, v) => { times[v] = t; });
      let complete = c.snapshots === 1;
      for (let v = c.firstSnapshot + 1; v <= final[c.strategy] && complete; v++) if (Number.isNaN(times[v])) complete = false;
      return { strategy: c.strategy, times, complete };
    });
    parentPort.postMessage({ type: 'done', results, bytes, inflated, doneAt });
  };
  parentPort.on('message', (m) => {
    if (m.type === 'final') {
      final = m.final;
      check();
    }
  });
  const fail = (c, message) => { if (!finished) parentPort.postMessage({ type: 'error', error: `${c.url}: ${message}` }); };
  let connected = 0;
  // The clients read into one shared buffer (net's `onread`): no Buffer per read, no HTTP parser
  // copying the body, so the clients' own CPU and garbage — which share this 2-core machine with the
  // server being measured — stay small. The response is checked (200, chunked) and de-chunked here.
  const readBuffer = Buffer.allocUnsafe(256 * 1024);
  for (const c of clients) {
    const u = new URL(c.url);
    c.state = 'headers'; // then 'size' → 'data' → 'crlf' → 'size' …
    c.headers = '';
    c.size = 0;
    c.remaining = 0;
    c.socket = net.connect({
      host: u.hostname, port: Number(u.port),
      onread: { buffer: readBuffer, callback: (n, buf) => { onBytes(c, buf, 0, n); check(); } },
    }, () => c.socket.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n${gzip ? 'Accept-Encoding: gzip\r\n' : ''}\r\n`));
    c.socket.on('error', (err) => fail(c, err.message));
  }
  /** One read of a client's response: headers once, then chunked framing around the SSE bytes. */
  function onBytes(c, buf, pos, end) {
    while (pos < end) {
      if (c.state === 'headers') {
        const take = buf.toString('latin1', pos, end);
        const at = (c.headers + take).indexOf('\r\n\r\n');
        if (at < 0) { c.headers += take; return; }
        const head = (c.headers + take).slice(0, at);
        pos += at + 4 - c.headers.length;
        if (!/^HTTP\/1\.1 200 /.test(head) || !/\r\ntransfer-encoding: chunked\r?$/im.test(head)) return fail(c, `unexpected response: ${head.split('\r\n')[0]}`);
        if (gzip !== /\r\ncontent-encoding: gzip\r?$/im.test(head)) return fail(c, `asked for ${gzip ? 'gzip' : 'identity'}, got: ${head}`);
        c.state = 'size';
      } else if (c.state === 'size') {
        const b = buf[pos++];
        if (b === 0x0d) continue;
        if (b === 0x0a) {
          if (c.size === 0) { // last chunk: the stream ended
            c.ended = true;
            return;
          }
          c.remaining = c.size;
          c.size = 0;
          c.state = 'data';
        } else {
          const d = b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x57;
          if (d < 0 || d > 15) return fail(c, 'bad chunk size');
          c.size = c.size * 16 + d;
        }
      } else if (c.state === 'data') {
        const stop = Math.min(end, pos + c.remaining);
        if (!gzip) onSse(c, buf, pos, stop);
        else {
          c.chunks.push(Buffer.from(buf.subarray(pos, stop))); // the read buffer is shared: copy
          if (!deferred) {
            if (c.remaining === stop - pos) inflateChunk(c, Buffer.concat(c.chunks.splice(0))); // a whole piece
          } else if (!c.connected) {
            c.connected = true;
            if (++connected === clients.length) parentPort.postMessage({ type: 'connected' });
          }
        }
        bytes += stop - pos;
        c.remaining -= stop - pos;
        pos = stop;
        if (c.remaining === 0) c.state = 'crlf';
      } else { // the CRLF after a chunk's data
        if (buf[pos++] === 0x0a) c.state = 'size';
      }
    }
  }
  /** One whole HTTP chunk of a gzip stream: the gzip header first, then one deflate piece each. */
  function inflateChunk(c, bytes) {
    if (!c.sawHeader) {
      c.sawHeader = true;
      if (bytes.length !== 10 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) fail(c, 'the first chunk is not a gzip header');
      return;
    }
    let out;
    try {
      out = zlib.inflateRawSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (err) {
      return fail(c, `a chunk is not a deflate piece: ${err.message}`);
    }
    onSse(c, out, 0, out.length);
  }
  /** SSE bytes: scanned for the blank line ending each event; only an event's first 64 bytes are decoded. */
  function onSse(c, buf, pos, end, at) {
    while (pos < end) {
      if (c.pendingNl && buf[pos] === 0x0a) {
        c.pendingNl = false;
        onEvent(c, c.head, at);
        c.head = '';
        pos++;
        continue;
      }
      c.pendingNl = false;
      let idx = buf.indexOf(NL2, pos);
      if (idx + 2 > end) idx = -1;
      const stop = idx < 0 ? end : idx;
      if (c.head.length < 64) c.head += buf.toString('latin1', pos, Math.min(stop, pos + 64 - c.head.length));
      if (idx < 0) {
        c.pendingNl = buf[end - 1] === 0x0a;
        return;
      }
      onEvent(c, c.head, at);
      c.head = '';
      pos = idx + 2;
    }
  }
  /** One event's first bytes; `at` = when it was received (deferred: when the stream ended). */
  function onEvent(c, head, at = wallMs()) {
    if (!head.startsWith('event: ')) return; // retry field, comments
    const nl = head.indexOf('\n');
    const name = head.slice(7, nl);
    if (!head.startsWith('id: ', nl + 1)) return;
    const nl2 = head.indexOf('\n', nl + 1);
    const id = Number(head.slice(nl + 5, nl2 < 0 ? head.length : nl2));
    if (name === 'snapshot') {
      c.snapshots++;
      c.firstSnapshot ??= id;
      c.last = id;
      if (!deferred && c.snapshots === 1 && ++connected === clients.length) parentPort.postMessage({ type: 'connected' });
    } else if (name === 'diff') {
      c.times[id] = at;
      c.last = id;
    }
  }
}
const NL2 = Buffer.from('\n\n');

// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const get = (name, def) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
  };
  const speed = get('speed', '1');
  return {
    clients: Number(get('clients', '500')),
    speed: speed === 'max' ? 'max' : Number(speed),
    minutes: Number(get('minutes', '1')),
    strategies: get('strategies', 'single,vertical,fly').split(','),
    workers: Number(get('workers', '1')),
    bufferMib: Number(get('buffer-mib', '16')),
    runs: Number(get('runs', '3')),
    format: get('format', '2') === '1' ? 1 : 2,
    gzip: get('encoding', 'gzip') !== 'identity',
    latency: !argv.includes('--no-latency'),
    json: argv.includes('--json'),
  };
}

const round = (x) => Math.round(x * 100) / 100;
const fmtRate = (r) => `${r.versions_per_s.toLocaleString('en-US')} versions/s, ${r.lines_per_s.toLocaleString('en-US')} lines/s (${r.wall_ms} ms)`;
const fmtBytes = (b) => (b > 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${(b / 1e6).toFixed(1)} MB`);

if (isMainThread) await main();
else runClients(workerData);
