import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { wsLine } from '../src/recording/lines.js';
import { writeManifest } from '../src/recording/manifest.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  listRecordingFiles,
  newReadReport,
  readRecording,
  readStreamLines,
  type ReadReport,
} from '../src/recording/reader.js';
import { WINDOW } from '../src/recording/time-outliers.js';
import { RecordingWriter } from '../src/recording/writer.js';
import { parseNdjson, runCli, tempDir, tempDirsPerTest } from './helpers/cli.js';

// Damaged recording files (rules: ARCHITECTURE.md, "Around the engine", Recording format): gzip
// corruption, CRC mismatches, trailing garbage, truncation, overlong lines, and stream files that
// are not files.

const tmp = tempDirsPerTest('heatmap-damage-');

const BASE = { underlying: 'I:SPX', source: 'sim' as const, created_us: 1763740800000000 };
const FILE = 'options.ndjson.gz';

/** Lines that compress poorly enough to give a multi-chunk gzip file (as in recording-io.test.ts). */
function frames(n: number, start = 1763740800000000): string[] {
  const out: string[] = [];
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(wsLine(start + i * 1000, `[{"ev":"T","sym":"O:SPXW251121C0590${i % 10}000","p":${(x % 10000) / 100},"s":${x % 7},"t":${1763740800000 + i},"q":${x}}]`));
  }
  return out;
}

/** A recording directory holding one stream file `name` with exactly `bytes`. */
async function recordingWith(name: string, bytes: Buffer | string): Promise<string> {
  const dir = await tmp();
  await writeManifest(dir, { ...BASE, format: 'heatmap-recording', version: 1, streams: {} });
  await fsp.writeFile(path.join(dir, name), bytes);
  return dir;
}

async function read(dir: string, file = FILE, maxLineBytes?: number): Promise<{ texts: string[]; lineNos: number[]; report: ReadReport }> {
  const report = newReadReport();
  const texts: string[] = [];
  const lineNos: number[] = [];
  const stream = file.split('.')[0] as 'options';
  for await (const l of readStreamLines(dir, stream, [file], report, maxLineBytes === undefined ? {} : { maxLineBytes })) {
    texts.push(l.text);
    lineNos.push(l.line_no);
  }
  return { texts, lineNos, report };
}

const ndjson = (lines: readonly string[]): string => lines.join('\n') + '\n';

/** The complete (newline-terminated) lines of some decoded text. */
function completeLines(text: string): string[] {
  const parts = text.split('\n');
  parts.pop();
  return parts;
}

/** What zlib can decode from the deflate data `gz[10, end)` (a prefix of a one-member gzip with a 10-byte header). */
function inflatePrefix(gz: Buffer, end: number): string {
  if (end <= 10) return '';
  return zlib.inflateRawSync(gz.subarray(10, end), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8');
}

describe('gzip damage', () => {
  const lines = frames(3000);
  const gz = zlib.gzipSync(ndjson(lines));

  it('control: the test file spans many read chunks, and an intact copy reads back whole', async () => {
    expect(gz.length).toBeGreaterThan(2 * 16 * 1024);
    expect(gz[3]).toBe(0); // no optional header fields: the deflate data starts at byte 10
    const { texts, report } = await read(await recordingWith(FILE, gz));
    expect(texts).toEqual(lines);
    expect(report.cuts).toEqual([]);
  });

  it('(a) one flipped bit in the trailer CRC32: every line is kept, a CRC-mismatch warning is reported', async () => {
    const bad = Buffer.from(gz);
    bad[bad.length - 8]! ^= 0x01;
    const { texts, report } = await read(await recordingWith(FILE, bad));
    expect(texts).toEqual(lines);
    expect(report.bad.total).toBe(0);
    expect(report.cuts).toHaveLength(1);
    expect(report.cuts[0]!.file).toBe(FILE);
    expect(report.cuts[0]!.reason).toMatch(/^CRC mismatch: the file's content may be altered; its lines were replayed/);
    expect(report.cuts[0]!.reason).not.toMatch(/torn|truncated|corrupt/);
  });

  it('(a) a wrong ISIZE in the trailer is the same kind of warning', async () => {
    const bad = Buffer.from(gz);
    bad[bad.length - 1]! ^= 0x40;
    const { texts, report } = await read(await recordingWith(FILE, bad));
    expect(texts).toEqual(lines);
    expect(report.cuts).toEqual([{ file: FILE, reason: expect.stringMatching(/^size mismatch \(the trailer says \d+ bytes, \d+ were inflated\): the file's content may be altered; its lines were replayed/) }]);
  });

  it('(b) garbage after the trailer: every line is kept, the garbage is counted and ignored', async () => {
    const garbage = Buffer.from('this is not gzip data '.repeat(50)); // 1100 bytes
    const { texts, report } = await read(await recordingWith(FILE, Buffer.concat([gz, garbage])));
    expect(texts).toEqual(lines);
    expect(report.bad.total).toBe(0);
    expect(report.cuts).toEqual([{ file: FILE, reason: '1100 bytes of trailing garbage after the gzip stream ignored' }]);
  });

  it('(b) zero padding after the trailer (a crash that extended the file) is trailing garbage too', async () => {
    const { texts, report } = await read(await recordingWith(FILE, Buffer.concat([gz, Buffer.alloc(4096)])));
    expect(texts).toEqual(lines);
    expect(report.cuts).toEqual([{ file: FILE, reason: '4096 bytes of trailing garbage after the gzip stream ignored (all zero bytes)' }]);
  });

  it('(c) damage zlib detects mid-stream: every line inflated before it is kept, the reason says where and what is lost', async () => {
    // The writer's sync flush ends on a byte boundary; the next deflate block header starts there.
    // BTYPE 3 does not exist: zlib must stop at exactly that byte ("invalid block type").
    const dir = await tmp();
    const w = await RecordingWriter.create(dir, { ...BASE, flushIntervalMs: 0 });
    for (const l of lines.slice(0, 1500)) w.writeLine('options', l);
    await w.flush();
    const file = path.join(dir, FILE);
    const syncPoint = (await fsp.stat(file)).size;
    for (const l of lines.slice(1500)) w.writeLine('options', l);
    await w.close();
    const bytes = await fsp.readFile(file);
    expect(syncPoint).toBeGreaterThan(16 * 1024); // the damage is not in the first read chunk
    bytes[syncPoint] = (bytes[syncPoint]! & ~0x07) | 0x06; // BFINAL 0, BTYPE 3
    await fsp.writeFile(file, bytes);

    const { texts, report } = await read(dir);
    expect(texts).toEqual(lines.slice(0, 1500));
    expect(report.bad.total).toBe(0);
    expect(report.cuts).toEqual([
      {
        file: FILE,
        reason: `gzip data corrupt at compressed byte ${syncPoint} (invalid block type): kept lines 1..1500; the rest of the file (${bytes.length - syncPoint} compressed bytes) is unreadable`,
      },
    ]);
  });

  it('(c) damage zlib detects mid-line: the complete lines before it are kept, the partial line is named', async () => {
    // Two deflate streams glued by hand: the first ends mid-line with a sync flush, then a block
    // header with BTYPE 3 follows.
    const head = ndjson(lines.slice(0, 700)) + lines[700]!.slice(0, 40);
    const deflated = zlib.deflateRawSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const header = gz.subarray(0, 10);
    const bad = Buffer.concat([header, deflated, Buffer.from([0x06]), Buffer.alloc(300, 0x55)]);
    const { texts, report } = await read(await recordingWith(FILE, bad));
    expect(texts).toEqual(lines.slice(0, 700));
    expect(report.cuts).toEqual([
      {
        file: FILE,
        reason: `gzip data corrupt at compressed byte ${10 + deflated.length} (invalid block type): kept lines 1..700; the rest of the file (301 compressed bytes) is unreadable; the 40 bytes of line 701 inflated before the damage were dropped`,
      },
    ]);
  });

  it('(c) a byte flipped in the middle of the deflate data inflates silently: the lines before it are exact, the CRC reports the damage', async () => {
    // zlib cannot see most flips inside a Huffman-coded block: they decode into other bytes, and
    // only the CRC at the end of the member tells. The rule: those lines are kept (and reported).
    const pos = Math.floor(gz.length / 2);
    const bad = Buffer.from(gz);
    bad[pos]! ^= 0xff;
    const before = completeLines(inflatePrefix(gz, pos)); // what the bytes before the flip decode to
    expect(before.length).toBeGreaterThan(1000);
    expect(before).toEqual(lines.slice(0, before.length));
    const { texts, lineNos, report } = await read(await recordingWith(FILE, bad));
    // The lines decoded before the flip come out unchanged. The altered lines after it repeat
    // older receive times (deflate copies earlier text), so the last few good lines can be
    // dropped as receive-time outliers (recv_us_ahead) — at most one outlier window of them.
    const early = lineNos.filter((n) => n <= before.length);
    expect(early.length).toBeGreaterThanOrEqual(before.length - WINDOW);
    expect(early).toEqual(Array.from({ length: early.length }, (_, i) => i + 1));
    expect(texts.slice(0, early.length)).toEqual(before.slice(0, early.length));
    expect(report.cuts).toHaveLength(1);
    expect(report.cuts[0]!.reason).toMatch(/^CRC (and size )?mismatch.*: the file's content may be altered; its lines were replayed \(gzip member at compressed bytes 0\.\.\d+\)/);
  });

  it('(d) truncated at several offsets: the decodable complete lines are kept, an exact prefix; the cut is reported', async () => {
    const n = gz.length;
    const offsets = [0, 5, 10, 200, Math.floor(n * 0.4), Math.floor(n * 0.77), n - 9, n - 8, n - 5, n - 1];
    for (const off of offsets) {
      const { texts, report } = await read(await recordingWith(FILE, gz.subarray(0, off)));
      const want = off >= n - 8 ? lines : completeLines(inflatePrefix(gz, off));
      expect(texts, `cut at ${off}`).toEqual(want);
      expect(texts, `cut at ${off}`).toEqual(lines.slice(0, texts.length));
      expect(report.cuts, `cut at ${off}`).toHaveLength(1);
      expect(report.cuts[0]!.reason, `cut at ${off}`).toMatch(/^gzip stream truncated/);
      expect(report.cuts[0]!.reason, `cut at ${off}`).toMatch(new RegExp(`kept everything up to line ${texts.length}$`));
      expect(report.bad.total).toBe(0);
    }
  });

  it('multi-member gzip (concatenated streams, a line split across members) reads as one stream', async () => {
    const text = ndjson(lines);
    const cut = text.indexOf('\n', 100_000) - 30; // mid-line
    const members = [zlib.gzipSync(text.slice(0, cut)), zlib.gzipSync(text.slice(cut, 250_000)), zlib.gzipSync(text.slice(250_000))];
    const { texts, report } = await read(await recordingWith(FILE, Buffer.concat(members)));
    expect(texts).toEqual(lines);
    expect(report.cuts).toEqual([]);
  });

  it('a member whose deflate data ends exactly at a 16 KiB read-chunk boundary (then its trailer, then the next member)', async () => {
    // level 0 (stored blocks): deflate size = text + 5 bytes, so the end can be placed exactly
    const pad = (i: number, n: number) => {
      const head = `{"recv_us":${1763740800000000 + i},"pad":"`;
      return head + 'x'.repeat(n - head.length - 2) + '"}';
    };
    const part: string[] = [];
    let size = 0;
    while (16369 - size > 200) size += (part[part.push(pad(part.length, 100)) - 1]!.length + 1);
    part.push(pad(part.length, 16369 - size - 1));
    const member = zlib.gzipSync(ndjson(part), { level: 0 });
    expect(member.length - 8).toBe(16 * 1024);
    const second = part.map((l) => l.replace('"recv_us":17637408000', '"recv_us":17637408001'));
    const { texts, report } = await read(await recordingWith(FILE, Buffer.concat([member, zlib.gzipSync(ndjson(second), { level: 0 })])));
    expect(texts).toEqual([...part, ...second]);
    expect(report.cuts).toEqual([]);
    // the same member without its trailer: the deflate data is complete, the trailer missing
    const cut = await read(await recordingWith(FILE, member.subarray(0, 16 * 1024)));
    expect(cut.texts).toEqual(part);
    expect(cut.report.cuts[0]!.reason).toMatch(/^gzip stream truncated/);
  });

  it('multi-member gzip: a CRC mismatch in the first member keeps both members; garbage after the last is ignored', async () => {
    const text = ndjson(lines);
    const a = zlib.gzipSync(text.slice(0, 200_000));
    const b = zlib.gzipSync(text.slice(200_000));
    a[a.length - 6]! ^= 0x10;
    const { texts, report } = await read(await recordingWith(FILE, Buffer.concat([a, b, Buffer.from('xyz')])));
    expect(texts).toEqual(lines);
    expect(report.cuts).toHaveLength(1);
    expect(report.cuts[0]!.reason).toBe(
      `CRC mismatch: the file's content may be altered; its lines were replayed (gzip member at compressed bytes 0..${a.length}); ` +
        '3 bytes of trailing garbage after the gzip stream ignored',
    );
  });

  it('multi-member gzip: a second member cut short keeps the first member and the decodable part of the second', async () => {
    const text = ndjson(lines);
    const a = zlib.gzipSync(text.slice(0, 200_000));
    const b = zlib.gzipSync(text.slice(200_000));
    const file = Buffer.concat([a, b.subarray(0, Math.floor(b.length / 2))]);
    const { texts, report } = await read(await recordingWith(FILE, file));
    expect(texts.length).toBeGreaterThan(completeLines(text.slice(0, 200_000)).length);
    expect(texts).toEqual(lines.slice(0, texts.length));
    expect(report.cuts[0]!.reason).toMatch(/^gzip stream truncated/);
  });

  it('not gzip at all: nothing is kept, and the reason says so', async () => {
    const { texts, report } = await read(await recordingWith(FILE, ndjson(lines.slice(0, 3))));
    expect(texts).toEqual([]);
    expect(report.cuts).toEqual([
      { file: FILE, reason: expect.stringMatching(/^gzip data corrupt at compressed byte 0 \(not a gzip file: .*\): kept no lines; the rest of the file \(\d+ compressed bytes\) is unreadable$/) },
    ]);
  });
});

describe('gzip damage through the CLI', () => {
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

  it('heatmap replay keeps the lines of a file with a bad CRC or trailing garbage, exits 0 and says why on stderr', async () => {
    const damaged = path.join(work.dir, 'damaged');
    await fsp.cp(rec, damaged, { recursive: true });
    const opt = path.join(damaged, 'options.ndjson.gz');
    const bytes = await fsp.readFile(opt);
    bytes[bytes.length - 7]! ^= 0x04;
    await fsp.writeFile(opt, bytes);
    await fsp.appendFile(path.join(damaged, 'indices.ndjson.gz'), 'garbage!');
    const [good, bad] = [await runCli(['replay', rec]), await runCli(['replay', damaged])];
    expect(good.code, good.stderr).toBe(0);
    expect(bad.code, bad.stderr).toBe(0);
    expect(bad.stderr).toMatch(/options\.ndjson\.gz: CRC mismatch: the file's content may be altered; its lines were replayed/);
    expect(bad.stderr).toMatch(/indices\.ndjson\.gz: 8 bytes of trailing garbage after the gzip stream ignored/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    // the same lines were replayed: the same versions
    const versions = (out: string) => parseNdjson(out).filter((o) => o.type === 'version');
    expect(versions(bad.stdout)).toEqual(versions(good.stdout));
    expect(versions(good.stdout).length).toBeGreaterThan(0);
    expect((parseNdjson(bad.stdout).at(-1) as { truncated_files: number }).truncated_files).toBe(2);
  });
});

describe('line length limit', () => {
  const MiB = 1024 * 1024;
  /** A valid line of exactly `bytes` UTF-8 bytes (padded with `pad`, 1 or 2 bytes per character). */
  function lineOf(recv_us: number, bytes: number, pad = 'x'): string {
    const head = `{"recv_us":${recv_us},"pad":"`;
    const room = bytes - Buffer.byteLength(head) - 2;
    const unit = Buffer.byteLength(pad);
    const s = head + pad.repeat(Math.floor(room / unit)) + 'x'.repeat(room % unit) + '"}';
    expect(Buffer.byteLength(s)).toBe(bytes);
    return s;
  }

  it('the default is 64 MiB', () => {
    expect(DEFAULT_MAX_LINE_BYTES).toBe(64 * MiB);
  });

  it('a 3 MiB line with a 1 MiB limit is skipped and counted (plain and gzip); the lines around it are kept', async () => {
    const [a, b, c, d] = frames(4);
    const long = lineOf(1763740800001500, 3 * MiB);
    const content = ndjson([a!, b!, long, c!, d!]);
    for (const [name, bytes] of [['options.ndjson', Buffer.from(content)], [FILE, zlib.gzipSync(content)]] as const) {
      const { texts, lineNos, report } = await read(await recordingWith(name, bytes), name, MiB);
      expect(texts, name).toEqual([a, b, c, d]);
      expect(lineNos, name).toEqual([1, 2, 4, 5]);
      expect(report.bad.toJSON(), name).toEqual({ line_too_long: 1 });
      expect(report.bad.sampleDetails(), name).toEqual({ line_too_long: [`${name}:3`] });
      expect(report.cuts, name).toEqual([]);
    }
  });

  it('the limit counts UTF-8 bytes of the line (without its newline): exactly the limit is kept, one byte more is not', async () => {
    const limit = 100_000; // a line of this size spans two 64 KiB read chunks
    const ok = lineOf(1763740800000001, limit, 'é');
    const over = lineOf(1763740800000002, limit + 1, 'é');
    const okAscii = lineOf(1763740800000003, limit);
    const crlf = lineOf(1763740800000004, limit - 1) + '\r'; // the \r is part of the line's bytes
    const short = lineOf(1763740800000005, 200, 'é');
    const { texts, report } = await read(await recordingWith('options.ndjson', ndjson([ok, over, okAscii, crlf, short, over])), 'options.ndjson', limit);
    expect(texts).toEqual([ok, okAscii, crlf.slice(0, -1), short]);
    expect(report.bad.sampleDetails()).toEqual({ line_too_long: ['options.ndjson:2', 'options.ndjson:6'] });
  });

  it('an overlong last line without a newline is counted as too long, not as a torn tail', async () => {
    const [a] = frames(1);
    const { texts, report } = await read(await recordingWith('options.ndjson', `${a}\n${lineOf(1763740800000500, 300_000)}`), 'options.ndjson', 200_000);
    expect(texts).toEqual([a]);
    expect(report.bad.sampleDetails()).toEqual({ line_too_long: ['options.ndjson:2'] });
    expect(report.cuts).toEqual([]);
  });

  it('readRecording takes the limit too', async () => {
    const [a, b] = frames(2);
    const dir = await recordingWith('options.ndjson', ndjson([a!, lineOf(1763740800000500, 5000), b!]));
    const report = newReadReport();
    const got: string[] = [];
    for await (const l of readRecording(dir, { maxLineBytes: 4096 }, report)) got.push(l.text);
    expect(got).toEqual([a, b]);
    expect(report.bad.toJSON()).toEqual({ line_too_long: 1 });
  });
});

describe('stream files that are not regular files', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let rec: string;
  beforeAll(async () => {
    work = await tempDir();
    rec = path.join(work.dir, 'rec');
    const r = await runCli(['sim', '--out', rec, '--duration', '6s', '--seed', '5', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await work.cleanup();
  });

  async function copyOf(name: string): Promise<string> {
    const dir = path.join(work.dir, name);
    await fsp.cp(rec, dir, { recursive: true });
    return dir;
  }

  it('a directory named like a stream file is an input error (exit 2) naming it, for replay and inspect', async () => {
    const dir = await copyOf('dir-stream');
    await fsp.rm(path.join(dir, 'options.ndjson.gz'));
    await fsp.mkdir(path.join(dir, 'options.ndjson.gz'));
    for (const args of [['replay', dir], ['inspect', dir]]) {
      const r = await runCli(args);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toContain(`recording ${dir}: options.ndjson.gz is a directory, not a stream file`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).not.toMatch(/"type":"summary"/);
    }
  });

  it('a socket named like a stream file is an input error too', async () => {
    const dir = await copyOf('socket-stream');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'stocks.ndjson'), resolve));
    try {
      const err = await listRecordingFiles(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toBe(`recording ${dir}: stocks.ndjson is a socket, not a stream file`);
      const r = await runCli(['replay', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('stocks.ndjson is a socket, not a stream file');
    } finally {
      server.close();
    }
  });

  it('a symlink to a stream file is read; a symlink to a directory is an input error', async () => {
    const dir = await copyOf('symlinked');
    const elsewhere = path.join(work.dir, 'elsewhere');
    await fsp.mkdir(elsewhere);
    await fsp.rename(path.join(dir, 'options.ndjson.gz'), path.join(elsewhere, 'options.ndjson.gz'));
    await fsp.symlink(path.join(elsewhere, 'options.ndjson.gz'), path.join(dir, 'options.ndjson.gz'));
    const [a, b] = [await runCli(['replay', rec]), await runCli(['replay', dir])];
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    await fsp.symlink(elsewhere, path.join(dir, 'stocks.ndjson'));
    const r = await runCli(['replay', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`recording ${dir}: stocks.ndjson is a directory, not a stream file`);
  });
});
