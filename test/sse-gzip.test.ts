/**
 * gzip of the SSE streams (src/sinks/sse-gzip.ts): batches compressed on their own, sent to any
 * number of clients, make one valid gzip stream per client whose trailer is computed from the
 * batches' CRCs; the negotiation follows `Accept-Encoding`. Checked against zlib's own gunzip and
 * CRC-32, and over real HTTP against a server with gzip turned off.
 */
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32ByTable, crc32Combine } from '../src/crc32.js';
import { GZIP_HEADER, GzipTail, acceptsGzip, gzipPiece } from '../src/sinks/sse-gzip.js';
import { SseServer } from '../src/sinks/sse.js';
import { SseTestClient, httpGet } from './helpers/sse-client.js';
import http from 'node:http';

describe('crc32Combine', () => {
  it('worked examples: crc("hello world") from crc("hello ") and crc("world"); an empty part changes nothing', () => {
    const a = Buffer.from('hello ');
    const b = Buffer.from('world');
    expect(zlib.crc32('hello world')).toBe(0x0d4a1185); // the well-known CRC-32 of "hello world"
    expect(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length)).toBe(0x0d4a1185);
    expect(crc32Combine(0x0d4a1185, 0, 0)).toBe(0x0d4a1185);
    expect(crc32Combine(0, zlib.crc32(b), b.length)).toBe(zlib.crc32(b));
  });

  it('equals the CRC-32 of the concatenation (random parts, zlib.crc32 as the reference)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        expect(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length)).toBe(zlib.crc32(Buffer.concat([a, b])));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('long second parts: lengths past 2^16 and 2^24 bytes', () => {
    for (const n of [65_537, 16_777_217]) {
      const a = Buffer.from('prefix');
      const b = Buffer.alloc(n, 0x5a);
      expect(crc32Combine(zlib.crc32(a), zlib.crc32(b), n)).toBe(zlib.crc32(Buffer.concat([a, b])));
    }
  });
});

describe('crc32ByTable (Node 20 releases without zlib.crc32)', () => {
  it('equals zlib.crc32, from 0 and continuing from a running value', () => {
    expect(crc32ByTable(Buffer.from('hello world'))).toBe(0x0d4a1185);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ maxLength: 2000 }), (a, b) => {
        expect(crc32ByTable(a)).toBe(zlib.crc32(a));
        expect(crc32ByTable(b, crc32ByTable(a))).toBe(zlib.crc32(Buffer.concat([a, b])));
      }),
      { numRuns: 200, seed: 5 },
    );
  });
});

describe('gzip pieces', () => {
  it('any pieces, in any order, each sent once or several times: header + pieces + trailer gunzips to their text', () => {
    const texts = fc.array(fc.string({ unit: 'binary', maxLength: 2000 }), { maxLength: 12 });
    fc.assert(
      fc.property(texts, fc.array(fc.nat(), { maxLength: 20 }), (parts, picks) => {
        const pieces = parts.map((t) => ({ text: t, piece: gzipPiece(Buffer.from(t, 'utf8')) }));
        const sent = pieces.length === 0 ? [] : picks.map((i) => pieces[i % pieces.length]!);
        const tail = new GzipTail();
        const wire = [GZIP_HEADER];
        for (const p of sent) {
          tail.add(p.piece);
          wire.push(p.piece.bytes);
        }
        wire.push(tail.trailer());
        // gunzipSync checks the trailer: a wrong CRC or length throws.
        expect(zlib.gunzipSync(Buffer.concat(wire)).toString('utf8')).toBe(sent.map((p) => p.text).join(''));
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('a piece ends on a byte boundary without a final block, so a stream cut after it is whole so far', () => {
    const piece = gzipPiece(Buffer.from('event: diff\ndata: {}\n\n'));
    expect([...piece.bytes.subarray(-4)]).toEqual([0x00, 0x00, 0xff, 0xff]); // the sync flush's empty stored block
    const inflated = zlib.inflateRawSync(piece.bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(inflated.toString()).toBe('event: diff\ndata: {}\n\n');
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip, deflate, br, zstd', true], // Chromium
    ['gzip', true],
    ['GZIP;q=0.5', true],
    ['x-gzip', true],
    ['*', true],
    ['br;q=1, *;q=0.1', true],
    [undefined, false],
    ['', false],
    ['identity', false],
    ['br, deflate', false],
    ['gzip;q=0', false],
    ['gzip;q=0.000', false],
    ['*;q=0.5, gzip;q=0', false], // gzip named with q=0 wins over *
    ['gzip;q=abc', false],
    ['gzip;q=2', false],
    ['gzip;q=0.5;level=1', true],
  ])('%j → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('the server', () => {
  let server: SseServer | undefined;
  afterEach(async () => {
    await server?.close('test over', 200);
    server = undefined;
  });

  it('gzip: false sends every client the stream uncompressed; HEAD tells the encoding a GET would get', async () => {
    server = await SseServer.start({ strategies: ['fly'], port: 0, gzip: false });
    const c = await SseTestClient.connect(`${server.url}/sse/heatmap/fly`, { gzip: true });
    await c.until((x) => x.named('snapshot').length === 1, 'snapshot');
    expect(c.isGzip).toBe(false);
    expect(c.headers['vary']).toBe('Accept-Encoding');
    expect(server.status()[0]).toMatchObject({ clients: 1, gzip_clients: 0 });
    await server.close('test over', 200);
    server = await SseServer.start({ strategies: ['fly'], port: 0 });
    const head = (encoding: string | undefined): Promise<http.IncomingHttpHeaders> =>
      new Promise((resolve, reject) => {
        const req = http.request(`${server!.url}/sse/heatmap/fly`, { method: 'HEAD', agent: false, headers: encoding ? { 'Accept-Encoding': encoding } : {} }, (res) => {
          res.resume();
          resolve(res.headers);
        });
        req.on('error', reject);
        req.end();
      });
    expect((await head('gzip'))['content-encoding']).toBe('gzip');
    expect((await head(undefined))['content-encoding']).toBeUndefined();
    expect((await head('gzip;q=0'))['content-encoding']).toBeUndefined();
    // JSON endpoints stay uncompressed (small, and read by scripts with curl).
    const list = await httpGet(`${server.url}/sse/heatmap`);
    expect(list.headers['content-encoding']).toBeUndefined();
  });
});
