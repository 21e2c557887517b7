#!/usr/bin/env node
// `npm run bench`: how fast this machine turns a recorded day into published heatmaps.
//
//   npm run bench [-- --quick] [-- --reuse]
//
// 1. sim: a seeded day-scale recording (I:SPX, 0–2 DTE, ±150 points of strikes, ~1.5 M WS trades
//    over 6h30m, a chain snapshot a minute) and one ×4 as long, into bench/data/ (git-ignored).
//    The day's generation time is measurement (c). --reuse keeps recordings already there when
//    their manifest matches (sim is then not timed).
// 2. On the same files, each stage in its own process (bench/lib/stage.js), so that peak RSS and JIT
//    state are its own:
//      (a) floor:  read + gunzip + split + JSON.parse of every line, nothing else
//          reader / decode / engine: where replay's time goes (see stage.js)
//      (b) replay --speed max --out /dev/null with single + vertical + fly, and each alone
//      (d) TUI CPU per frame at 120×40 (bench/tui-frame.mjs)
//      (e) convert --to parquet of the day
//      (f) the peer: DuckDB computing the fly history per 500 ms over those Parquet files
//          (bench/duckdb-fly.mjs) beside `replay --strategies fly` of the day (default --jobs, and --jobs 1)
//      (g) SSE with 500 clients on loopback at --speed max vs no clients (bench/sse-load.mjs)
//    ×4: floor and replay (all) again, for how time and RSS grow with the recording's length.
// 3. The ratio targets of issue #14 in 5 interleaved rounds (floor, replay, --jobs 1, fly alone,
//    DuckDB), judged on the median of the rounds' own ratios (one round with --quick): this
//    VM's speed drifts between passes.
// 4. Prints a table and writes bench/results.json.
//
// --quick: the ×4 recording and the per-strategy runs are skipped.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const dataDir = path.join(here, 'data');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const reuse = args.includes('--reuse');
const unknown = args.filter((a) => !['--quick', '--reuse'].includes(a));
if (unknown.length > 0) {
  console.error(`bench: unknown argument ${unknown[0]} (known: --quick, --reuse)`);
  process.exit(2);
}
if (!fs.existsSync(path.join(root, 'dist/cli/main.js'))) {
  console.error('bench: dist/ is missing: run `npm run build` first (npm run bench does)');
  process.exit(2);
}
fs.mkdirSync(dataDir, { recursive: true });
const { parseDuration } = await import(path.join(root, 'dist/cli/parse-options.js'));

const STRATEGIES = ['single', 'vertical', 'fly'];
const DAY = { name: 'day', duration: '6h30m', dir: path.join(dataDir, 'day') };
const X4 = { name: 'x4', duration: '26h', dir: path.join(dataDir, 'day-x4') };
const SIM_FLAGS = ['--seed', '1', '--underlying', 'I:SPX', '--max-dte', '2', '--chain-range', '150', '--trade-rate', '64', '--no-progress'];
const log = (msg) => process.stderr.write(`${msg}\n`);

/** Runs one stage in a fresh Node process; returns its JSON report (the last stdout line). */
function stage(mode, rec, extra = []) {
  const r = spawnSync(process.execPath, [path.join(here, 'lib/stage.js'), mode, rec, ...extra], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (r.status !== 0) {
    console.error(`bench: stage ${mode} ${extra.join(' ')} failed (exit ${r.status})\n${r.stderr.slice(-2000)}`);
    process.exit(1);
  }
  const last = r.stdout.trim().split('\n').at(-1);
  return JSON.parse(last);
}

/** heatmap ARGS run in a stage process (the command line exactly as a user runs it). */
const cli = (...heatmapArgs) => stage('cli', '-', heatmapArgs);

function simParamsMatch(rec) {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(rec.dir, 'manifest.json'), 'utf8'));
    const p = m.sim?.params ?? {};
    return p.chain_range === 150 && p.max_dte === 2 && p.trade_rate === 64 && m.sim.seed === 1 && p.duration_ms === parseDuration(rec.duration, '--duration');
  } catch {
    return false;
  }
}

function generate(rec) {
  if (reuse && simParamsMatch(rec)) {
    log(`sim ${rec.name}: reusing ${path.relative(root, rec.dir)}`);
    return undefined;
  }
  log(`sim ${rec.name}: generating ${rec.duration} into ${path.relative(root, rec.dir)} …`);
  return cli('sim', '--out', rec.dir, '--force', '--duration', rec.duration, ...SIM_FLAGS);
}

const replayArgs = (rec, strategies) => ['replay', rec.dir, '--speed', 'max', '--out', '/dev/null', '--no-progress', '--strategies', strategies.join(',')];

const results = { stages: [] };
const add = (name, rec, r, extra = {}) => {
  const row = { name, recording: rec?.name ?? '-', ms: Math.round(r.ms), cpu_ms: Math.round(r.cpu_ms), max_rss_mb: Math.round(r.max_rss_kb / 1024), ...extra };
  results.stages.push(row);
  log(`  ${name.padEnd(22)} ${(r.ms / 1000).toFixed(1).padStart(7)} s  rss ${String(row.max_rss_mb).padStart(5)} MB`);
  return r;
};

const t0 = performance.now();
const recs = quick ? [DAY] : [DAY, X4];
for (const rec of recs) {
  const r = generate(rec);
  if (r) add(`sim ${rec.duration}`, rec, r);
}

// The recordings' size, from the floor pass (it reads every byte and parses every line).
const floors = {};
for (const rec of recs) {
  log(`${rec.name}: floor …`);
  floors[rec.name] = add('floor (a)', rec, stage('floor', rec.dir));
}
const day = floors.day;
results.recordings = Object.fromEntries(
  recs.map((rec) => {
    const f = floors[rec.name];
    return [rec.name, { duration: rec.duration, lines: f.lines, bytes: f.bytes, gz_bytes: f.gz_bytes, ws_trades: f.trades, index_values: f.index_values, chain_pages: f.chain_pages }];
  }),
);

log('day: where replay time goes …');
add('reader', DAY, stage('reader', DAY.dir));
add('reader + decode', DAY, stage('decode', DAY.dir));
const engine = add('engine (no output)', DAY, stage('engine', DAY.dir, ['--strategies', STRATEGIES.join(','), '--format', '2']));
const engine1 = add('engine, format 1', DAY, stage('engine', DAY.dir, ['--strategies', STRATEGIES.join(','), '--format', '1']));
// What replay of the day produces with all three strategies, in the default format 2 and in
// format 1 (every changed tile upserted whole, DESIGN §3).
results.output = { versions: engine.versions, upserts: engine.upserts, ndjson_bytes: engine.out_bytes, format1_bytes: engine1.out_bytes };
// The output floor: hashing those bytes once (DESIGN §3 hashes every upsert) — no replay of the day
// producing this stream can be faster, on one core.
add('output hash floor', DAY, stage('hash', '-', ['--bytes', String(engine.out_bytes), '--chunk', String(Math.round(engine.out_bytes / engine.outputs))]));

for (const rec of recs) {
  log(`${rec.name}: replay --speed max, ${STRATEGIES.join(' + ')} …`);
  add('replay all (b)', rec, cli(...replayArgs(rec, STRATEGIES)), { strategies: STRATEGIES.join(','), jobs: Math.min(os.availableParallelism(), STRATEGIES.length) });
}
log(`day: replay --speed max, ${STRATEGIES.join(' + ')}, --format 1 …`);
add('replay all, format 1', DAY, cli(...replayArgs(DAY, STRATEGIES), '--format', '1'), { strategies: STRATEGIES.join(','), jobs: Math.min(os.availableParallelism(), STRATEGIES.length) });
log(`day: replay --speed max, ${STRATEGIES.join(' + ')}, one thread (--jobs 1) …`);
add('replay all, 1 thread', DAY, cli(...replayArgs(DAY, STRATEGIES), '--jobs', '1'), { strategies: STRATEGIES.join(','), jobs: 1 });
if (!quick) {
  for (const s of STRATEGIES) {
    log(`day: replay --speed max, ${s} alone …`);
    add(`replay ${s} (b)`, DAY, cli(...replayArgs(DAY, [s])), { strategies: s });
  }
}

log('day: convert --to parquet (e) …');
const pqDir = path.join(dataDir, 'day-parquet');
add('convert parquet (e)', DAY, cli('convert', DAY.dir, '--to', 'parquet', '--out', pqDir, '--overwrite', '--no-progress'));

// The peer a user would reach for (issue #14): DuckDB over the day's Parquet tables, the fly
// history per 500 ms bucket (bench/duckdb-fly.mjs says what the query computes; DuckDB uses every
// core), beside `replay --strategies fly` as a user runs it (default --jobs: the engine in a worker,
// the recording read on the main thread) — both in the rounds below, the first round's pair in the
// report — and in one thread (--jobs 1), here.
log('day: replay --strategies fly --jobs 1 (f) …');
const flyOne = add('replay fly, 1 thread', DAY, cli(...replayArgs(DAY, ['fly']), '--jobs', '1'), { strategies: 'fly', jobs: 1 });

// Issue #14's ratio targets, in interleaved rounds. This VM's speed drifts (a fixed loop has taken
// 0.8 s and 5.5 s minutes apart), so one floor and one replay measured minutes apart can be 30 %
// off each other: the single passes above fill the table, and the targets come from rounds that
// run the floor, the replay (default --jobs), the replay with --jobs 1, fly alone (default --jobs)
// and DuckDB's fly query back to back. A ratio is judged per round (each round's replay over the
// same round's floor, measured a few seconds apart) and the target on the median of those ratios;
// the best (minimum) of each side over all rounds is printed beside it. Best-of-each pairs a floor
// from one round with a replay from another: in the bench of 2026-12-02 03:41 that gave 2.98×
// where the rounds' own ratios were 2.98, 3.36 and 3.40.
const ROUNDS = quick ? 1 : 5;
const rounds = { floor_ms: [], replay_ms: [], replay_one_thread_ms: [], replay_fly_ms: [], duckdb_fly_ms: [] };
for (let r = 0; r < ROUNDS; r++) {
  log(`day: target round ${r + 1}/${ROUNDS} (floor, replay, --jobs 1, fly alone, DuckDB) …`);
  rounds.floor_ms.push(Math.round(stage('floor', DAY.dir).ms));
  rounds.replay_ms.push(Math.round(cli(...replayArgs(DAY, STRATEGIES)).ms));
  rounds.replay_one_thread_ms.push(Math.round(cli(...replayArgs(DAY, STRATEGIES), '--jobs', '1').ms));
  rounds.replay_fly_ms.push(Math.round(cli(...replayArgs(DAY, ['fly'])).ms));
  const d = runJson('duckdb-fly.mjs', [pqDir, '--json']);
  rounds.duckdb_fly_ms.push(d.ms === undefined ? null : Math.round(d.ms)); // null: DuckDB did not run
  if (r === 0) {
    results.duckdb_fly = d;
    if (d.ms !== undefined) Object.assign(d, { replay_fly_ms: rounds.replay_fly_ms[0], replay_fly_one_thread_ms: Math.round(flyOne.ms) });
  }
  log(`  floor ${rounds.floor_ms[r] / 1000} s, replay ${rounds.replay_ms[r] / 1000} s, --jobs 1 ${rounds.replay_one_thread_ms[r] / 1000} s, fly ${rounds.replay_fly_ms[r] / 1000} s, DuckDB ${(rounds.duckdb_fly_ms[r] ?? NaN) / 1000} s`);
}
results.rounds = { count: ROUNDS, ...rounds };

// SSE fan-out (issue #14): a 5-minute sim replayed at --speed max into the SSE server, with no
// client and with 500 clients on loopback that must each get every version. The clients ask for
// gzip, as browsers do (the target is judged on this run); the same without gzip is reported too.
log('SSE: 500 clients on loopback at --speed max vs none (g) …');
results.sse = runJson('sse-load.mjs', ['--clients', '500', '--minutes', '5', '--runs', '3', '--no-latency', '--json'], true);
log('SSE: the same, clients without gzip …');
results.sse_identity = runJson('sse-load.mjs', ['--clients', '500', '--minutes', '5', '--runs', '3', '--no-latency', '--encoding', 'identity', '--json'], true);

log('TUI CPU per frame at 120x40 (d) …');
/** Runs a bench script and parses its JSON report (the last line, or all of stdout); `{error}` if it fails. */
function runJson(script, scriptArgs, whole = false) {
  const r = spawnSync(process.execPath, [path.join(here, script), ...scriptArgs], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n').at(-1) };
  try {
    return JSON.parse(whole ? r.stdout : r.stdout.trim().split('\n').at(-1));
  } catch {
    return { error: 'unreadable report' };
  }
}

const tui = spawnSync(process.execPath, [path.join(here, 'tui-frame.mjs'), '--size', '120x40', '--only', 'rows', '--json'], { cwd: root, encoding: 'utf8' });
if (tui.status !== 0) {
  console.error(`bench: tui-frame failed (exit ${tui.status})\n${tui.stderr.slice(-2000)}`);
  process.exit(1);
}
const tuiReport = JSON.parse(tui.stdout.trim().split('\n').at(-1));
results.tui = { size: '120x40', grid_rows: tuiReport.grid_rows, grid_strikes: tuiReport.grid_strikes, ms_per_frame: round2(tuiReport.results[0].ms_per_frame) };

// Rates and ratios: every stage of a recording is measured against that recording's floor.
for (const row of results.stages) {
  const rec = results.recordings[row.recording];
  if (!rec || row.name.startsWith('sim')) continue;
  const s = row.ms / 1000;
  row.lines_per_s = Math.round(rec.lines / s);
  row.events_per_s = Math.round((rec.ws_trades + rec.index_values + rec.chain_pages) / s);
  row.mb_per_s = round1(rec.bytes / 1e6 / s);
  row.x_floor = round2(row.ms / floors[row.recording].ms);
}
const find = (name, rec) => results.stages.find((r) => r.name === name && r.recording === rec);
const replayDay = find('replay all (b)', 'day');
const hashFloor = find('output hash floor', 'day');
// Why replay_vs_floor cannot reach 2 with this output: hashing the output once takes this many floors.
results.limits = {
  output_hash_floor_vs_floor: round2(hashFloor.ms / floors.day.ms),
  replay_vs_output_hash_floor: round2(replayDay.ms / hashFloor.ms),
  replay_jobs: replayDay.jobs,
  parallel_speedup: round2(find('replay all, 1 thread', 'day').ms / replayDay.ms),
};
const format1Day = find('replay all, format 1', 'day');
const f2ratio = round2(results.output.format1_bytes / results.output.ndjson_bytes);
/**
 * A ratio target from the rounds: `a` over `b` in each round, judged on the median of those
 * ratios (at most `max`); the per-round ratios and best of `a` over best of `b` are reported too.
 */
function ratioTarget(a, b, max) {
  const pairs = rounds[a].map((ms, i) => [ms, rounds[b][i]]).filter(([p, q]) => p != null && q != null);
  const n = pairs.length;
  const perRound = pairs.map(([p, q]) => p / q);
  const x = median(perRound);
  const best = Math.min(...pairs.map(([p]) => p)) / Math.min(...pairs.map(([, q]) => q));
  // judged on the ratio itself: 4.004 shows as 4 but is not ≤ 4
  return {
    value: round3(x),
    target: `<= ${max} (median of ${n} rounds' ratios)`,
    met: x <= max,
    per_round: perRound.map(round3),
    best_of_each: round3(best),
  };
}
/** The median of a non-empty list (the mean of the middle two for an even count). */
function median(xs) {
  const v = [...xs].sort((p, q) => p - q);
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}
results.targets = {
  // Issue 14's targets (format 2, the default): stream ≤ 1/6 of format 1, replay ≤ 4× the floor
  // with the default jobs and ≤ 7× in one thread.
  format2_smaller_by: { value: f2ratio, target: '>= 6', met: f2ratio >= 6 },
  replay_vs_floor: ratioTarget('replay_ms', 'floor_ms', 4),
  replay_one_thread_vs_floor: ratioTarget('replay_one_thread_ms', 'floor_ms', 7),
  replay_format1_vs_floor: { value: format1Day.x_floor, target: '(format 1, for comparison)', met: true },
  day_peak_rss_mb: { value: replayDay.max_rss_mb, target: '< 512', met: replayDay.max_rss_mb < 512 },
};
if (rounds.duckdb_fly_ms.some((ms) => ms !== null)) results.targets.replay_fly_vs_duckdb = ratioTarget('replay_fly_ms', 'duckdb_fly_ms', 1.5);
const sse = results.sse?.throughput;
if (sse) {
  const kept = sse.sse_with_clients.versions_per_s / sse.sse_no_clients.versions_per_s;
  results.targets.sse_500_clients_rate_kept = { value: round3(kept), target: `>= 0.5 of the no-client rate (clients take ${results.sse.encoding})`, met: kept >= 0.5 };
  const si = results.sse_identity?.throughput;
  if (si) {
    const keptIdentity = si.sse_with_clients.versions_per_s / si.sse_no_clients.versions_per_s;
    results.targets.sse_500_clients_rate_kept_no_gzip = { value: round3(keptIdentity), target: '(clients without gzip, for comparison)', met: true };
  }
  const complete = sse.sse_with_clients.complete_clients;
  results.targets.sse_500_clients_every_version = { value: `${complete}/${results.sse.clients}`, target: 'all', met: complete === results.sse.clients };
}
const simDay = find('sim 6h30m', 'day');
if (simDay) results.targets.sim_day_s = { value: round1(simDay.ms / 1000), target: '< 60', met: simDay.ms < 60_000 };
if (!quick) {
  const replayX4 = find('replay all (b)', 'x4');
  const rssGrowth = replayX4.max_rss_mb / replayDay.max_rss_mb - 1;
  results.scaling = {
    lines: round2(results.recordings.x4.lines / results.recordings.day.lines),
    floor_time: round2(floors.x4.ms / floors.day.ms),
    replay_time: round2(replayX4.ms / replayDay.ms),
    replay_rss: round2(replayX4.max_rss_mb / replayDay.max_rss_mb),
  };
  results.targets.rss_growth_x4 = { value: `${Math.round(rssGrowth * 100)} %`, target: '<= +15 %', met: rssGrowth <= 0.15 };
}
// The web view in headless Chromium (bench/web-view.mjs): 20 diffs/s of 500 tiles, the browser's
// own metrics. Skipped with a note when Chromium is not installed.
log('web view: 20 diffs/s of 500 tiles in headless Chromium …');
{
  const r = spawnSync(process.execPath, [path.join(here, 'web-view.mjs')], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status === 0) {
    try {
      results.web_view = JSON.parse(r.stdout);
    } catch {
      results.web_view = { error: 'unreadable report' };
    }
  } else {
    results.web_view = { error: (r.stderr || `exit ${r.status}`).trim().split('\n')[0] };
  }
}
// Redis scale-out (bench/redis.mjs): the day through feed + 3 pipeline processes + 1 SSE process,
// against the single-process replay. Skipped with a note when redis-server is not installed.
log('day: Redis — feed + 3 pipelines + 1 sse vs replay …');
{
  const r = spawnSync(process.execPath, [path.join(here, 'redis.mjs'), DAY.dir, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status === 0) {
    try {
      results.redis = JSON.parse(r.stdout.trim().split('\n').at(-1));
    } catch {
      results.redis = { error: 'unreadable report' };
    }
  } else {
    results.redis = { error: (r.stderr || `exit ${r.status}`).trim().split('\n').at(-1) };
  }
}
results.machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memory_gib: round1(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
};
results.measured_at = new Date().toISOString();
results.total_s = round1((performance.now() - t0) / 1000);

fs.writeFileSync(path.join(here, 'results.json'), JSON.stringify(results, null, 2) + '\n');
printTable();

function printTable() {
  const out = [];
  const m = results.machine;
  out.push(`heatmap bench — ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, node ${m.node}`);
  for (const [name, r] of Object.entries(results.recordings)) {
    out.push(`  ${name.padEnd(4)} ${r.duration.padEnd(6)} ${fmt(r.lines)} lines, ${fmt(r.ws_trades)} WS trades, ${round1(r.bytes / 1e6)} MB (${round1(r.gz_bytes / 1e6)} MB gzipped)`);
  }
  out.push('');
  out.push(`${'stage'.padEnd(22)} ${'rec'.padEnd(4)} ${'time s'.padStart(8)} ${'lines/s'.padStart(10)} ${'events/s'.padStart(10)} ${'MB/s'.padStart(7)} ${'×floor'.padStart(7)} ${'RSS MB'.padStart(7)}`);
  for (const r of results.stages) {
    out.push(
      `${r.name.padEnd(22)} ${r.recording.padEnd(4)} ${(r.ms / 1000).toFixed(1).padStart(8)} ${fmt(r.lines_per_s).padStart(10)} ${fmt(r.events_per_s).padStart(10)} ${String(r.mb_per_s ?? '').padStart(7)} ${String(r.x_floor ?? '').padStart(7)} ${String(r.max_rss_mb).padStart(7)}`,
    );
  }
  const o = results.output;
  const inBytes = results.recordings.day.bytes;
  const secs = replayDay.ms / 1000;
  out.push(
    `day replay output: ${fmt(o.versions)} versions, ${fmt(o.upserts)} tile upserts, ${round1(o.ndjson_bytes / 1e9)} GB of NDJSON (${round1(o.ndjson_bytes / inBytes)}× the recording); ` +
      `replay moves ${round1((inBytes + o.ndjson_bytes) / 1e6 / secs)} MB/s in + out, floor ${find('floor (a)', 'day').mb_per_s} MB/s in`,
  );
  const w = results.web_view;
  out.push(w?.frames ? `web view, 20 diffs/s × 500 tiles: ${JSON.stringify(w.frames)}; main thread busy ${w.browser_metrics.main_thread_busy_pct} %` : `web view: not measured (${w?.error ?? 'no report'})`);
  const rd = results.redis;
  out.push(
    rd?.end_to_end_s !== undefined
      ? `redis: feed + 3 pipelines + 1 sse ${rd.end_to_end_s} s vs replay ${rd.replay_s} s (${rd.vs_replay}×); feed ${rd.feed_s} s (${fmt(rd.xadd_entries_per_s)} XADD entries/s); ` +
          `Redis ${rd.redis_memory_mb.used} MB used (raw stream ${rd.redis_memory_mb.raw_stream} MB); streams match the replay: ${Object.values(rd.streams).every((x) => x.matches_replay)}`
      : `redis: not measured (${rd?.error ?? 'no report'})`,
  );
  const d = results.duckdb_fly;
  out.push(
    d?.ms !== undefined
      ? `DuckDB fly history per 500 ms over the day's Parquet: ${(d.ms / 1000).toFixed(2)} s (${d.threads} threads, ${fmt(d.rows)} rows); replay --strategies fly: ${(d.replay_fly_ms / 1000).toFixed(1)} s (${round2(d.replay_fly_ms / d.ms)}×), with --jobs 1: ${(d.replay_fly_one_thread_ms / 1000).toFixed(1)} s (${round2(d.replay_fly_one_thread_ms / d.ms)}×)`
      : `DuckDB fly history: not measured (${d?.error ?? 'no report'})`,
  );
  const st = results.sse?.throughput;
  out.push(
    st
      ? `SSE, 5-min sim at --speed max: engine alone ${fmt(st.engine_alone.versions_per_s)} versions/s, SSE server with no client ${fmt(st.sse_no_clients.versions_per_s)}, ` +
          `with ${results.sse.clients} clients ${fmt(st.sse_with_clients.versions_per_s)} (${round3(st.sse_with_clients.versions_per_s / st.sse_no_clients.versions_per_s)}×); ` +
          `${round1(st.sse_with_clients.bytes / 1e9)} GB delivered (${results.sse.encoding}), ${st.sse_with_clients.complete_clients}/${results.sse.clients} clients got every version`
      : `SSE: not measured (${results.sse?.error ?? 'no report'})`,
  );
  const si = results.sse_identity?.throughput;
  out.push(
    si
      ? `SSE without gzip: no client ${fmt(si.sse_no_clients.versions_per_s)} versions/s, with ${results.sse_identity.clients} clients ${fmt(si.sse_with_clients.versions_per_s)} ` +
          `(${round3(si.sse_with_clients.versions_per_s / si.sse_no_clients.versions_per_s)}×); ${round1(si.sse_with_clients.bytes / 1e9)} GB delivered, ${si.sse_with_clients.complete_clients}/${results.sse_identity.clients} clients got every version`
      : `SSE without gzip: not measured (${results.sse_identity?.error ?? 'no report'})`,
  );
  out.push(`TUI frame at 120x40 (${results.tui.grid_rows} rows × ${results.tui.grid_strikes} strikes): ${results.tui.ms_per_frame} ms CPU per frame`);
  if (results.scaling) {
    const s = results.scaling;
    out.push(`×4 recording: ${s.lines}× lines → floor ${s.floor_time}× time, replay ${s.replay_time}× time, replay peak RSS ${s.replay_rss}×`);
  }
  const l = results.limits;
  out.push(
    `hashing the day's output once (SHA-256, DESIGN §3) takes ${l.output_hash_floor_vs_floor}× the floor; replay takes ${l.replay_vs_output_hash_floor}× that; ` +
      `${l.replay_jobs} worker threads are ${l.parallel_speedup}× faster than one`,
  );
  const tr = results.rounds;
  const list = (v) => v.map((ms) => (ms === null ? '–' : (ms / 1000).toFixed(1))).join(' / ');
  out.push(`target rounds (s): floor ${list(tr.floor_ms)}; replay ${list(tr.replay_ms)}; --jobs 1 ${list(tr.replay_one_thread_ms)}; fly ${list(tr.replay_fly_ms)}; DuckDB ${list(tr.duckdb_fly_ms)}`);
  out.push('targets:');
  for (const [k, t] of Object.entries(results.targets)) {
    const detail = t.per_round ? `; rounds ${t.per_round.join(' / ')}, best of each ${t.best_of_each}` : '';
    out.push(`  ${t.met ? 'met    ' : 'NOT met'}  ${k} = ${t.value} (target ${t.target}${detail})`);
  }
  out.push(`written: bench/results.json (${results.total_s} s in all)`);
  console.log(out.join('\n'));
}

function fmt(n) {
  return n === undefined ? '' : Math.round(n).toLocaleString('en-US');
}
function round1(x) {
  return Math.round(x * 10) / 10;
}
function round2(x) {
  return Math.round(x * 100) / 100;
}
function round3(x) {
  return Math.round(x * 1000) / 1000;
}
