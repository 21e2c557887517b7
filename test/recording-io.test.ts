import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError, RuntimeError } from '../src/errors.js';
import { chainLine, gapLine, wsLine } from '../src/recording/lines.js';
import { readManifest, writeManifest, type Manifest } from '../src/recording/manifest.js';
import {
  extractRecvUs,
  listRecordingFiles,
  newReadReport,
  readRecording,
  readStreamLines,
  type RawLine,
} from '../src/recording/reader.js';
import { RecordingWriter } from '../src/recording/writer.js';
import { tempDirsPerTest } from './helpers/cli.js';

const tmp = tempDirsPerTest('heatmap-rec-io-');

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const BASE = { underlying: 'I:SPX', source: 'sim' as const, created_us: 1763740800000000 };

/** Lines that compress poorly enough to give a multi-chunk gzip file. */
function frames(n: number, start = 1763740800000000): string[] {
  const out: string[] = [];
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(wsLine(start + i * 1000, `[{"ev":"T","sym":"O:SPXW251121C0590${i % 10}000","p":${(x % 10000) / 100},"s":${x % 7},"t":${1763740800000 + i},"q":${x}}]`));
  }
  return out;
}

async function writeRecording(dir: string, lines: Record<string, string[]>, opts: Partial<Parameters<typeof RecordingWriter.create>[1]> = {}): Promise<void> {
  const w = await RecordingWriter.create(dir, { ...BASE, flushIntervalMs: 0, ...opts });
  for (const [stream, list] of Object.entries(lines)) for (const l of list) w.writeLine(stream as RawLine['stream'], l);
  await w.close();
}

/** File descriptors of this process that point into `dir`. */
function fdsInto(dir: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // the fd used by readdirSync itself is gone by now
    }
  }
  return n;
}

describe('write → read round trip', () => {
  it('gzip: files, manifest and every line come back exactly', async () => {
    const dir = await tmp();
    const opts = frames(500);
    const idx = [wsLine(1763740800000500, '[{"ev":"V","val":5901.25,"T":"I:SPX","t":1763740800000}]')];
    const gap = gapLine(1763740800900000, { stream: 'options', from_us: 1, to_us: 2, reason: 'disconnect' });
    await writeRecording(dir, { options: [...opts, gap], indices: idx }, { sim: { seed: 7, params: { z: 1, a: { y: 2, b: 3 } } } });

    expect((await fsp.readdir(dir)).sort()).toEqual(['indices.ndjson.gz', 'manifest.json', 'options.ndjson.gz']);
    const m = await readManifest(dir);
    expect(m).toEqual({
      ...BASE,
      format: 'heatmap-recording',
      version: 1,
      streams: {
        // receive-time spans per stream: first/last recv_us of the lines written (gap line included)
        indices: { files: ['indices.ndjson.gz'], lines: 1, first_recv_us: 1763740800000500, last_recv_us: 1763740800000500 },
        options: { files: ['options.ndjson.gz'], lines: 501, first_recv_us: 1763740800000000, last_recv_us: 1763740800900000 },
      },
      sim: { seed: 7, params: { a: { b: 3, y: 2 }, z: 1 } },
    });
    // keys in a fixed order, params sorted
    const text = await fsp.readFile(path.join(dir, 'manifest.json'), 'utf8');
    expect(Object.keys(JSON.parse(text))).toEqual(['format', 'version', 'underlying', 'source', 'created_us', 'streams', 'sim']);
    expect(text.indexOf('"b"')).toBeLessThan(text.indexOf('"y"'));
    // the raw file is exactly the lines, newline-terminated
    expect(zlib.gunzipSync(await fsp.readFile(path.join(dir, 'options.ndjson.gz'))).toString()).toBe([...opts, gap].join('\n') + '\n');

    const report = newReadReport();
    const got = await collect(readStreamLines(dir, 'options', ['options.ndjson.gz'], report));
    expect(got.map((l) => l.text)).toEqual([...opts, gap]);
    expect(got[0]).toEqual({ stream: 'options', file: 'options.ndjson.gz', line_no: 1, recv_us: 1763740800000000, text: opts[0] });
    expect(got[500]!.recv_us).toBe(1763740800900000);
    expect(got[500]!.line_no).toBe(501);
    expect(report.bad.total).toBe(0);
    expect(report.cuts).toEqual([]);
  });

  it('plain ndjson (gzip: false)', async () => {
    const dir = await tmp();
    const lines = frames(20);
    await writeRecording(dir, { options: lines }, { gzip: false });
    expect(await fsp.readFile(path.join(dir, 'options.ndjson'), 'utf8')).toBe(lines.join('\n') + '\n');
    const report = newReadReport();
    const got = await collect(readRecording(dir, {}, report));
    expect(got.map((l) => l.text)).toEqual(lines);
    expect(got.map((l) => l.file)).toEqual(lines.map(() => 'options.ndjson'));
    expect(report.cuts).toEqual([]);
  });

  it('a 19-digit ns integer inside an embedded raw body survives byte for byte', async () => {
    const dir = await tmp();
    const body = '{"status":"OK","results":[{"last_quote":{"bid":1.1,"ask":1.3,"last_updated":1763740811123456789},' +
      '"last_trade":{"price":1.2,"sip_timestamp":1763740811987654321}}],"request_id":"é✓"}';
    const line = chainLine({ recv_us: 1763740812000001, req_us: 1763740811900000, snapshot: 1, page: 1, last: true, url: '/v3/snapshot/options/I:SPX?limit=250', status: 200 }, body);
    await writeRecording(dir, { chain: [line] });
    const [got] = await collect(readRecording(dir, {}, newReadReport()));
    expect(got!.text).toBe(line);
    expect(got!.text).toContain('"last_updated":1763740811123456789');
    expect(got!.text).toContain('"sip_timestamp":1763740811987654321');
    expect(got!.recv_us).toBe(1763740812000001);
  });

  it('split files are numbered, listed in the manifest and read in name order', async () => {
    const dir = await tmp();
    const lines = frames(7);
    await writeRecording(dir, { options: lines }, { splitLines: 3 });
    const m = await readManifest(dir);
    expect(m.streams).toEqual({
      options: { files: ['options.0001.ndjson.gz', 'options.0002.ndjson.gz', 'options.0003.ndjson.gz'], lines: 7, first_recv_us: 1763740800000000, last_recv_us: 1763740800006000 },
    });
    expect(zlib.gunzipSync(await fsp.readFile(path.join(dir, 'options.0003.ndjson.gz'))).toString()).toBe(lines[6] + '\n');
    await fsp.writeFile(path.join(dir, 'notes.txt'), 'hello');
    const listed = await listRecordingFiles(dir);
    expect([...listed.streams]).toEqual([['options', ['options.0001.ndjson.gz', 'options.0002.ndjson.gz', 'options.0003.ndjson.gz']]]);
    expect(listed.other).toEqual(['notes.txt']);
    const got = await collect(readRecording(dir, {}, newReadReport()));
    expect(got.map((l) => l.text)).toEqual(lines);
    expect(got.map((l) => `${l.file}:${l.line_no}`)).toEqual([
      'options.0001.ndjson.gz:1', 'options.0001.ndjson.gz:2', 'options.0001.ndjson.gz:3',
      'options.0002.ndjson.gz:1', 'options.0002.ndjson.gz:2', 'options.0002.ndjson.gz:3', 'options.0003.ndjson.gz:1',
    ]);
  });

  it('the directory is the truth: files missing from the manifest are read, mixed plain/gz in name order', async () => {
    const dir = await tmp();
    await writeManifest(dir, { ...BASE, format: 'heatmap-recording', version: 1, streams: {} });
    const a = frames(4);
    await fsp.writeFile(path.join(dir, 'options.0002.ndjson'), a.slice(2).join('\n') + '\n');
    await fsp.writeFile(path.join(dir, 'options.0001.ndjson.gz'), zlib.gzipSync(a.slice(0, 2).join('\n') + '\n'));
    const got = await collect(readRecording(dir, {}, newReadReport()));
    expect(got.map((l) => l.text)).toEqual(a);
  });
});

describe('cut tails', () => {
  it('gzip cut in the middle of the deflate data: prefix kept, one cut reported', async () => {
    const dir = await tmp();
    const lines = frames(3000);
    await writeRecording(dir, { options: lines });
    const file = path.join(dir, 'options.ndjson.gz');
    const full = await fsp.readFile(file);
    await fsp.writeFile(file, full.subarray(0, Math.floor(full.length / 2)));
    const report = newReadReport();
    const got = await collect(readRecording(dir, {}, report));
    expect(got.length).toBeGreaterThan(100);
    expect(got.length).toBeLessThan(3000);
    expect(got.map((l) => l.text)).toEqual(lines.slice(0, got.length));
    expect(report.cuts).toHaveLength(1);
    expect(report.cuts[0]!.file).toBe('options.ndjson.gz');
    expect(report.cuts[0]!.reason).toMatch(/gzip stream truncated/);
    expect(report.cuts[0]!.reason).toMatch(/torn last line/);
    expect(report.cuts[0]!.reason).not.toContain('\n');
    expect(report.bad.total).toBe(0);
  });

  it('gzip cut exactly at a sync-flush (line) boundary is still detected', async () => {
    const dir = await tmp();
    const lines = frames(400);
    const w = await RecordingWriter.create(dir, { ...BASE, flushIntervalMs: 0 });
    for (const l of lines.slice(0, 150)) w.writeLine('options', l);
    await w.flush();
    const file = path.join(dir, 'options.ndjson.gz');
    const syncPoint = (await fsp.stat(file)).size;
    for (const l of lines.slice(150)) w.writeLine('options', l);
    await w.close();
    await fsp.truncate(file, syncPoint);
    // the decodable data ends on a newline: nothing torn, but the trailer is missing
    const report = newReadReport();
    const got = await collect(readRecording(dir, {}, report));
    expect(got.map((l) => l.text)).toEqual(lines.slice(0, 150));
    expect(report.cuts).toEqual([{ file: 'options.ndjson.gz', reason: expect.stringMatching(/gzip stream truncated/) }]);
    expect(report.cuts[0]!.reason).not.toMatch(/torn/);
  });

  it('a gzip missing only its 8-byte trailer keeps every line and reports the cut', async () => {
    const dir = await tmp();
    const lines = frames(50);
    await writeRecording(dir, { options: lines });
    const file = path.join(dir, 'options.ndjson.gz');
    await fsp.truncate(file, (await fsp.stat(file)).size - 8);
    const report = newReadReport();
    expect((await collect(readRecording(dir, {}, report))).map((l) => l.text)).toEqual(lines);
    expect(report.cuts).toHaveLength(1);
  });

  it('an intact gzip reports no cut (control for the tests above)', async () => {
    const dir = await tmp();
    await writeRecording(dir, { options: frames(50) });
    const report = newReadReport();
    expect(await collect(readRecording(dir, {}, report))).toHaveLength(50);
    expect(report.cuts).toEqual([]);
  });

  it('a torn last line in a plain file is a cut, not a bad line; a complete last line without newline is kept', async () => {
    const dir = await tmp();
    await writeManifest(dir, { ...BASE, format: 'heatmap-recording', version: 1, streams: {} });
    const [a, b] = frames(2);
    await fsp.writeFile(path.join(dir, 'options.ndjson'), `${a}\n${b}\n{"recv_us":1763740800009000,"frame":[{"ev":"T","p"`);
    await fsp.writeFile(path.join(dir, 'indices.ndjson'), `{"recv_us":5,"frame":[]}`);
    const report = newReadReport();
    const got = await collect(readRecording(dir, {}, report));
    expect(got.map((l) => l.text)).toEqual(['{"recv_us":5,"frame":[]}', a, b]);
    expect(report.bad.total).toBe(0);
    expect(report.cuts).toHaveLength(1);
    expect(report.cuts[0]!.file).toBe('options.ndjson');
    expect(report.cuts[0]!.reason).toMatch(/^torn last line dropped \(\d+ bytes without newline\) — kept everything up to line 2$/);
  });

  it('a recording read while the writer is still open (kill -9) yields every sync-flushed line', async () => {
    const dir = await tmp();
    const copy = await tmp();
    const lines = frames(300);
    const w = await RecordingWriter.create(dir, { ...BASE, flushIntervalMs: 0 });
    for (const l of lines.slice(0, 250)) w.writeLine('options', l);
    await w.flush();
    for (const l of lines.slice(250)) w.writeLine('options', l); // not flushed: may be lost on kill
    for (const f of await fsp.readdir(dir)) await fsp.copyFile(path.join(dir, f), path.join(copy, f));
    await w.close();
    const m = await readManifest(copy);
    expect(m.streams.options).toEqual({ files: ['options.ndjson.gz'], lines: 250, first_recv_us: 1763740800000000, last_recv_us: 1763740800249000 });
    const report = newReadReport();
    const got = await collect(readRecording(copy, {}, report));
    expect(got.map((l) => l.text)).toEqual(lines.slice(0, 250));
    expect(report.cuts).toHaveLength(1);
  });

  it('the timer flush makes lines durable and updates the manifest without any explicit call', async () => {
    const dir = await tmp();
    const lines = frames(40);
    const w = await RecordingWriter.create(dir, { ...BASE, flushIntervalMs: 10 });
    for (const l of lines) w.writeLine('options', l);
    try {
      // wait (no time bound asserted) until a timer flush has rewritten the manifest
      while ((await readManifest(dir)).streams.options?.lines !== 40) await new Promise((r) => setTimeout(r, 5));
      const copy = await tmp();
      await fsp.copyFile(path.join(dir, 'options.ndjson.gz'), path.join(copy, 'options.ndjson.gz'));
      await fsp.copyFile(path.join(dir, 'manifest.json'), path.join(copy, 'manifest.json'));
      const report = newReadReport();
      expect((await collect(readRecording(copy, {}, report))).map((l) => l.text)).toEqual(lines);
      expect(report.cuts[0]?.reason).toMatch(/gzip stream truncated/);
    } finally {
      await w.close();
    }
  });
});

describe('malformed lines', () => {
  it('are counted by reason with file:line and skipped; valid variants pass', () => {
    expect(extractRecvUs('{"recv_us":0,"x":1}')).toBe(0);
    expect(extractRecvUs('{"recv_us":9007199254740991}')).toBe(9007199254740991);
    expect(extractRecvUs('{"recv_us":9007199254740992,"x":1}')).toBe('no_recv_us');
    expect(extractRecvUs('{ "recv_us" : 17 }')).toBe(17);
    expect(extractRecvUs('{"frame":[],"recv_us":18}')).toBe(18);
    expect(extractRecvUs('{"recv_us":1.5,"x":1}')).toBe('no_recv_us');
    expect(extractRecvUs('{"recv_us":007,"x":1}')).toBe('bad_json');
    expect(extractRecvUs('[1,2]')).toBe('no_recv_us');
  });

  it('in a file', async () => {
    const dir = await tmp();
    await writeManifest(dir, { ...BASE, format: 'heatmap-recording', version: 1, streams: {} });
    const content = [
      '{"recv_us":10,"frame":[]}', // 1 ok
      'not json at all', // 2 bad_json
      '{"recv_us":-5,"frame":[]}', // 3 no_recv_us
      '', // 4 empty: skipped silently
      '{"frame":[]}', // 5 no_recv_us
      '{"recv_us":"12","frame":[]}', // 6 no_recv_us
      '{"recv_us":12345678901234567890,"frame":[]}', // 7 no_recv_us (beyond 2^53)
      '{"recv_us":20,"frame":[]}\r', // 8 ok (CRLF)
      '{"recv_us":30', // 9 bad_json (mid-file, has a newline: not a torn tail)
      '{ "recv_us": 40, "frame": [] }', // 10 ok via fallback
    ].join('\n') + '\n';
    await fsp.writeFile(path.join(dir, 'options.ndjson'), content);
    const report = newReadReport();
    const got = await collect(readRecording(dir, {}, report));
    expect(got.map((l) => [l.line_no, l.recv_us])).toEqual([[1, 10], [8, 20], [10, 40]]);
    expect(got[1]!.text).toBe('{"recv_us":20,"frame":[]}');
    expect(report.bad.toJSON()).toEqual({ bad_json: 2, no_recv_us: 4 });
    expect(report.bad.sampleDetails()).toEqual({
      bad_json: ['options.ndjson:2', 'options.ndjson:9'],
      no_recv_us: ['options.ndjson:3', 'options.ndjson:5', 'options.ndjson:6'],
    });
    expect(report.cuts).toEqual([]);
  });
});

describe('readManifest errors', () => {
  const good = (): Manifest => ({ ...BASE, format: 'heatmap-recording', version: 1, streams: {} });
  async function expectInputError(p: Promise<unknown>, re: RegExp): Promise<void> {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toContain('\n');
  }

  it('missing dir, not a dir, no manifest', async () => {
    const dir = await tmp();
    await expectInputError(readManifest(path.join(dir, 'nope')), /^recording .*nope does not exist$/);
    await fsp.writeFile(path.join(dir, 'file.ndjson'), '');
    await expectInputError(readManifest(path.join(dir, 'file.ndjson')), /is not a directory/);
    await expectInputError(readManifest(dir), /has no manifest\.json — is it a recording directory\?/);
    // readRecording fails the same way, on the first pull
    await expectInputError(collect(readRecording(dir, {}, newReadReport())), /has no manifest\.json/);
  });

  it('invalid JSON, wrong format, version, source — naming the field', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'manifest.json');
    await fsp.writeFile(file, '{"format": "heatmap-recording",');
    await expectInputError(readManifest(dir), /manifest\.json is not valid JSON/);
    await fsp.writeFile(file, JSON.stringify({ ...good(), format: 'tardis' }));
    await expectInputError(readManifest(dir), /field "format" is "tardis", expected "heatmap-recording"/);
    await fsp.writeFile(file, JSON.stringify({ ...good(), version: 2 }));
    await expectInputError(readManifest(dir), /field "version" is 2; .*upgrade heatmap/);
    await fsp.writeFile(file, JSON.stringify({ ...good(), version: undefined }));
    await expectInputError(readManifest(dir), /field "version" is missing, expected 1/);
    await fsp.writeFile(file, JSON.stringify({ ...good(), source: 'polygon' }));
    await expectInputError(readManifest(dir), /field "source" is "polygon"/);
    await fsp.writeFile(file, JSON.stringify({ ...good(), streams: { options: { files: 'x', lines: 1 } } }));
    await expectInputError(readManifest(dir), /field "streams\.options"/);
    await fsp.writeFile(file, JSON.stringify(good()));
    await expect(readManifest(dir)).resolves.toEqual(good());
  });
});

describe('writer', () => {
  it('is deterministic: same writeLine calls, flushIntervalMs 0 → identical bytes, whatever the timing', async () => {
    const [a, b] = [await tmp(), await tmp()];
    const lines = frames(5000);
    const idx = frames(300, 1763740800000003).map((l) => l.replace('"ev":"T"', '"ev":"V"'));
    for (const dir of [a, b]) {
      const w = await RecordingWriter.create(dir, { ...BASE, flushIntervalMs: 0, splitLines: 2000, sim: { seed: 1, params: { spot: 5900 } } });
      for (let i = 0; i < lines.length; i++) {
        w.writeLine('options', lines[i]!);
        if (i % 17 === 0) w.writeLine('indices', idx[i / 17]!);
        // writer b sees its input in very different chunks
        if (dir === b && i % 100 === 0) await w.drain();
        if (dir === b && i % 7 === 0) await new Promise((r) => setImmediate(r));
      }
      await w.close();
    }
    const names = (await fsp.readdir(a)).sort();
    expect(names).toEqual(['indices.0001.ndjson.gz', 'manifest.json', 'options.0001.ndjson.gz', 'options.0002.ndjson.gz', 'options.0003.ndjson.gz']);
    expect((await fsp.readdir(b)).sort()).toEqual(names);
    for (const n of names) {
      const [x, y] = [await fsp.readFile(path.join(a, n)), await fsp.readFile(path.join(b, n))];
      expect(x.equals(y), n).toBe(true);
    }
    // gzip header: mtime 0
    expect((await fsp.readFile(path.join(a, 'indices.0001.ndjson.gz'))).readUInt32LE(4)).toBe(0);
  });

  it('timer flushes racing with writes, splits and close lose nothing and leave intact files', async () => {
    const dir = await tmp();
    const lines = frames(6000);
    const w = await RecordingWriter.create(dir, { ...BASE, flushIntervalMs: 1, splitLines: 1500 });
    for (let i = 0; i < lines.length; i++) {
      w.writeLine('options', lines[i]!);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    const flushing = w.flush(); // a flush in flight when close() starts
    await w.close();
    await flushing;
    const report = newReadReport();
    expect((await collect(readRecording(dir, {}, report))).map((l) => l.text)).toEqual(lines);
    expect(report.cuts).toEqual([]);
    expect((await readManifest(dir)).streams.options?.lines).toBe(6000);
    expect((await fsp.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('pendingBytes shows queued data; drain empties it', async () => {
    const dir = await tmp();
    const w = await RecordingWriter.create(dir, { ...BASE, flushIntervalMs: 0 });
    for (const l of frames(2000)) w.writeLine('options', l);
    expect(w.pendingBytes).toBeGreaterThan(0);
    await w.drain();
    expect(w.pendingBytes).toBe(0);
    await w.close();
    await w.close(); // idempotent
    expect((await readManifest(dir)).streams.options?.lines).toBe(2000);
    expect(() => w.writeLine('options', '{"recv_us":1}')).toThrow(/closed/);
  });

  it('writes the initial manifest at once and refuses to overwrite a recording unless asked', async () => {
    const dir = path.join(await tmp(), 'a', 'b');
    const w = await RecordingWriter.create(dir, { ...BASE });
    expect((await readManifest(dir)).streams).toEqual({});
    w.writeLine('options', '{"recv_us":1,"frame":[]}');
    await w.close();
    const err = await RecordingWriter.create(dir, { ...BASE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/already holds a recording \(manifest\.json, options\.ndjson\.gz\)/);
    const w2 = await RecordingWriter.create(dir, { ...BASE, overwrite: true, gzip: false });
    w2.writeLine('chain', '{"recv_us":2,"body":{}}');
    await w2.close();
    expect((await fsp.readdir(dir)).sort()).toEqual(['chain.ndjson', 'manifest.json']);
  });

  it('keeps one record per line when a raw payload contains newlines', async () => {
    const dir = await tmp();
    const w = await RecordingWriter.create(dir, { ...BASE, gzip: false });
    w.writeLine('chain', '{"recv_us":1,"body":{\n  "results": [1,\r\n 2]\n}}');
    w.writeLine('chain', '{"recv_us":2,"body":{}}');
    await w.close();
    const got = await collect(readRecording(dir, {}, newReadReport()));
    expect(got.map((l) => JSON.parse(l.text) as unknown)).toEqual([{ recv_us: 1, body: { results: [1, 2] } }, { recv_us: 2, body: {} }]);
  });

  it('reports a file it cannot write as a RuntimeError naming the file', async () => {
    const dir = await tmp();
    const w = await RecordingWriter.create(dir, { ...BASE });
    await fsp.mkdir(path.join(dir, 'options.ndjson.gz')); // opening it for writing fails: EISDIR
    w.writeLine('options', '{"recv_us":1,"frame":[]}');
    const err = await w.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toMatch(/cannot write recording file .*options\.ndjson\.gz: .*EISDIR/);
  });
});

describe('closing on break', () => {
  it('a consumer that breaks releases every file handle', async () => {
    const dir = await tmp();
    await writeRecording(dir, { options: frames(20000), indices: frames(20000, 1763740800000001), chain: frames(10) }, { splitLines: 10000 });
    await fsp.writeFile(path.join(dir, 'stocks.ndjson'), frames(100).join('\n') + '\n');
    // big enough that a reader mid-file still holds it open (not read ahead to EOF)
    expect((await fsp.stat(path.join(dir, 'options.0001.ndjson.gz'))).size).toBeGreaterThan(100_000);
    expect(fdsInto(dir)).toBe(0);
    let open = -1;
    let n = 0;
    for await (const line of readRecording(dir, {}, newReadReport())) {
      expect(line.recv_us).toBeGreaterThan(0);
      if (++n === 5000) {
        open = fdsInto(dir);
        break;
      }
    }
    // options and indices are mid-file; chain and stocks (small) were read to EOF and closed already
    expect(open).toBe(2);
    expect(fdsInto(dir)).toBe(0);
  });
});
