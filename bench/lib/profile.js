// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, and per source file.
//
//   node bench/lib/profile.js FILE.cpuprofile [--top 25]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Self time (ms) per function and per file from a .cpuprofile; `top` rows of each, largest first. */
export function summariseProfile(file, top = 25) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const totalUs = prof.endTime - prof.startTime;
  const fns = new Map();
  const files = new Map();
  for (const [id, us] of selfUs) {
    const cf = byId.get(id).callFrame;
    const name = cf.functionName || (cf.url ? '(anonymous)' : '(native)');
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const fk = cf.url ? shortUrl(cf.url) : name.startsWith('(') ? name : '(native)';
    files.set(fk, (files.get(fk) ?? 0) + us);
  }
  const rows = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ what: k.trim(), self_ms: Math.round(us / 1000), pct: Math.round((us / totalUs) * 1000) / 10 }));
  return { total_ms: Math.round(totalUs / 1000), functions: rows(fns), files: rows(files) };
}

function shortUrl(url) {
  const u = url.replace(/^file:\/\//, '');
  const i = u.indexOf('/dist/');
  if (i >= 0) return u.slice(i + 1);
  const j = u.indexOf('/node_modules/');
  if (j >= 0) return u.slice(j + 1);
  return u.startsWith('node:') ? u : path.basename(u);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  const i = process.argv.indexOf('--top');
  const s = summariseProfile(file, i > 0 ? Number(process.argv[i + 1]) : 25);
  console.log(`total ${s.total_ms} ms`);
  console.log('self time by function:');
  for (const r of s.functions) console.log(`  ${String(r.self_ms).padStart(7)} ms ${String(r.pct).padStart(5)} %  ${r.what}`);
  console.log('self time by file:');
  for (const r of s.files) console.log(`  ${String(r.self_ms).padStart(7)} ms ${String(r.pct).padStart(5)} %  ${r.what}`);
}
