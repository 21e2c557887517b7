#!/usr/bin/env node
// A/B of two builds of the engine in one process, for changes of a few percent that separate runs
// on a noisy VM cannot resolve: the recording is decoded once (input codec batches, as parallel
// replay's workers get them), then the same inputs go through an engine of each build in turn,
// REPS times (in turn first and second); it prints min and median ms of each, and stops if the two builds' outputs differ.
//
//   git stash && npx tsc -p . --outDir node_modules/.ab-base/dist && git stash pop && npm run build
//   node bench/lib/engine-ab.mjs node_modules/.ab-base/dist [--strategies fly] [--fraction 0.15] [--reps 14] [--rec bench/data/day]
//
// The baseline build must sit inside the repository (node_modules/… is ignored by git) so that
// its imports of packages resolve.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const baseDir = args[0];
if (!baseDir || baseDir.startsWith('--')) {
  console.error('usage: node bench/lib/engine-ab.mjs BASE_DIST [--strategies fly] [--fraction 0.15] [--reps 14] [--rec bench/data/day]');
  process.exit(2);
}
const strategies = opt('--strategies', 'fly');
const fraction = Number(opt('--fraction', '0.15'));
const reps = Number(opt('--reps', '14'));
const rec = path.resolve(opt('--rec', path.join(root, 'bench/data/day')));
const load = (dir) => (p) => import(path.resolve(dir, p));
const cur = load(path.join(root, 'dist'));
const base = load(baseDir);

const { readRecordingBatches, newReadReport } = await cur('recording/reader.js');
const { LineDecoder } = await cur('replay/decode.js');
const { Tally } = await cur('engine/tally.js');
const { readManifest } = await cur('recording/manifest.js');
const { InputEncoder } = await cur('replay/input-codec.js');
const manifest = await readManifest(rec);
const decoder = new LineDecoder(manifest.underlying, new Tally());
const batches = [];
const encoder = new InputEncoder();
for await (const batch of readRecordingBatches(rec, {}, newReadReport())) {
  for (const line of batch) {
    const input = decoder.decode(line);
    if (input) encoder.add(input);
    if (encoder.size >= 32_768) batches.push(encoder.take());
  }
}
batches.push(encoder.take());
const part = batches.slice(0, Math.ceil(batches.length * fraction));

/** A function that runs one engine of the build over `part`: ms, output bytes, final hashes. */
async function runner(mod) {
  const { Engine } = await mod('engine/engine.js');
  const { resolveStrategies } = await mod('strategies/index.js');
  const { loadEngineConfig } = await mod('cli/config-file.js');
  const { outputBytes } = await mod('engine/output-lines.js');
  const { InputDecoder } = await mod('replay/input-codec.js');
  const config = await loadEngineConfig(undefined, strategies);
  return () => {
    // as in the parallel replay's workers (a build without linesOnly ignores it)
    const engine = new Engine({ config, underlying: manifest.underlying, strategies: resolveStrategies(config), format: 2, linesOnly: true });
    const inputs = new InputDecoder();
    let bytes = 0;
    const t0 = performance.now();
    for (const b of part) for (const input of inputs.inputs(b)) engine.push(input, (out) => (bytes += outputBytes(out).length));
    const ms = performance.now() - t0;
    const hashes = Object.values(engine.summary().strategies).map((s) => s.final_hash).join(',');
    return { ms, bytes, hashes };
  };
}

const runA = await runner(base);
const runB = await runner(cur);
const a = [];
const b = [];
for (let r = 0; r < reps; r++) {
  // alternate which build goes first: the second of a pair pays for the first one's garbage
  let x;
  let y;
  if (r % 2 === 0) {
    x = runA();
    y = runB();
  } else {
    y = runB();
    x = runA();
  }
  if (x.hashes !== y.hashes || x.bytes !== y.bytes) {
    console.error(`engine-ab: the builds' outputs differ (base ${x.bytes} B ${x.hashes}, current ${y.bytes} B ${y.hashes})`);
    process.exit(1);
  }
  a.push(x.ms);
  b.push(y.ms);
}
const min = (v) => Math.min(...v);
const med = (v) => [...v].sort((p, q) => p - q)[v.length >> 1];
console.log(
  `${strategies}, ${(fraction * 100).toFixed(0)} % of ${path.basename(rec)}, ${reps} alternations: base min ${min(a).toFixed(0)} ms, median ${med(a).toFixed(0)} ms; ` +
    `current min ${min(b).toFixed(0)} ms, median ${med(b).toFixed(0)} ms; current/base (min) ${(min(b) / min(a)).toFixed(3)}`,
);
