import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { InputError, RuntimeError } from '../errors.js';

/**
 * Buffered NDJSON writer for stdout or a file. Lines written in one turn of the event loop go out
 * together at the end of that turn (or once they reach 1 MiB): a paced replay or a live session
 * delivers each version when it is published, a replay at --speed max makes few large writes.
 * `drain()` returns a promise only when the destination is applying backpressure, so a replay
 * slows down to the consumer's pace instead of buffering without bound.
 */
const NEWLINE = Buffer.from('\n');
/** Buffered bytes that are written at once, without waiting for the end of the turn. */
const FLUSH_BYTES = 1 << 20;
/** At most this many parts go to a file as they are (one writev); more are copied into one buffer. */
const GATHER_PARTS = 64;

export class NdjsonSink {
  /** Bytes not yet handed to the destination, newlines included. */
  private parts: Uint8Array[] = [];
  private partsBytes = 0;
  private blocked: Promise<void> | undefined;
  private unblock: (() => void) | undefined;
  private failed: Error | undefined;
  private flushTimer: NodeJS.Immediate | undefined;
  /** True when the reader went away (EPIPE on stdout, e.g. `| head`). */
  closedByReader = false;

  private constructor(private readonly out: Writable, private readonly isStdout: boolean, name: string) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closedByReader = true;
      else {
        // a path that cannot be opened is a bad --out (exit 2); a failing disk or pipe is a runtime failure
        const badPath = err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR' || err.code === 'ENOTDIR';
        const Failure = badPath ? InputError : RuntimeError;
        this.failed ??= new Failure(`cannot write ${name}: ${err.message}`);
      }
      // a destination that failed never drains: release a replay waiting on it
      this.unblock?.();
    });
  }

  /** `-` or undefined: stdout; else a file (created or truncated). */
  static open(path: string | undefined): NdjsonSink {
    if (path === undefined || path === '-') return new NdjsonSink(process.stdout, true, 'to stdout');
    return new NdjsonSink(createWriteStream(path), false, path);
  }

  /** Writes one line (text or UTF-8 bytes, without its newline). */
  write(line: string | Uint8Array): void {
    if (this.closedByReader || this.failed) return;
    const bytes = typeof line === 'string' ? Buffer.from(line) : line;
    this.parts.push(bytes, NEWLINE);
    this.partsBytes += bytes.length + 1;
    this.buffered();
  }

  /** Writes complete lines that are already bytes, each with its newline. */
  writeBytes(bytes: Uint8Array): void {
    if (this.closedByReader || this.failed) return;
    this.parts.push(bytes);
    this.partsBytes += bytes.length;
    this.buffered();
  }

  /** After bytes were buffered: written now when there are many, else at the end of this turn. */
  private buffered(): void {
    if (this.partsBytes >= FLUSH_BYTES) this.flush();
    else this.flushTimer ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.flushTimer !== undefined) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    if (this.parts.length === 0) return;
    const parts = this.parts;
    const bytes = this.partsBytes;
    this.parts = [];
    this.partsBytes = 0;
    if (parts.length === 1) this.push(parts[0]!);
    else if (!this.isStdout && parts.length <= GATHER_PARTS) {
      // a file stream gathers corked writes into one writev: the parts are not copied
      this.out.cork();
      for (const part of parts) this.push(part);
      this.out.uncork();
    } else this.push(Buffer.concat(parts, bytes)); // stdout may be a file written part by part
  }

  private push(chunk: Uint8Array): void {
    if (!this.out.write(chunk) && !this.blocked && !this.failed && !this.closedByReader) {
      this.blocked = new Promise((resolve) => {
        this.unblock = () => {
          this.blocked = undefined;
          this.unblock = undefined;
          resolve();
        };
        this.out.once('drain', this.unblock);
      });
    }
  }

  /** A promise while the destination is full; undefined otherwise (cheap to call per input). */
  drain(): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    return this.blocked;
  }

  /** Flushes everything and closes a file destination (stdout stays open). */
  async close(): Promise<void> {
    this.flush();
    if (this.failed) throw this.failed;
    if (this.closedByReader) return;
    if (this.isStdout) {
      if (this.blocked) await this.blocked;
      return;
    }
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (this.failed) throw this.failed;
  }
}
