import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { versionBytes } from '../engine/publisher.js';
import type { EngineOutput } from '../engine/types.js';
import type { Engine } from '../engine/engine.js';
import { InputError, RuntimeError } from '../cli/errors.js';

/** The NDJSON line of any engine output, UTF-8 (for a version, the publisher's own bytes: no copy). */
export function outputBytes(out: EngineOutput): Buffer {
  return out.type === 'version' ? versionBytes(out) : Buffer.from(JSON.stringify(out));
}

/**
 * `--keyframes N`: a function that returns a `{"type":"snapshot"}` line (the strategy's full
 * canonical tile set) after every Nth version of each strategy, and undefined otherwise.
 */
export function createKeyframer(every: number | undefined): (out: EngineOutput, engine: Engine) => string | undefined {
  const versionsSince = new Map<string, number>();
  return (out, engine) => {
    if (every === undefined || out.type !== 'version') return undefined;
    const n = (versionsSince.get(out.strategy) ?? 0) + 1;
    versionsSince.set(out.strategy, n % every);
    if (n !== every) return undefined;
    return JSON.stringify({
      type: 'snapshot',
      strategy: out.strategy,
      version: out.version,
      at_us: out.at_us,
      hash: out.hash,
      tiles: engine.canonicalTiles(out.strategy),
    });
  };
}

/**
 * Buffered NDJSON writer for stdout or a file. Lines are batched into ~64 KB writes; `drain()`
 * returns a promise only when the destination is applying backpressure, so a replay slows down to
 * the consumer's pace instead of buffering without bound.
 */
const NEWLINE = Buffer.from('\n');

export class NdjsonSink {
  /** Bytes not yet handed to the destination, newlines included. */
  private parts: Uint8Array[] = [];
  private partsBytes = 0;
  private blocked: Promise<void> | undefined;
  private unblock: (() => void) | undefined;
  private failed: Error | undefined;
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
    if (this.partsBytes >= 65536) this.flush();
  }

  /** Writes complete lines that are already bytes, each with its newline. */
  writeBytes(bytes: Uint8Array): void {
    if (this.closedByReader || this.failed) return;
    this.parts.push(bytes);
    this.partsBytes += bytes.length;
    if (this.partsBytes >= 65536) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    const chunk = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsBytes);
    this.parts = [];
    this.partsBytes = 0;
    this.push(chunk);
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
