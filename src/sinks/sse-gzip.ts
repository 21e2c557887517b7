import zlib from 'node:zlib';
import { crc32, crc32Combine } from '../crc32.js';

/**
 * gzip for SSE streams, compressed once for all clients (`Content-Encoding: gzip`, negotiated from
 * `Accept-Encoding`; every browser sends it).
 *
 * A channel writes the same batch of events to every client, but a gzip stream is stateful: two
 * clients that joined at different versions would need two compressors. So each batch is
 * compressed on its own into a **piece**: raw deflate blocks, ended by a sync flush (byte-aligned,
 * no final block) and referring to nothing before the piece. Any sequence of pieces is then a valid
 * deflate stream, and the bytes of a batch's piece are the same for every client. A client's stream
 * is the 10-byte gzip header, the pieces it was sent, and — when the server ends the response — an
 * empty final block with the CRC-32 and length of everything it was sent, which is computed per
 * client from the pieces' CRCs (`crc32Combine`, crc32.ts) without reading their bytes again.
 *
 * The cost of the shared pieces is the ratio: no piece can refer to an earlier one. On format 2
 * diffs in batches of ~60 versions, level 1 makes them 4.7× smaller (5.1× at level 3, 6.1× at 6,
 * which takes 3× as long); the compressing is done once per batch, whatever the number of clients.
 */

/** Level 1: most of the ratio for the least time (see above). */
const LEVEL = 1;

/** What a gzip stream starts with: magic, deflate, no flags, no mtime, no extra flags, OS unknown. */
export const GZIP_HEADER: Buffer = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** An empty final block (fixed Huffman codes, just the end-of-block code): 3 + 7 bits, byte-padded. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** One batch compressed on its own, with what a client's trailer needs to know of it. */
export interface GzipPiece {
  readonly bytes: Buffer;
  /** CRC-32 of the uncompressed bytes. */
  readonly crc: number;
  /** Length of the uncompressed bytes. */
  readonly size: number;
}

/** Compresses one batch into a piece (see the module comment). */
export function gzipPiece(data: Buffer): GzipPiece {
  const bytes = zlib.deflateRawSync(data, { level: LEVEL, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return { bytes, crc: crc32(data), size: data.length };
}

/** A client's running CRC-32 and length over the pieces it was sent; `trailer()` ends its stream. */
export class GzipTail {
  private crc = 0;
  private size = 0;

  /** Counts a piece the client was sent. */
  add(piece: GzipPiece): void {
    this.crc = crc32Combine(this.crc, piece.crc, piece.size);
    this.size = (this.size + piece.size) % 0x1_0000_0000; // ISIZE is the length modulo 2^32
  }

  /** The last bytes of the stream: an empty final block, then CRC-32 and ISIZE, little-endian. */
  trailer(): Buffer {
    const out = Buffer.alloc(FINAL_BLOCK.length + 8);
    FINAL_BLOCK.copy(out, 0);
    out.writeUInt32LE(this.crc, FINAL_BLOCK.length);
    out.writeUInt32LE(this.size, FINAL_BLOCK.length + 4);
    return out;
  }
}

/**
 * True when the client takes gzip: `Accept-Encoding` lists `gzip` (or `x-gzip`, or `*` when gzip
 * itself is not listed) with a quality above 0. Anything else — no header, `identity`, `gzip;q=0`,
 * a malformed quality, only other codings — gets the stream uncompressed.
 */
export function acceptsGzip(header: string | readonly string[] | undefined): boolean {
  const text = typeof header === 'string' ? header : header?.join(',');
  if (!text) return false;
  let gzip: number | undefined;
  let star: number | undefined;
  for (const part of text.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim());
    let q = 1;
    for (const p of params) {
      if (!/^q=/i.test(p)) continue;
      // RFC 9110 qvalue: 0–1 with up to 3 decimals; anything else makes the entry unusable.
      q = /^q=(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i.test(p) ? Number(p.slice(2)) : NaN;
    }
    if (Number.isNaN(q)) continue;
    const coding = name.toLowerCase();
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (coding === '*') star = q;
  }
  return (gzip ?? star ?? 0) > 0;
}
