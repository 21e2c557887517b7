import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, parseNdjson, runCli, tempDir } from './helpers/cli.js';

// End to end through the built CLI: sim → replay at several speeds → verify / inspect, and the
// error paths a user hits (exit codes and one-line messages).

let work: { dir: string; cleanup: () => Promise<void> };
let rec: string;

beforeAll(async () => {
  work = await tempDir();
  rec = path.join(work.dir, 'rec');
  const r = await runCli(['sim', '--out', rec, '--duration', '12s', '--seed', '11', '--no-progress']);
  expect(r.code, r.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await work.cleanup();
});

const versionLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{"type":"version"'));

describe('heatmap replay', () => {
  it('writes version lines then one summary, NDJSON only on stdout (format 1: hash = sha256(prev + JSON of the upserts…))', async () => {
    const r = await runCli(['replay', rec, '--format', '1']);
    expect(r.code, r.stderr).toBe(0);
    const objs = parseNdjson(r.stdout);
    expect(objs.length).toBeGreaterThan(3);
    expect(objs.at(-1)!.type).toBe('summary');
    expect(objs.slice(0, -1).every((o) => o.type === 'version' || o.type === 'gap')).toBe(true);
    const summary = objs.at(-1) as { strategies: Record<string, { versions: number; final_hash: string }> };
    expect(Object.keys(summary.strategies)).toEqual(['single', 'vertical', 'fly']);
    for (const s of Object.values(summary.strategies)) expect(s.versions).toBeGreaterThan(0);
    // the hash chain links up and the summary's final hash is the last version's
    for (const name of Object.keys(summary.strategies)) {
      const vs = objs.filter((o) => o.type === 'version' && o.strategy === name) as { version: number; prev_hash: string; hash: string; at_us: number; reasons: unknown; upserts: unknown; removes: unknown }[];
      let prev = '';
      vs.forEach((v, i) => {
        expect(v.version).toBe(i + 1);
        expect(v.prev_hash).toBe(prev);
        const canonical = JSON.stringify({ strategy: name, version: v.version, at_us: v.at_us, reasons: v.reasons, upserts: v.upserts, removes: v.removes });
        expect(v.hash).toBe(createHash('sha256').update(prev + canonical).digest('hex'));
        prev = v.hash;
      });
      expect(summary.strategies[name]!.final_hash).toBe(prev);
    }
  });

  it('is byte-identical at --speed max, 50 and 3', async () => {
    const max = await runCli(['replay', rec, '--speed', 'max']);
    const fifty = await runCli(['replay', rec, '--speed', '50']);
    const one = await runCli(['replay', rec, '--speed', '3']); // paced: 12 s of session in 4 s
    expect(max.code).toBe(0);
    expect(fifty.stdout).toBe(max.stdout);
    expect(one.stdout).toBe(max.stdout);
  }, 60_000);

  it('--strategies runs exactly the named ones, and a strategy alone gives the same lines', async () => {
    const all = await runCli(['replay', rec]);
    const fly = await runCli(['replay', rec, '--strategies', 'fly']);
    expect(fly.code).toBe(0);
    const flyAlone = versionLines(fly.stdout);
    expect(flyAlone.length).toBeGreaterThan(0);
    expect(flyAlone.every((l) => l.includes('"strategy":"fly"'))).toBe(true);
    expect(versionLines(all.stdout).filter((l) => l.includes('"strategy":"fly"'))).toEqual(flyAlone);
  });

  it('--out writes the same stream to a file; --from/--to cut by receive time', async () => {
    const out = path.join(work.dir, 'v.ndjson');
    const r = await runCli(['replay', rec, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const full = await readFile(out, 'utf8');
    expect(full).toBe((await runCli(['replay', rec])).stdout);
    const summary = parseNdjson(full).at(-1) as { span_us: [number, number] };
    const mid = new Date(Math.floor((summary.span_us[0] + summary.span_us[1]) / 2000)).toISOString();
    const cut = await runCli(['replay', rec, '--to', mid]);
    const cutSummary = parseNdjson(cut.stdout).at(-1) as { span_us: [number, number]; lines: number };
    expect(cutSummary.span_us[1]).toBeLessThan(Date.parse(mid) * 1000);
    expect(cutSummary.lines).toBeLessThan((parseNdjson(full).at(-1) as { lines: number }).lines);
  });

  it('is the same for a plain (uncompressed) copy of the recording', async () => {
    const plain = path.join(work.dir, 'plain');
    await runCli(['sim', '--out', plain, '--duration', '12s', '--seed', '11', '--no-gzip', '--no-progress']);
    const a = await runCli(['replay', rec]);
    const b = await runCli(['replay', plain]);
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  }, 30_000);

  it('counts bad lines and a truncated gzip tail, keeps the rest, exits 0', async () => {
    const damaged = path.join(work.dir, 'damaged');
    await runCli(['sim', '--out', damaged, '--duration', '12s', '--seed', '11', '--no-progress']);
    // two malformed lines in the middle of the index stream
    const idx = path.join(damaged, 'indices.ndjson.gz');
    const lines = gunzipSync(await readFile(idx)).toString('utf8').split('\n');
    lines.splice(3, 0, '{"recv_us":1763735403000000,"frame":[{"ev":"V",', 'not json at all');
    await writeFile(idx, gzipSync(lines.join('\n')));
    // the options stream loses its tail, as if the recorder had been killed
    const opt = path.join(damaged, 'options.ndjson.gz');
    const bytes = await readFile(opt);
    await writeFile(opt, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const r = await runCli(['replay', damaged]);
    expect(r.code, r.stderr).toBe(0);
    const summary = parseNdjson(r.stdout).at(-1) as { bad: { total: number; reasons: Record<string, number> }; truncated_files: number };
    expect(summary.bad.total).toBe(2);
    expect(summary.truncated_files).toBe(1);
    expect(r.stderr).toMatch(/options\.ndjson\.gz/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('heatmap replay: errors end with exit 2 and a one-line message', () => {
  it('a path that is not a recording', async () => {
    const r = await runCli(['replay', work.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no manifest\.json/);
    expect(r.stdout).toBe('');
  });
  it('a missing directory', async () => {
    const r = await runCli(['replay', path.join(work.dir, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not exist/);
  });
  it('a bad flag value and an unknown flag', async () => {
    expect((await runCli(['replay', rec, '--speed', 'fast'])).code).toBe(2);
    const r = await runCli(['replay', rec, '--sped', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option/);
  });
  it('an unknown strategy names the valid ones', async () => {
    const r = await runCli(['replay', rec, '--strategies', 'condor']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown strategy "condor".*single, vertical, fly/);
  });
  it('a config with an unknown key names it; a missing config file says so', async () => {
    const cfg = path.join(work.dir, 'bad.json');
    await writeFile(cfg, JSON.stringify({ strategies: { fly: { publsh: {} } } }));
    const r = await runCli(['replay', rec, '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown key "strategies\.fly\.publsh"/);
    const m = await runCli(['replay', rec, '--config', path.join(work.dir, 'missing.json')]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/config file .* does not exist/);
  });
});

describe('heatmap replay: where the output goes away', () => {
  /** Runs `heatmap ARGS` with stdout on a pipe that is closed after the first chunk (like `| head -1`). */
  function runIntoClosedPipe(args: readonly string[]): Promise<{ code: number | null; stderr: string; got: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let got = 0;
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.once('data', (d: Buffer) => {
        got = d.length;
        child.stdout.destroy();
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr, got }));
    });
  }

  it('a reader that stops early (| head) ends the run quietly with exit 0', async () => {
    const r = await runIntoClosedPipe(['replay', rec, '--no-progress']);
    expect(r.got).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at |EPIPE/);
    // and it stops there instead of replaying the rest for nobody, in one thread and in workers:
    // a 30-minute sim (~63 k lines, ~0.1 GB of NDJSON; the pipe closes after 64 KB) is longer
    // than what the workers may have queued (16 input batches of ≤ 2,000 lines, 32 MB of output each)
    const long = path.join(work.dir, 'long');
    const sim = await runCli(['sim', '--out', long, '--duration', '30m', '--seed', '11', '--no-progress']);
    expect(sim.code, sim.stderr).toBe(0);
    const counts = /chain ([\d,]+) lines .* options ([\d,]+) frames .* indices ([\d,]+) lines/.exec(sim.stderr + sim.stdout);
    expect(counts, sim.stderr).not.toBeNull();
    const total = counts!.slice(1, 4).reduce((sum, n) => sum + Number(n.replace(/,/g, '')), 0);
    expect(total).toBeGreaterThan(60_000);
    for (const jobs of ['1', '2']) {
      const big = await runIntoClosedPipe(['replay', long, '--no-progress', '--jobs', jobs]);
      expect(big.code, big.stderr).toBe(0);
      expect(big.stderr).toMatch(/stopped early: the reader of the NDJSON output went away/);
      const lines = Number(/replayed ([\d,]+) lines/.exec(big.stderr)![1]!.replace(/,/g, ''));
      expect(lines).toBeGreaterThan(0);
      expect(lines).toBeLessThan(total);
    }
    const help = await runIntoClosedPipe(['replay', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stderr).toBe('');
  });

  it.runIf(existsSync('/dev/full'))('a full disk ends with exit 1 and a message that names stdout', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(`exec "${process.execPath}" "${BIN}" replay "${rec}" --no-progress > /dev/full`, { cwd: ROOT, shell: true, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write to stdout: ENOSPC/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('format 2 (the default) and format 1', () => {
  it('replay writes format 2 by default; convert --to ndjson --format 1 folds it into the --format 1 stream byte for byte', async () => {
    const v2 = path.join(work.dir, 'v2.ndjson');
    const two = await runCli(['replay', rec, '--keyframes', '5', '--out', v2]);
    expect(two.code, two.stderr).toBe(0);
    const text2 = await readFile(v2, 'utf8');
    expect(text2.startsWith('{"type":"version","format":2,')).toBe(true);
    expect(text2.trim().split('\n').at(-1)).toMatch(/^\{"type":"summary","format":2,/);
    const one = await runCli(['replay', rec, '--keyframes', '5', '--format', '1']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.startsWith('{"type":"version","strategy":')).toBe(true);
    const folded = await runCli(['convert', v2, '--to', 'ndjson', '--format', '1']);
    expect(folded.code, folded.stderr).toBe(0);
    expect(folded.stdout).toBe(one.stdout);
    expect(Buffer.byteLength(text2) * 2).toBeLessThan(Buffer.byteLength(one.stdout)); // 12 s: the first versions carry every slot
  });

  it('rejects a bad --format, and convert --to ndjson without --format 1', async () => {
    const bad = await runCli(['replay', rec, '--format', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format "3" must be 1 or 2/);
    const noFormat = await runCli(['convert', path.join(work.dir, 'v2.ndjson'), '--to', 'ndjson']);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toMatch(/--to ndjson needs --format 1/);
  });
});

describe('heatmap verify', () => {
  it('passes on a recording, writes an expect file, and fails with the first diverging version', async () => {
    const expectFile = path.join(work.dir, 'rec.expect.json');
    const w = await runCli(['verify', rec, '--format', '1', '--write-expect', expectFile]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/deterministic/);
    const ok = await runCli(['verify', rec, '--format', '1', '--expect', expectFile]);
    expect(ok.code, ok.stderr).toBe(0);
    const want = JSON.parse(await readFile(expectFile, 'utf8')) as { strategies: Record<string, { hashes: string[]; final_hash: string }> };
    want.strategies.fly!.hashes[1] = '0000000000000000';
    want.strategies.fly!.final_hash = 'f'.repeat(64);
    await writeFile(expectFile, JSON.stringify(want));
    const bad = await runCli(['verify', rec, '--format', '1', '--expect', expectFile]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/fly: .*first diverging version: v2 /);
  }, 60_000);
});

describe('heatmap inspect', () => {
  it('reports streams, span, snapshots and event counts that match the recording', async () => {
    const r = await runCli(['inspect', rec, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { streams: Record<string, { lines: number; events: Record<string, number> }>; chain: { snapshots: number; complete_snapshots: number }; bad_lines: { total: number } };
    const replay = parseNdjson((await runCli(['replay', rec])).stdout).at(-1) as { lines: number; snapshots: { complete: number } };
    const lines = Object.values(rep.streams).reduce((n, s) => n + s.lines, 0);
    expect(lines).toBe(replay.lines);
    expect(rep.chain.complete_snapshots).toBe(replay.snapshots.complete);
    expect(rep.streams.indices!.events.V).toBeGreaterThanOrEqual(11);
    expect(rep.streams.options!.events.T).toBeGreaterThan(0);
    expect(rep.bad_lines.total).toBe(0);
    const text = await runCli(['inspect', rec]);
    expect(text.stdout).toMatch(/chain: \d+ snapshots/);
    expect(text.stdout).toMatch(/indices/);
  });
  it('a missing recording exits 2', async () => {
    const r = await runCli(['inspect', path.join(work.dir, 'nope')]);
    expect(r.code).toBe(2);
  });
});

describe('split files', () => {
  it('a recording split into numbered files replays identically', async () => {
    const split = path.join(work.dir, 'split');
    await runCli(['sim', '--out', split, '--duration', '12s', '--seed', '11', '--no-progress']);
    // re-split options.ndjson.gz into two numbered files at a line boundary
    const src = path.join(split, 'options.ndjson.gz');
    const lines = gunzipSync(await readFile(src)).toString('utf8').trimEnd().split('\n');
    const half = Math.floor(lines.length / 2);
    await writeFile(path.join(split, 'options.0001.ndjson.gz'), gzipSync(lines.slice(0, half).join('\n') + '\n'));
    await writeFile(path.join(split, 'options.0002.ndjson'), lines.slice(half).join('\n') + '\n');
    await rm(src);
    expect((await readdir(split)).filter((f) => f.startsWith('options'))).toEqual(['options.0001.ndjson.gz', 'options.0002.ndjson']);
    const a = await runCli(['replay', rec]);
    const b = await runCli(['replay', split]);
    expect(b.stdout).toBe(a.stdout);
  }, 30_000);
});
