import fs from 'node:fs';
import zlib from 'node:zlib';
import { InputError } from '../errors.js';

/**
 * Reads one recording file as decoded byte chunks (plain, or gunzipped), tolerating a cut tail.
 *
 * Why this is not just `createReadStream().pipe(createGunzip())`: a recorder killed -9 leaves a
 * gzip file without its trailer. With Node's default `finishFlush` (Z_FINISH), gunzip then emits
 * an "unexpected end of file" error (code Z_BUF_ERROR) and destroys itself — and an async iterator
 * over a destroyed stream drops chunks still buffered. With `finishFlush: Z_SYNC_FLUSH` it instead
 * ends quietly, so the truncation goes unnoticed. So we drive gunzip by hand: feed the compressed
 * chunks one at a time, then `flush(Z_SYNC_FLUSH)` (everything decodable comes out, whatever the
 * Node version), and only then `end()`, whose Z_FINISH reports whether the deflate stream and the
 * gzip trailer (CRC32 + ISIZE, checked by zlib) were complete. Concatenated gzip members are read
 * as one stream (Node's gunzip handles them).
 */

/** How a file ended: `cut` is set when its data stopped before a proper end (gzip only). */
export interface ChunkEnd {
  cut?: string;
}

const PLAIN_CHUNK = 64 * 1024;
/** Compressed read size: small enough that one chunk's output (≈10–30× for NDJSON) stays modest. */
const GZ_CHUNK = 16 * 1024;

/**
 * Yields the decoded bytes of `filePath`. Never throws for a truncated or corrupt gzip stream:
 * it yields everything decodable and sets `end.cut`. Throws InputError when the file cannot be read.
 * Breaking out of the loop closes the file.
 */
export async function* readFileChunks(filePath: string, isGzip: boolean, end: ChunkEnd): AsyncGenerator<Buffer> {
  const src = fs.createReadStream(filePath, { highWaterMark: isGzip ? GZ_CHUNK : PLAIN_CHUNK });
  if (!isGzip) {
    try {
      for await (const chunk of readSource(src, filePath)) yield chunk;
    } finally {
      await closeSource(src);
    }
    return;
  }
  const gz = zlib.createGunzip();
  const out: Buffer[] = [];
  let zerr: Error | undefined;
  let ended = false;
  // Resolves on the first zlib error so that no wait below can hang on a destroyed stream.
  const failed = new Promise<void>((resolve) =>
    gz.once('error', (err: Error) => {
      zerr = err;
      resolve();
    }),
  );
  gz.on('data', (chunk: Buffer) => out.push(chunk));
  gz.once('end', () => (ended = true));
  const settle = async (p: Promise<void>): Promise<void> => {
    await Promise.race([p, failed]);
    // Flowing-mode output normally reaches the 'data' listener synchronously; be sure it has.
    while (!zerr && gz.readableLength > 0) await new Promise((r) => setImmediate(r));
  };
  try {
    for await (const chunk of readSource(src, filePath)) {
      await settle(new Promise<void>((resolve) => gz.write(chunk, () => resolve())));
      while (out.length > 0) yield out.shift()!;
      if (zerr) break;
    }
    if (!zerr) {
      await settle(new Promise<void>((resolve) => gz.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve())));
      while (out.length > 0) yield out.shift()!;
    }
    if (!zerr) {
      const done = new Promise<void>((resolve) => {
        if (ended) resolve();
        else gz.once('end', () => resolve());
      });
      gz.end();
      await settle(done);
      while (out.length > 0) yield out.shift()!;
    }
    if (zerr) end.cut = describeZlibError(zerr);
  } finally {
    gz.destroy();
    await closeSource(src);
  }
}

/** Destroys the read stream and waits until its file descriptor is closed. */
async function closeSource(src: fs.ReadStream): Promise<void> {
  if (src.closed) return;
  const closed = new Promise<void>((resolve) => src.once('close', () => resolve()));
  src.destroy();
  await closed;
}

function describeZlibError(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message)) {
    return 'gzip stream truncated (no end-of-stream trailer: writer killed or file cut)';
  }
  return `gzip data corrupt (${err.message})`;
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
