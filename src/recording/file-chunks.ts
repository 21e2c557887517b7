import fs, { promises as fsp } from 'node:fs';
import zlib from 'node:zlib';
import { crc32 } from '../crc32.js';
import { InputError } from '../errors.js';

/**
 * Reads one recording file as decoded byte chunks (plain, or gunzipped), tolerating a cut tail and
 * damaged gzip data (ARCHITECTURE.md, "Around the engine", Recording format).
 *
 * Why this is not `createReadStream().pipe(createGunzip())`: Node's gunzip stops at the first
 * problem and throws away the output of the zlib call that hit it (up to 16 KiB of good lines); it
 * reads garbage after the last member as a broken member; and it cannot say where the damage is.
 * So the gzip container is parsed here — member header, raw deflate data (a Node `InflateRaw`
 * stream, fed one compressed chunk at a time), 8-byte trailer (CRC32 + ISIZE, checked here), next
 * member or trailing bytes — and every byte offset is known:
 * - truncated (writer killed, file cut): everything decodable is yielded (the inflater is flushed
 *   with Z_SYNC_FLUSH before it is ended), `cut` says so;
 * - corrupt deflate data / header: zlib's error names no position and loses the failing call's
 *   output, so the member is inflated again from its start in a fresh inflater (same bytes, same
 *   output, the already-yielded part skipped), the last stretch one byte per write: the output up
 *   to the byte where zlib fails is yielded, and `corrupt` holds that byte's offset. The rest of
 *   the file is not read. This costs a second pass over the damaged member, only when it happens;
 * - CRC32 or ISIZE mismatch: the member's output was already yielded (gzip checks only at the end
 *   and holding a whole member back to verify it first would break constant memory): a warning;
 *   reading goes on with the next member;
 * - bytes after the last member that do not start a gzip member: ignored, counted, a warning.
 * Concatenated gzip members (valid gzip) are read as one stream.
 */

/** How a file ended. Only gzip files set anything. */
export interface ChunkEnd {
  /** Set when the data stopped before a proper end (truncated or corrupt): why, in one line. */
  cut?: string;
  /** Set (with `cut`) when the gzip data is corrupt rather than cut short. */
  corrupt?: {
    /** Offset in the file of the compressed byte where decoding failed. */
    at: number;
    /** Compressed bytes from `at` to the end of the file: not decoded. */
    unread: number;
    /** zlib's or the header parser's message. */
    why: string;
  };
  /** Damage that cost no decoded data: CRC/size mismatches, trailing garbage. */
  warnings?: string[];
}

const PLAIN_CHUNK = 64 * 1024;
/** Compressed read size: small enough that one chunk's output (≈10–30× for NDJSON) stays modest. */
const GZ_CHUNK = 16 * 1024;
/** Inflated output per zlib call: large, so that a chunk costs few calls and callbacks. */
const INFLATE_CHUNK = 256 * 1024;
/** A member header longer than this (huge FEXTRA/FNAME/FCOMMENT) is treated as corrupt. */
const MAX_HEADER = 1024 * 1024;
/** CRC/size mismatch warnings kept per file; more are only counted. */
const MAX_MISMATCH_WARNINGS = 3;

/**
 * Yields the decoded bytes of `filePath`. Never throws for a truncated or damaged gzip stream: it
 * yields everything decodable and fills `end`. Throws InputError when the file cannot be read.
 * Breaking out of the loop closes the file.
 */
export async function* readFileChunks(filePath: string, isGzip: boolean, end: ChunkEnd): AsyncGenerator<Buffer> {
  if (isGzip) {
    yield* readGzip(filePath, end);
    return;
  }
  const src = fs.createReadStream(filePath, { highWaterMark: PLAIN_CHUNK });
  try {
    for await (const chunk of readSource(src, filePath)) yield chunk;
  } finally {
    await closeSource(src);
  }
}

const TRUNCATED = 'gzip stream truncated (no end-of-stream trailer: writer killed or file cut)';

async function* readGzip(filePath: string, end: ChunkEnd): AsyncGenerator<Buffer> {
  const src = fs.createReadStream(filePath, { highWaterMark: GZ_CHUNK });
  let phase: 'header' | 'deflate' | 'trailer' | 'garbage' = 'header';
  let pos = 0; // file offset of the first byte of `buf` below
  let pending = Buffer.alloc(0); // header or trailer bytes collected so far
  let members = 0; // members read completely (trailer included)
  let memberStart = 0;
  let dataStart = 0; // offset of the current member's deflate data
  let inflater: Inflater | undefined;
  let memberOut = 0; // bytes the current member has yielded
  let crc = 0;
  let garbage = 0;
  let garbageZero = true;
  const mismatches: string[] = [];
  let moreMismatches = 0;
  let corrupt: { at: number; why: string } | undefined;

  try {
    reading: for await (const chunk of readSource(src, filePath)) {
      let buf: Buffer = chunk;
      while (buf.length > 0) {
        if (phase === 'garbage') {
          garbage += buf.length;
          if (garbageZero) garbageZero = buf.every((b) => b === 0);
          pos += buf.length;
          break;
        }
        if (phase === 'header') {
          const head = pending.length > 0 ? Buffer.concat([pending, buf]) : buf;
          const h = parseGzipHeader(head);
          if (typeof h === 'object') {
            if (members > 0 && h.at < 2) {
              // not a member: everything from here on is trailing garbage
              phase = 'garbage';
              pos -= pending.length;
              buf = head;
              pending = Buffer.alloc(0);
              continue;
            }
            corrupt = { at: memberStart + h.at, why: h.why };
            break reading;
          }
          if (h === 'more') {
            if (head.length > MAX_HEADER) {
              corrupt = { at: memberStart, why: `gzip member header longer than ${MAX_HEADER} bytes` };
              break reading;
            }
            pending = Buffer.from(head); // a copy: `head` may be the read stream's chunk
            pos += buf.length;
            break;
          }
          const used = h - pending.length;
          pos += used;
          buf = buf.subarray(used);
          pending = Buffer.alloc(0);
          dataStart = pos;
          inflater = new Inflater();
          memberOut = 0;
          crc = 0;
          phase = 'deflate';
          continue;
        }
        if (phase === 'deflate') {
          const inf = inflater!;
          const consumedBefore = inf.consumed;
          const consumed = await inf.write(buf);
          for (const out of inf.take()) {
            crc = crc32(out, crc);
            memberOut += out.length;
            yield out;
          }
          if (inf.error) {
            // Inflate the member again up to the failing zlib call, then byte by byte: every
            // output byte before the damage comes out, and the damaged byte's offset is known.
            const resumeAt = dataStart + consumedBefore + consumed;
            const failure = yield* recoverMember(filePath, dataStart, resumeAt, pos + buf.length, memberOut);
            corrupt = failure ?? { at: resumeAt, why: inf.error.message };
            break reading;
          }
          if (consumed < buf.length) {
            // the deflate stream ended inside this chunk: the trailer follows
            inf.destroy();
            inflater = undefined;
            pos += consumed;
            buf = buf.subarray(consumed);
            phase = 'trailer';
            continue;
          }
          pos += buf.length;
          break;
        }
        // trailer: CRC32 and ISIZE, little-endian
        const need = 8 - pending.length;
        const take = buf.subarray(0, need);
        pending = Buffer.concat([pending, take]);
        pos += take.length;
        buf = buf.subarray(take.length);
        if (pending.length < 8) break;
        const problem = checkTrailer(pending, crc, memberOut);
        if (problem !== undefined) {
          if (mismatches.length < MAX_MISMATCH_WARNINGS) {
            mismatches.push(`${problem}: the file's content may be altered; its lines were replayed (gzip member at compressed bytes ${memberStart}..${pos})`);
          } else moreMismatches++;
        }
        members++;
        memberStart = pos;
        pending = Buffer.alloc(0);
        phase = 'header';
      }
    }

    if (!corrupt) {
      if (phase === 'deflate') {
        // EOF inside the deflate data, or right after it (trailer missing): flush what decodes
        const inf = inflater!;
        await inf.flush();
        for (const out of inf.take()) yield out;
        await inf.finish();
        for (const out of inf.take()) yield out;
        end.cut = TRUNCATED;
      } else if (phase === 'trailer') {
        end.cut = TRUNCATED;
      } else if (phase === 'header' && (members === 0 || pending.length > 0)) {
        if (members === 0 && pending.length === 0) end.cut = 'gzip stream truncated (empty file)';
        else if (members > 0 && (pending.length < 2 || pending[1] !== 0x8b)) {
          garbage = pending.length; // a lone byte after the last member
          garbageZero = pending.every((b) => b === 0);
        } else end.cut = 'gzip stream truncated (the gzip member header is incomplete)';
      }
    }
  } finally {
    inflater?.destroy();
    await closeSource(src);
  }

  const warnings = [...mismatches];
  if (moreMismatches > 0) warnings.push(`${moreMismatches} more gzip members with a CRC or size mismatch`);
  if (garbage > 0) warnings.push(`${garbage} bytes of trailing garbage after the gzip stream ignored${garbageZero ? ' (all zero bytes)' : ''}`);
  if (warnings.length > 0) end.warnings = warnings;
  if (corrupt) {
    const size = await fsp.stat(filePath).then((s) => s.size, () => corrupt!.at);
    const unread = Math.max(0, size - corrupt.at);
    end.corrupt = { at: corrupt.at, unread, why: corrupt.why };
    end.cut = `gzip data corrupt at compressed byte ${corrupt.at} (${corrupt.why}); the rest of the file (${unread} compressed bytes) is unreadable`;
  }
}

/**
 * Inflates the deflate data starting at `dataStart` again, in a fresh inflater: normally up to
 * `resumeAt` (which decoded fine before), then one byte per write up to `limit`, until zlib fails.
 * Yields the output beyond the first `skip` bytes (already yielded) and returns where and why it
 * failed (undefined if it did not fail again, which deterministic zlib does not do).
 */
async function* recoverMember(
  filePath: string,
  dataStart: number,
  resumeAt: number,
  limit: number,
  skip: number,
): AsyncGenerator<Buffer, { at: number; why: string } | undefined> {
  const src = fs.createReadStream(filePath, { start: dataStart, end: limit - 1, highWaterMark: GZ_CHUNK });
  const inf = new Inflater();
  let produced = 0;
  const fresh = function* (): Generator<Buffer> {
    for (const out of inf.take()) {
      const from = Math.max(0, skip - produced);
      produced += out.length;
      if (from < out.length) yield out.subarray(from);
    }
  };
  let pos = dataStart;
  try {
    for await (const chunk of readSource(src, filePath)) {
      let buf: Buffer = chunk;
      if (pos < resumeAt) {
        const n = Math.min(buf.length, resumeAt - pos);
        await inf.write(buf.subarray(0, n));
        yield* fresh();
        if (inf.error) return { at: pos, why: inf.error.message };
        pos += n;
        buf = buf.subarray(n);
      }
      for (let i = 0; i < buf.length; i++, pos++) {
        await inf.write(buf.subarray(i, i + 1));
        yield* fresh();
        if (inf.error) return { at: pos, why: inf.error.message };
      }
    }
  } finally {
    inf.destroy();
    await closeSource(src);
  }
  return undefined;
}

/**
 * A Node InflateRaw stream driven one write at a time: `write` resolves when zlib has processed
 * the bytes (or failed: then `error` is set and the stream is dead), `take` hands over the output.
 */
class Inflater {
  private readonly z = zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK });
  private readonly out: Buffer[] = [];
  error: Error | undefined;
  private ended = false;
  /** Resolves on the first zlib error, so that no wait below can hang on a destroyed stream. */
  private readonly failed: Promise<void>;

  constructor() {
    this.failed = new Promise<void>((resolve) =>
      this.z.once('error', (err: Error) => {
        this.error = err;
        resolve();
      }),
    );
    this.z.on('data', (chunk: Buffer) => this.out.push(chunk));
    this.z.once('end', () => (this.ended = true));
  }

  /** Compressed bytes zlib has consumed so far (it stops consuming at the end of the deflate stream). */
  get consumed(): number {
    return this.z.bytesWritten;
  }

  /** Feeds `buf`; returns how many of its bytes zlib consumed (fewer when the deflate stream ended). */
  async write(buf: Buffer): Promise<number> {
    const before = this.z.bytesWritten;
    await this.settle(new Promise<void>((resolve) => this.z.write(buf, () => resolve())));
    return this.z.bytesWritten - before;
  }

  /** Z_SYNC_FLUSH: everything decodable so far comes out, whatever the Node version. */
  async flush(): Promise<void> {
    if (this.error) return;
    await this.settle(new Promise<void>((resolve) => this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve())));
  }

  /** Ends the input (Z_FINISH): sets `error` when the deflate stream was incomplete. */
  async finish(): Promise<void> {
    if (this.error) return;
    const done = new Promise<void>((resolve) => {
      if (this.ended) resolve();
      else this.z.once('end', () => resolve());
    });
    this.z.end();
    await this.settle(done);
  }

  take(): Buffer[] {
    return this.out.splice(0);
  }

  destroy(): void {
    this.z.destroy();
  }

  private async settle(p: Promise<void>): Promise<void> {
    await Promise.race([p, this.failed]);
    // Flowing-mode output normally reaches the 'data' listener synchronously; be sure it has.
    while (!this.error && this.z.readableLength > 0) await new Promise((r) => setImmediate(r));
  }
}

/**
 * A gzip member header (RFC 1952 §2.3) at the start of `b`: its length, 'more' when `b` ends
 * inside it, or where (offset in `b`) and why it is invalid.
 */
function parseGzipHeader(b: Buffer): number | 'more' | { at: number; why: string } {
  const hex = (i: number) => (i < b.length ? b[i]!.toString(16).padStart(2, '0') : '');
  if (b.length >= 1 && b[0] !== 0x1f) return { at: 0, why: `not a gzip file: it starts with ${hex(0)} ${hex(1)}`.trimEnd() + ', not 1f 8b' };
  if (b.length >= 2 && b[1] !== 0x8b) return { at: 1, why: `not a gzip file: it starts with ${hex(0)} ${hex(1)}, not 1f 8b` };
  if (b.length < 10) return 'more';
  if (b[2] !== 8) return { at: 2, why: `unknown gzip compression method ${b[2]}` };
  const flags = b[3]!;
  if ((flags & 0xe0) !== 0) return { at: 3, why: 'reserved gzip header flags set' };
  let p = 10;
  if (flags & 0x04) {
    // FEXTRA: 2-byte length, then the field
    if (b.length < p + 2) return 'more';
    p += 2 + b.readUInt16LE(p);
  }
  for (const bit of [0x08, 0x10]) {
    // FNAME, FCOMMENT: zero-terminated
    if ((flags & bit) === 0) continue;
    if (p >= b.length) return 'more';
    const z = b.indexOf(0, p);
    if (z === -1) return 'more';
    p = z + 1;
  }
  if (flags & 0x02) p += 2; // FHCRC (not checked: the deflate data and the trailer are)
  return b.length >= p ? p : 'more';
}

/** What is wrong with a member's 8-byte trailer, given the CRC32 and length of its output. */
function checkTrailer(trailer: Buffer, crc: number, length: number): string | undefined {
  const crcBad = trailer.readUInt32LE(0) !== crc >>> 0;
  const want = trailer.readUInt32LE(4);
  const sizeBad = want !== length % 2 ** 32;
  const sizes = `(the trailer says ${want} bytes, ${length % 2 ** 32} were inflated)`;
  if (crcBad && sizeBad) return `CRC and size mismatch ${sizes}`;
  if (sizeBad) return `size mismatch ${sizes}`;
  return crcBad ? 'CRC mismatch' : undefined;
}

/** Destroys the read stream and waits until its file descriptor is closed. */
async function closeSource(src: fs.ReadStream): Promise<void> {
  if (src.closed) return;
  const closed = new Promise<void>((resolve) => src.once('close', () => resolve()));
  src.destroy();
  await closed;
}

/** The raw file chunks, with read errors turned into InputError naming the file. */
async function* readSource(src: fs.ReadStream, filePath: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of src) yield chunk as Buffer;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new InputError(`cannot read recording file ${filePath}: ${msg}`);
  }
}
