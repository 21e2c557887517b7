import { enabledStrategyNames, type EngineConfig } from '../engine/config.js';
import { Tally } from '../engine/tally.js';
import { isStreamName } from '../recording/lines.js';
import { extractRecvUs } from '../recording/reader.js';
import { PipelinePool } from '../replay/pipeline-pool.js';
import { closeRedis, connectRedis } from './connection.js';
import type { RedisTarget } from './target.js';
import { HeatmapWriter, type HeatmapWriterStats } from './heatmap-writer.js';
import { readRaw, readRawMeta } from './raw-reader.js';

/**
 * `heatmap pipeline` (DESIGN §6): `massive:raw` → the engine with this process's strategies →
 * `massive:heatmap:{S}` for each of them. Any number of pipeline processes, on any hosts, with any
 * subsets of strategies: each recomputes from the start of `massive:raw`, so what it publishes is
 * what `heatmap replay` publishes for those strategies, byte for byte, and a restarted one checks
 * the entries already there and continues after them (see HeatmapWriter).
 */

export interface PipelineOptions {
  readonly target: RedisTarget;
  /** The config, strategy modules loaded; its enabled strategies are this process's. */
  readonly config: EngineConfig;
  readonly format: 1 | 2;
  readonly maxlen: number;
  readonly snapshotEvery: number;
  /** The watchdog and heap limit of the worker pipelines (one thread per strategy). */
  readonly stallTimeoutMs: number;
  readonly heapMb: number;
  /** Keep following `massive:raw` after the feed's end marker. */
  readonly follow: boolean;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** Called after every batch of raw entries. */
  readonly onProgress?: (p: PipelineProgress) => void;
}

export interface PipelineProgress {
  readonly entries: number;
  readonly recv_us: number | undefined;
  readonly versions: Readonly<Record<string, number>>;
}

export interface PipelineOutcome {
  readonly underlying: string | undefined;
  readonly entries: number;
  readonly bad: Tally;
  readonly strategies: Readonly<Record<string, HeatmapWriterStats & { version: number; error?: string }>>;
  readonly aborted: boolean;
}

/**
 * Runs the process's strategies over `massive:raw`. Each strategy runs in a worker pipeline of its
 * own (replay/pipeline-pool.ts: a strategy that stalls, throws or runs out of memory is stopped and
 * reported with an error line in its stream, and the others go on); their lines come back in the
 * engine's order, so each strategy stream gets its versions and the gap lines exactly where a
 * replay writes them.
 */
export async function runPipeline(o: PipelineOptions): Promise<PipelineOutcome> {
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const control = await connectRedis(o.target, { role: 'pipeline writer', log });
  let reader;
  try {
    reader = await connectRedis(o.target, { role: 'pipeline reader', log });
  } catch (err) {
    await closeRedis(control);
    throw err;
  }
  // An abort must end a read that is blocked in Redis: close the reader's connection.
  const onAbort = (): void => void closeRedis(reader);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const bad = new Tally();
  const names = enabledStrategyNames(o.config);
  const writers = new Map<string, HeatmapWriter>();
  let entries = 0;
  let underlying: string | undefined;
  let errors: Record<string, string> = {};
  try {
    for (const name of names) {
      const w = new HeatmapWriter(control, { target: o.target, strategy: name, format: o.format, maxlen: o.maxlen, snapshotEvery: o.snapshotEvery });
      await w.init();
      writers.set(name, w);
    }
    const meta = await readRawMeta(reader, control, {
      prefix: o.target.prefix,
      signal: o.signal,
      onWait: () => log(`pipeline: waiting for ${o.target.prefix}:raw (start heatmap feed … --redis ${o.target.shown})`),
    });
    if (meta !== undefined) {
      underlying = meta.underlying;
      const all = [...writers.values()];
      const flusher = new Flusher(all);
      const pool = new PipelinePool({
        config: o.config,
        underlying: meta.underlying,
        format: o.format,
        stallTimeoutMs: o.stallTimeoutMs,
        heapMb: o.heapMb,
        whenBehind: 'wait',
        records: true,
        output: {
          write: (line, rec) => {
            if (rec === null) return;
            const bytes = Buffer.from(line.subarray(0, line.byteLength - 1)); // a copy, without its newline
            if (rec.type === 'gap') for (const w of all) w.push(rec, bytes);
            else writers.get(rec.strategy)?.push(rec, bytes);
            flusher.poke();
          },
          drain: () => flusher.drain(),
        },
      });
      let recv_us: number | undefined;
      const onIdle = (): void => log(`pipeline: caught up after ${entries} inputs; waiting for more (${o.follow ? '--follow' : `${o.target.prefix}:raw has no end marker yet`})`);
      try {
        for await (const batch of readRaw(reader, control, { prefix: o.target.prefix, follow: o.follow, signal: o.signal, onIdle })) {
          for (const e of batch) {
            entries++;
            const recv = extractRecvUs(e.line);
            if (typeof recv !== 'number' || !isStreamName(e.stream)) {
              bad.add(typeof recv !== 'number' ? recv : 'raw_unknown_stream', `${o.target.prefix}:raw ${e.id}`);
              continue;
            }
            recv_us = recv;
            pool.push({ stream: e.stream, file: `${o.target.prefix}:raw`, line_no: entries, recv_us: recv, text: e.line });
            const wait = pool.ready();
            if (wait) await wait;
          }
          await flusher.idle();
          o.onProgress?.({ entries, recv_us, versions: Object.fromEntries(all.map((w) => [w.key, w.lastVersion])) });
        }
      } catch (err) {
        await pool.destroy();
        throw err;
      }
      const outcome = await pool.finish();
      bad.merge(outcome.bad);
      errors = Object.fromEntries(Object.entries(outcome.summary.strategies).flatMap(([k, v]) => (v.error !== undefined ? [[k, v.error]] : [])));
      await flusher.idle();
      await Promise.all(all.map((w) => w.finish()));
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await closeRedis(reader);
    await closeRedis(control);
  }
  const strategies: Record<string, HeatmapWriterStats & { version: number; error?: string }> = {};
  for (const [name, w] of [...writers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    strategies[name] = { ...w.stats, version: w.lastVersion, ...(errors[name] !== undefined ? { error: errors[name] } : {}) };
  }
  return { underlying, entries, bad, strategies, aborted: o.signal?.aborted === true };
}

/**
 * Sends the writers' queued lines to Redis in the background, one flush at a time; `drain` makes
 * the merge wait while too many lines are queued (memory stays bounded when Redis is slow).
 */
class Flusher {
  private queued = 0;
  private running: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly writers: readonly HeatmapWriter[],
    private readonly maxQueued = 5000,
  ) {}

  poke(): void {
    this.queued++;
    this.running ??= this.run();
  }

  drain(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.queued > this.maxQueued ? this.running : undefined;
  }

  /** Resolves once everything queued so far is in Redis; rethrows a write failure. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
    if (this.queued > 0) await (this.running = this.run());
    if (this.failure !== undefined) throw this.failure;
  }

  private async run(): Promise<void> {
    try {
      while (this.queued > 0 && this.failure === undefined) {
        this.queued = 0;
        await Promise.all(this.writers.map((w) => w.flush()));
      }
    } catch (err) {
      this.failure = err;
    } finally {
      this.running = undefined;
    }
  }
}
