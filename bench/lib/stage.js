#!/usr/bin/env node
// One measured stage of the replay pipeline, run in its own process (so peak RSS and JIT state are
// its own). Prints one JSON object on stdout; bench/run.js spawns it.
//
//   node bench/lib/stage.js MODE REC [--strategies a,b] [--config FILE]
//
// Modes, each a superset of the one before (except where noted):
//   gunzip  read + gunzip every stream file (bytes only)
//   split   + UTF-8 decode + split into lines
//   floor   + JSON.parse of every line — the floor (a) of issue #8: nothing else
//   reader  the project's reader instead: readRecording (per-stream gunzip by hand, recv_us prefix,
//           k-way merge into replay order), no JSON.parse
//   decode  reader + LineDecoder.decode (JSON.parse, lossless ns for chain pages, WS/REST parsers)
//   engine  replayRecording (reader + decoder + Engine) with an onOutput that discards: the engine's
//           cost including Publisher.commit (the version line's bytes, sha256), without writing
//   hash    the output floor: SHA-256 of --bytes N bytes in chunks of --chunk C (one hash chain link
//           per chunk, as the publisher does per version). DESIGN §3 hashes every published upsert,
//           so no replay can be faster than this for the same output (REC is `-`)
//   cli     the real command line in this process: `node bench/lib/stage.js cli - replay REC --speed
//           max --out /dev/null …` (REC is `-`; the rest are heatmap's arguments), so that peak RSS
//           and CPU are those of the command exactly as a user runs it
//
// The floor reads the streams one after another (no merge) with large buffers: it is the cheapest
// honest way to get every line of the recording parsed in one Node thread.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = (p) => import(path.join(here, '../../dist', p));

const [mode, rec, ...rest] = process.argv.slice(2);
const opt = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
if (!mode || !rec) {
  console.error('usage: node bench/lib/stage.js gunzip|split|floor|reader|decode|engine REC [--strategies a,b] [--config FILE]');
  console.error('       node bench/lib/stage.js hash - --bytes N --chunk C');
  console.error('       node bench/lib/stage.js cli - HEATMAP_ARGS…');
  process.exit(2);
}

const STREAM_RE = /^(chain|indices|options|stocks)(?:\.\d+)?\.ndjson(?:\.gz)?$/;
function streamFiles(dir) {
  return fs
    .readdirSync(dir)
    .filter((f) => STREAM_RE.test(f))
    .sort()
    .map((f) => ({ file: path.join(dir, f), stream: STREAM_RE.exec(f)[1], gz: f.endsWith('.gz') }));
}

const MiB = 1 << 20;

/** Decoded byte chunks of one file (gunzipped when .gz), 1 MiB reads. */
function chunks(f) {
  const src = fs.createReadStream(f.file, { highWaterMark: MiB });
  return f.gz ? src.pipe(zlib.createGunzip({ chunkSize: 256 * 1024 })) : src;
}

async function rawStages(level) {
  const counts = { lines: 0, bytes: 0, gz_bytes: 0, trades: 0, index_values: 0, chain_pages: 0 };
  for (const f of streamFiles(rec)) {
    counts.gz_bytes += fs.statSync(f.file).size;
    const decoder = new StringDecoder('utf8');
    const isOptions = f.stream === 'options';
    const isIndices = f.stream === 'indices';
    let carry = '';
    const onLine = (text) => {
      if (text.length === 0) return;
      counts.lines++;
      if (level < 2) return;
      const obj = JSON.parse(text);
      // event counts for the report: array lengths only, nothing more
      if (isOptions) counts.trades += obj.frame.length;
      else if (isIndices) counts.index_values += obj.frame.length;
      else counts.chain_pages++;
    };
    for await (const buf of chunks(f)) {
      counts.bytes += buf.length;
      if (level < 1) continue;
      const piece = decoder.write(buf);
      let start = 0;
      let nl = piece.indexOf('\n');
      if (nl === -1) {
        carry += piece;
        continue;
      }
      onLine(carry + piece.slice(0, nl));
      carry = '';
      start = nl + 1;
      while ((nl = piece.indexOf('\n', start)) !== -1) {
        onLine(piece.slice(start, nl));
        start = nl + 1;
      }
      carry = piece.slice(start);
    }
    if (level >= 1) onLine(carry + decoder.end());
  }
  return counts;
}

async function readerStage(withDecode) {
  const { readRecordingBatches, newReadReport } = await dist('recording/reader.js');
  const { LineDecoder } = await dist('replay/decode.js');
  const { Tally } = await dist('engine/tally.js');
  const { readManifest } = await dist('recording/manifest.js');
  const manifest = await readManifest(rec);
  const decoder = new LineDecoder(manifest.underlying, new Tally());
  const counts = { lines: 0, chars: 0, inputs: 0, facts: 0 };
  // in batches, as replay reads them
  for await (const batch of readRecordingBatches(rec, {}, newReadReport())) for (const line of batch) {
    counts.lines++;
    counts.chars += line.text.length;
    if (!withDecode) continue;
    const input = decoder.decode(line);
    if (input) {
      counts.inputs++;
      if (input.type !== 'gap') counts.facts += input.facts.length;
    }
  }
  return counts;
}

async function engineStage() {
  const { replayRecording } = await dist('replay/replay.js');
  const { outputBytes } = await dist('engine/output-lines.js');
  const { loadEngineConfig } = await dist('cli/config-file.js');
  const config = await loadEngineConfig(opt('--config'), opt('--strategies'));
  let versions = 0;
  let upserts = 0;
  let outputs = 0;
  let outBytes = 0;
  const r = await replayRecording({
    dir: rec,
    config,
    format: opt('--format') === '2' ? 2 : 1,
    onOutput: (out) => {
      outputs++;
      // the NDJSON line replay would write (a version's line is built once, at publish): its size
      outBytes += outputBytes(out).length + 1;
      if (out.type === 'version') {
        versions++;
        upserts += out.stats.changed; // (reading out.upserts would build tile objects the replay never makes)
      }
    },
  });
  const strategies = Object.fromEntries(
    Object.entries(r.summary.strategies).map(([k, s]) => [k, { versions: s.versions, slots: s.slots, final_hash: s.final_hash }]),
  );
  return { lines: r.lines, outputs, out_bytes: outBytes, versions, upserts, strategies, facts: r.summary.facts };
}

function hashStage() {
  const total = Number(opt('--bytes'));
  const chunk = Math.max(1, Math.min(Number(opt('--chunk')), total));
  // bytes of a real version line's shape; SHA-256 runs at the same speed on any content
  const sample = Buffer.from('{"key":"SPXW:2025-11-21:fly:C:5850/5880/5910","legs":[{"ticker":"O:SPXW251121C05850000","price":54.52}]},');
  const buf = Buffer.alloc(chunk);
  for (let i = 0; i < chunk; i += sample.length) sample.copy(buf, i);
  let prev = '';
  let done = 0;
  let links = 0;
  while (done < total) {
    const n = Math.min(chunk, total - done);
    prev = createHash('sha256').update(prev).update(buf.subarray(0, n)).digest('hex');
    done += n;
    links++;
  }
  return { out_bytes: done, links };
}

async function cliStage() {
  const { main } = await dist('cli/main.js');
  const code = await main(['node', 'heatmap', ...rest]);
  if (code !== 0) throw new Error(`heatmap ${rest.join(' ')} exited ${code}`);
  return { exit: code };
}

const t0 = performance.now();
let counts;
if (mode === 'gunzip') counts = await rawStages(0);
else if (mode === 'split') counts = await rawStages(1);
else if (mode === 'floor') counts = await rawStages(2);
else if (mode === 'reader') counts = await readerStage(false);
else if (mode === 'decode') counts = await readerStage(true);
else if (mode === 'engine') counts = await engineStage();
else if (mode === 'hash') counts = hashStage();
else if (mode === 'cli') counts = await cliStage();
else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
const ms = performance.now() - t0;
const ru = process.resourceUsage();
process.stdout.write(
  JSON.stringify({ mode, ms, ...counts, max_rss_kb: ru.maxRSS, cpu_ms: (ru.userCPUTime + ru.systemCPUTime) / 1000 }) + '\n',
);
