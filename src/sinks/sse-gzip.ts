import zlib from 'node:zlib';

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
 * client from the pieces' CRCs ({@link crc32Combine}) without reading their bytes again.
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

/** True when this Node has `zlib.crc32` (20.15+, 22.2+): without it the server sends identity only. */
export const isGzipAvailable: boolean = typeof (zlib as { crc32?: unknown }).crc32 === 'function';

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
  return { bytes, crc: zlib.crc32(data), size: data.length };
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

// CRC-32 of a concatenation from the CRCs of its parts: crc(A‖B) = crc(A)·x^(8·|B|) + crc(B) over
// GF(2) modulo the CRC polynomial (reflected bit order, as zlib). x^(8·n) is built from the
// powers x^(2^k) by square-and-multiply over the bits of n: O(log n) products of 32-bit polynomials.

/** The CRC-32 polynomial, reflected. */
const POLY = 0xedb88320;

/** a·b modulo the polynomial (reflected: bit 31 is x^0). */
function multiplyModP(a: number, b: number): number {
  if (a === 0) return 0;
  let m = 0x8000_0000;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N: readonly number[] = (() => {
  const t = [0x4000_0000]; // x^1
  for (let k = 1; k < 32; k++) t.push(multiplyModP(t[k - 1]!, t[k - 1]!));
  return t;
})();

/** x^(8·n) modulo the polynomial (n bytes of zeros appended). */
function xPowBytes(n: number): number {
  let p = 0x8000_0000; // x^0
  let k = 3; // 8·n = n·2^3
  while (n > 0) {
    if (n % 2 === 1) p = multiplyModP(X2N[k % 32]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** CRC-32 of A‖B, from crc(A), crc(B) and the length of B in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multiplyModP(xPowBytes(lengthB), crcA) ^ crcB) >>> 0;
}
