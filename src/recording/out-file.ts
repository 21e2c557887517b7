import fs from 'node:fs';
import { finished } from 'node:stream/promises';
import zlib from 'node:zlib';
import { RuntimeError } from '../errors.js';

const GZIP_LEVEL = 6;
const BATCH_CHARS = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * One output file of a recording: an in-memory batch of lines → (gzip) → fs.WriteStream.
 * Used by RecordingWriter; I/O failures are reported through `onError` and reject pending waits.
 */
export class OutFile {
  lines = 0;
  private batch: string[] = [];
  private batchChars = 0;
  private dirty = false;
  private isEnded = false;
  private readonly ws: fs.WriteStream;
  private readonly gz: zlib.Gzip | undefined;
  /** Rejects with the first stream error (disk full, permissions…). */
  private readonly failed: Promise<never>;

  constructor(
    readonly name: string,
    readonly filePath: string,
    gzip: boolean,
    onError: (err: Error) => void,
  ) {
    this.ws = fs.createWriteStream(filePath, { flags: 'w' });
    this.gz = gzip ? zlib.createGzip({ level: GZIP_LEVEL }) : undefined;
    this.failed = new Promise<never>((_, reject) => {
      const fail = (err: Error): void => {
        const wrapped = new RuntimeError(`cannot write recording file ${filePath}: ${err.message}`);
        onError(wrapped);
        reject(wrapped);
      };
      this.ws.once('error', fail);
      this.gz?.once('error', fail);
    });
    this.failed.catch(() => undefined); // reported through onError; awaited via race()
    // Forward without backpressure: the write stream buffers, and `pending` exposes that buffer.
    this.gz?.on('data', (chunk: Buffer) => this.ws.write(chunk));
  }

  add(line: string): void {
    this.batch.push(line);
    this.batchChars += line.length + 1;
    this.lines++;
    this.dirty = true;
    if (this.batchChars >= BATCH_CHARS) this.push();
  }

  /** Hands the batch to zlib / the file. */
  push(): void {
    if (this.batch.length === 0) return;
    const buf = Buffer.from(this.batch.join('\n') + '\n', 'utf8');
    this.batch = [];
    this.batchChars = 0;
    if (this.gz) this.gz.write(buf);
    else this.ws.write(buf);
  }

  /** Approximate bytes queued in memory (batch characters + zlib input + file write buffer). */
  get pending(): number {
    return this.batchChars + (this.gz?.writableLength ?? 0) + this.ws.writableLength;
  }

  /** Makes everything added so far decodable from the file (Z_SYNC_FLUSH) and waits for the disk write. */
  async flush(): Promise<void> {
    if (this.isEnded) return;
    this.push();
    if (!this.dirty) return;
    this.dirty = false;
    const gz = this.gz;
    if (gz) {
      await this.race(new Promise<void>((resolve) => gz.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve())));
      // The flushed output is forwarded by the 'data' listener; let any buffered chunk reach it.
      while (gz.readableLength > 0) await new Promise((r) => setImmediate(r));
    }
    await this.barrier();
  }

  /** Waits until everything queued so far is processed by zlib and written to the file. */
  async drain(): Promise<void> {
    if (this.isEnded) return;
    this.push();
    const gz = this.gz;
    if (gz) {
      await this.race(new Promise<void>((resolve) => gz.write(EMPTY, () => resolve())));
      while (gz.readableLength > 0) await new Promise((r) => setImmediate(r));
    }
    await this.barrier();
  }

  /** Ends the gzip member (trailer) and closes the file. */
  async end(): Promise<void> {
    if (this.isEnded) return;
    this.isEnded = true;
    this.push();
    if (this.gz) {
      this.gz.end();
      await this.race(finished(this.gz));
    }
    this.ws.end();
    await this.race(finished(this.ws));
  }

  private barrier(): Promise<void> {
    if (this.ws.writableEnded) return this.race(finished(this.ws));
    return this.race(new Promise<void>((resolve) => this.ws.write(EMPTY, () => resolve())));
  }

  private race<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.failed]);
  }
}
