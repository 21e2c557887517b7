import zlib from 'node:zlib';

/**
 * CRC-32 (the gzip/zlib polynomial, reflected): of bytes, and of a concatenation from the CRCs of
 * its parts. The reader checks gzip members with it (recording/file-chunks.ts); the SSE server
 * writes gzip trailers with it (sinks/sse-gzip.ts).
 */

/** The CRC-32 polynomial, reflected. */
const POLY = 0xedb88320;

type Crc32 = (data: Uint8Array, value?: number) => number;

/** CRC-32 of `data`, continuing from `value`: zlib.crc32 (Node ≥ 20.15), else {@link crc32ByTable}. */
export const crc32: Crc32 = (zlib as unknown as { crc32?: Crc32 }).crc32 ?? crc32ByTable;

let CRC_TABLE: Uint32Array | undefined;

/** The table-driven CRC-32 for Node 20 releases without `zlib.crc32` (exported for its test). */
export function crc32ByTable(data: Uint8Array, value = 0): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// CRC-32 of a concatenation from the CRCs of its parts: crc(A‖B) = crc(A)·x^(8·|B|) + crc(B) over
// GF(2) modulo the CRC polynomial (reflected bit order, as zlib). x^(8·n) is built from the
// powers x^(2^k) by square-and-multiply over the bits of n: O(log n) products of 32-bit polynomials.

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
