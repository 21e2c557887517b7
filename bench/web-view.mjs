#!/usr/bin/env node
// Web view smoothness benchmark (not a test): the page served by the SSE server (GET /), in
// headless Chromium, under a steady stream of large diffs; prints a JSON report on stdout.
//
//   npm run build && node bench/web-view.mjs [--seconds 10] [--rate 20] [--tiles 500] [--slots 1000]
//
// Input: a synthetic SseServer (dist/sinks/sse.js) with one strategy, `fly`, of --slots tiles
// (2 expirations × calls and puts × 10 widths × strikes). It publishes version 1 with every tile,
// opens the page, then publishes --rate diffs a second for --seconds, each upserting --tiles random
// tiles in format 1 (whole tiles: the heavier wire form). Numbers come from the browser itself:
// - Performance.getMetrics deltas over the stream: TaskDuration (all main-thread work),
//   ScriptDuration, LayoutDuration, RecalcStyleDuration (seconds), and their share of wall time;
// - frames: a requestAnimationFrame loop in the page counts frames and their intervals (p50/p95/max,
//   intervals over 50 ms = visible jank);
// - the page's own counters (window.heatmapState.perf()): events folded, renders, the largest
//   number of events folded between two renders (the backlog a frame absorbed), render time;
// - catch-up: wall time from the last publish until the page holds the last version.
// Chromium: $CHROMIUM_PATH or `chromium` on the PATH (Debian: apt-get install chromium).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv) {
  const a = { seconds: 10, rate: 20, tiles: 500, slots: 1000 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in a) || !(Number(argv[i + 1]) > 0)) throw new Error(`usage: node bench/web-view.mjs [--seconds N] [--rate N] [--tiles N] [--slots N] (bad ${argv[i]})`);
    a[k] = Number(argv[i + 1]);
  }
  a.tiles = Math.min(a.tiles, a.slots);
  return a;
}

/** Tile identities: strikes 5000, 5005, … of 2 expirations, both rights, widths 5…50. */
function makeSlots(n) {
  const slots = [];
  const perStrike = 2 * 2 * 10;
  for (let i = 0; slots.length < n; i++) {
    const k = 5000 + 5 * Math.floor(i / perStrike);
    const r = i % perStrike;
    const exp = r < 20 ? '2025-11-21' : '2025-11-24';
    const right = r % 20 < 10 ? 'C' : 'P';
    const w = 5 * ((r % 10) + 1);
    const strikes = [k - w, k, k + w];
    const tick = (s) => `O:SPXW${exp.slice(2).replaceAll('-', '')}${right}${String(s * 1000).padStart(8, '0')}`;
    slots.push({ key: `SPXW:${exp}:fly:${right}:${strikes.join('/')}`, root: 'SPXW', expiration: exp, right, strikes, tickers: strikes.map(tick), w });
  }
  return slots;
}

function makeTile(s, atUs) {
  const price = () => Math.round(Math.random() * 2000) / 100;
  const legs = s.tickers.map((ticker, i) => ({ ticker, ratio: i === 1 ? -2 : 1, price: price(), ts_us: atUs, source: 'ws' }));
  const value = Math.round(legs.reduce((n, l) => n + l.ratio * l.price, 0) * 1e6) / 1e6;
  const tile = { key: s.key, root: s.root, expiration: s.expiration, strategy: 'fly', right: s.right, strikes: s.strikes, legs, value, score: Math.round((value / s.w) * 1e6) / 1e6 };
  return { ...tile, ts_us: atUs, confidence: Math.round((0.7 + Math.random() * 0.3) * 1e4) / 1e4, source: 'ws' };
}

async function launchChromium(profile) {
  const bin = process.env.CHROMIUM_PATH ?? 'chromium';
  const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'];
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const exited = new Promise((r) => proc.once('exit', r));
  let err = '';
  const wsUrl = await new Promise((resolve, reject) => {
    proc.once('error', (e) => reject(new Error(`cannot start ${bin} (${e.message}): install chromium or set CHROMIUM_PATH`)));
    proc.stderr.on('data', (d) => {
      err = (err + d).slice(-20_000);
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    exited.then(() => reject(new Error(`chromium exited: ${err.slice(-1000)}`)));
  });
  return { proc, wsUrl, exited };
}

/** DevTools protocol: `send(method, params, sessionId)` → the result. */
async function connectCdp(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const pending = new Map();
  ws.on('message', (d) => {
    const m = JSON.parse(d);
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error.message));
    else p.resolve(m.result);
  });
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      pending.set(++id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  return { send, close: () => ws.close() };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const r1 = (x) => Math.round(x * 10) / 10;
const r2 = (x) => Math.round(x * 100) / 100;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { SseServer } = await import(path.join(here, '../dist/sinks/sse.js'));
  const server = await SseServer.start({ strategies: ['fly'], port: 0, format: 1 });
  const slots = makeSlots(args.slots);
  let version = 0;
  let atUs = Date.UTC(2025, 10, 21, 15, 0) * 1000;
  const publish = (upserts) => {
    version++;
    upserts.sort((a, b) => (a.key < b.key ? -1 : 1));
    server.publish({ type: 'version', strategy: 'fly', version, at_us: atUs, reasons: ['value'], prev_hash: '', hash: `synthetic-${version}`, upserts, removes: [], stats: { slots: slots.length, populated: slots.length, changed: upserts.length } });
  };
  publish(slots.map((s) => makeTile(s, atUs)));

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'heatmap-bench-web-'));
  const browser = await launchChromium(profile);
  const cdp = await connectCdp(browser.wsUrl);
  try {
    const { product } = await cdp.send('Browser.getVersion');
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    const page = (m, p) => cdp.send(m, p, sessionId);
    const evaluate = async (expression) => {
      const r = await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
      return r.result.value;
    };
    const waitFor = async (expression, what) => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(20)) if (await evaluate(expression).catch(() => false)) return;
      throw new Error(`timed out waiting for ${what}`);
    };
    await page('Emulation.setDeviceMetricsOverride', { width: 1600, height: 1000, deviceScaleFactor: 1, mobile: false });
    await page('Performance.enable', { timeDomain: 'timeTicks' });
    await page('Page.navigate', { url: `${server.url}/?strategy=fly` });
    await waitFor(`window.heatmapState?.fold('fly')?.version === ${version}`, 'the first version in the page');
    await evaluate('heatmapState.frame()');
    await evaluate(`(() => { const b = window.__bench = { frames: 0, gaps: [] }; let t = performance.now();
      const f = (now) => { b.frames++; b.gaps.push(now - t); t = now; requestAnimationFrame(f); }; requestAnimationFrame(f); })()`);
    const metrics = async () => Object.fromEntries((await page('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const before = await metrics();
    const perfBefore = await evaluate('heatmapState.perf()');

    // The stream: --rate diffs a second, each of --tiles random tiles.
    const started = performance.now();
    const count = Math.round(args.seconds * args.rate);
    let publishMs = 0;
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / args.rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      atUs += Math.round(1e6 / args.rate);
      const picked = new Set();
      while (picked.size < args.tiles) picked.add(Math.floor(Math.random() * slots.length));
      const t0 = performance.now();
      publish([...picked].map((j) => makeTile(slots[j], atUs)));
      publishMs += performance.now() - t0;
    }
    const lastPublished = performance.now();
    await waitFor(`heatmapState.fold('fly').version === ${version}`, 'the last version in the page');
    const catchUpMs = performance.now() - lastPublished;
    await evaluate('heatmapState.frame()');
    const wallS = (performance.now() - started) / 1000;
    const after = await metrics();
    const perfAfter = await evaluate('heatmapState.perf()');
    const frames = await evaluate('window.__bench');
    const gaps = frames.gaps.slice(1);
    const d = (k) => after[k] - before[k];

    const report = {
      bench: 'web-view',
      browser: product,
      params: { ...args, format: 1, viewport: '1600x1000', versions: count, bytes_per_diff_approx: JSON.stringify(makeTile(slots[0], atUs)).length * args.tiles },
      wall_s: r1(wallS),
      publish_ms_per_diff: r1(publishMs / count),
      browser_metrics: {
        task_s: r2(d('TaskDuration')),
        script_s: r2(d('ScriptDuration')),
        layout_s: r2(d('LayoutDuration')),
        recalc_style_s: r2(d('RecalcStyleDuration')),
        main_thread_busy_pct: Math.round((d('TaskDuration') / wallS) * 100),
        layouts: d('LayoutCount'),
        js_heap_mb: r1(after.JSHeapUsedSize / 1048576),
      },
      frames: {
        count: frames.frames,
        fps: r1(frames.frames / wallS),
        interval_ms: { p50: r1(quantile(gaps, 0.5)), p95: r1(quantile(gaps, 0.95)), max: r1(Math.max(0, ...gaps)) },
        over_50ms: gaps.filter((g) => g > 50).length,
      },
      page: {
        events: perfAfter.events - perfBefore.events,
        renders: perfAfter.renders - perfBefore.renders,
        max_backlog: perfAfter.max_backlog,
        render_ms: { p50: r1(perfAfter.render_ms.p50), p95: r1(perfAfter.render_ms.p95), max: r1(perfAfter.render_ms.max) },
      },
      catch_up_ms: Math.round(catchUpMs),
    };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } finally {
    await cdp.send('Browser.close').catch(() => undefined);
    cdp.close();
    if (!(await Promise.race([browser.exited.then(() => true), sleep(5000).then(() => false)]))) {
      try {
        process.kill(-browser.proc.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await server.close('shutdown', 500);
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  }
}

main().catch((err) => {
  process.stderr.write(`web-view bench: ${err.stack ?? err}\n`);
  process.exit(1);
});
