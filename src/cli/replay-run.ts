import chalk from 'chalk';
import { devNull } from 'node:os';
import type { EngineOutput } from '../engine/types.js';
import type { EngineView } from '../engine/engine.js';
import { Pacer } from '../replay/pacer.js';
import { enabledStrategyNames } from '../engine/config.js';
import { readManifest } from '../recording/manifest.js';
import { replayRecording, type ReplayOutcome } from '../replay/replay.js';
import type { ConsumerContext, OutputConsumer } from '../replay/consumer.js';
import { createKeyframer, outputBytes, splitBad, summaryRecord } from '../engine/output-lines.js';
import { replayInParallel, workerCount } from '../replay/parallel-replay.js';
import { replayThroughPipelines } from '../replay/pipeline-replay.js';
import { NdjsonSink } from '../sinks/ndjson.js';
import { parseSseFlags } from './sse-options.js';
import { parsePublishFlags, parseRedisFlags } from './redis-options.js';
import { loadEngineConfig } from './config-file.js';
import { formatUs } from './parse-options.js';
import { ReplayProgressBar, wantsProgress } from './progress.js';
import { parseReplayFlags, type ReplayCliOptions } from './replay.js';

/** The `heatmap replay` action: compute (engine), then write (NDJSON sink), progress on stderr. */
export async function runReplayCommand(recording: string, opts: ReplayCliOptions): Promise<void> {
  // --tui picks its terminal first: it decides where NDJSON may go (src/tui/terminal.ts). Without
  // one, the run goes on as if --tui had not been given (so --speed defaults to max again).
  const tuiTerminal = opts.tui ? (await import('../tui/terminal.js')).chooseTuiTerminal(opts.out) : undefined;
  if (opts.tui && !tuiTerminal) opts = { ...opts, tui: false };
  const flags = parseReplayFlags(opts);
  const config = await loadEngineConfig(opts.config, opts.strategies, { runsStrategies: true, modules: opts.strategyModule });
  const manifest = await readManifest(recording); // fails early, with exit 2, when it is not a recording
  const sink = NdjsonSink.open(tuiTerminal?.dropsNdjson ? devNull : opts.out);
  const pacer = flags.speed === 'max' && !opts.tui ? undefined : new Pacer(flags.speed);
  const abort = new AbortController();
  const ctx: ConsumerContext = { underlying: manifest.underlying, strategies: enabledStrategyNames(config), pacer, abort };
  const consumers: OutputConsumer[] = [];
  // Optional consumers, each imported lazily so `heatmap --help` and plain replays stay light.
  // (--tui, --sse and --parquet register here.)
  if (opts.parquet !== undefined) consumers.push(await (await import('../parquet/consumer.js')).createParquetConsumer(opts.parquet, ctx));
  const sse = parseSseFlags(opts);
  if (sse) {
    const { createSseConsumer } = await import('../sinks/sse-consumer.js');
    const onInterrupt = (): void => abort.abort();
    // Quitting the TUI (even after the replay ended) stops serving too; its console shows our log.
    const log = tuiTerminal ? (m: string) => console.error(m) : undefined;
    consumers.push(await createSseConsumer({ settings: sse, strategies: ctx.strategies, format: flags.format, keepServing: !sse.exitAtEnd, handleSignals: true, onInterrupt, stopSignal: abort.signal, log }));
  }
  const redis = parseRedisFlags(opts);
  if (redis) {
    const { createRedisConsumer } = await import('../redis/redis-consumer.js');
    const log = tuiTerminal ? (m: string) => console.error(m) : undefined;
    consumers.push(await createRedisConsumer({ target: redis, strategies: ctx.strategies, format: flags.format, ...parsePublishFlags(opts), log }));
  }
  // The TUI mounts last: nothing after it can fail and leave the terminal in its hands.
  if (tuiTerminal) consumers.push((await import('../tui/consumer.js')).createTuiConsumer(ctx, tuiTerminal));
  const span = spanOf(manifest.streams);
  const bar = wantsProgress(opts.progress) && !tuiTerminal ? new ReplayProgressBar('replay', flags.from_us ?? span.first, flags.to_us ?? span.last) : undefined;
  // A reader that went away (`| head`) wants no more: stop instead of computing the rest for nobody.
  const drainOrStop = (): Promise<void> | undefined => {
    if (sink.closedByReader) abort.abort();
    const waits = [sink.drain(), ...consumers.map((c) => c.drain?.())].filter((w) => w !== undefined);
    return waits.length === 0 ? undefined : waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
  };
  /** Runs the replay, then closes the consumers with its outcome (or with undefined when it failed). */
  const runWithConsumers = async (run: () => Promise<ReplayOutcome>): Promise<ReplayOutcome> => {
    let outcome: ReplayOutcome;
    try {
      outcome = await run();
    } catch (err) {
      for (const c of consumers) await c.close(undefined);
      throw err;
    } finally {
      bar?.stop();
    }
    for (const c of consumers) await c.close(outcome);
    return outcome;
  };
  const started = performance.now();
  // Parallel workers only where nothing but the NDJSON stream needs the engines: at --speed max,
  // without --tui, --sse or --parquet. Per-strategy views (--tui, --sse) get worker pipelines, one
  // strategy per thread, so that one strategy never holds back another's versions.
  const jobs = workerCount(flags.jobs, ctx.strategies.length);
  const parallel = jobs > 0 && pacer === undefined && consumers.length === 0;
  const perStrategy = consumers.filter((c) => !c.ordered);
  const ordered = consumers.filter((c) => c.ordered);
  let result: ReplayOutcome;
  if (perStrategy.length > 0) {
    result = await runWithConsumers(() =>
      replayThroughPipelines({
        dir: recording,
        manifest,
        config,
        format: flags.format,
        keyframes: flags.keyframes,
        from_us: flags.from_us,
        to_us: flags.to_us,
        maxLineBytes: flags.maxLineBytes,
        pacer,
        ...flags.pipelines,
        onRecord: (out, view) => {
          for (const c of perStrategy) c.onOutput(out, view);
        },
        onOrdered: ordered.length > 0 ? (out, view) => ordered.forEach((c) => c.onOutput(out, view)) : undefined,
        write: (bytes) => sink.writeBytes(bytes),
        drain: drainOrStop,
        onProgress: (p) => {
          bar?.update(p);
          for (const c of consumers) c.onProgress?.(p);
        },
        progressEvery: tuiTerminal ? 20 : 200,
        signal: abort.signal,
      }),
    );
  } else if (parallel) {
    try {
      result = await replayInParallel({
        dir: recording,
        manifest,
        config,
        jobs,
        from_us: flags.from_us,
        to_us: flags.to_us,
        keyframes: flags.keyframes,
        format: flags.format,
        maxLineBytes: flags.maxLineBytes,
        write: (bytes) => sink.writeBytes(bytes),
        drain: drainOrStop,
        onProgress: (p) => bar?.update(p),
        signal: abort.signal,
      });
    } finally {
      bar?.stop();
    }
  } else {
    const keyframe = createKeyframer(flags.keyframes);
    const onOutput = (out: EngineOutput, view: EngineView): void => {
      sink.write(outputBytes(out));
      for (const c of consumers) c.onOutput(out, view);
      const snapshot = keyframe(out);
      if (snapshot !== undefined) sink.write(snapshot);
    };
    result = await runWithConsumers(() =>
      replayRecording({
        dir: recording,
        config,
        format: flags.format,
        maxLineBytes: flags.maxLineBytes,
        from_us: flags.from_us,
        to_us: flags.to_us,
        pacer,
        onOutput,
        // nothing but the NDJSON stream (and keyframes, folded as each version comes) reads the records
        linesOnly: consumers.length === 0,
        drain: drainOrStop,
        onProgress: (p) => {
          bar?.update(p);
          for (const c of consumers) c.onProgress?.(p);
        },
        // the TUI's input-rate meter needs a sample every fraction of a second even at --speed 1
        progressEvery: tuiTerminal ? 20 : consumers.length > 0 ? 200 : 5000,
        signal: abort.signal,
      }),
    );
  }
  const wallMs = performance.now() - started;
  const run = opts.runInfo
    ? {
        recording,
        speed: flags.speed,
        wall_ms: Math.round(wallMs),
        lines_per_s: Math.round(result.lines / Math.max(wallMs / 1000, 1e-9)),
        lag_max_ms: pacer ? Math.round(pacer.maxLagMs) : 0,
        jobs: parallel ? jobs : 1,
        // engine worker threads (0: the engine ran in this thread)
        workers: parallel ? jobs : 0,
        truncated: result.cuts,
      }
    : undefined;
  sink.write(JSON.stringify(summaryRecord(result, run, flags.format)));
  await sink.close();
  reportToStderr(result, wallMs, pacer, sink.closedByReader);
}

/** Receive-time span from the manifest's per-stream bounds, when the writer recorded them. */
export function spanOf(streams: Record<string, { first_recv_us?: number; last_recv_us?: number }>): { first?: number; last?: number } {
  let first: number | undefined;
  let last: number | undefined;
  for (const name of Object.keys(streams).sort()) {
    const s = streams[name]!;
    if (typeof s.first_recv_us === 'number') first = first === undefined ? s.first_recv_us : Math.min(first, s.first_recv_us);
    if (typeof s.last_recv_us === 'number') last = last === undefined ? s.last_recv_us : Math.max(last, s.last_recv_us);
  }
  return { first, last };
}

/** A short human report on stderr (never on stdout, which carries only NDJSON). */
function reportToStderr(r: ReplayOutcome, wallMs: number, pacer: Pacer | undefined, readerGone: boolean): void {
  const err = process.stderr;
  const span = r.first_recv_us !== undefined ? `${formatUs(r.first_recv_us)} → ${formatUs(r.last_recv_us!)}` : 'empty';
  err.write(chalk.bold(`replayed ${r.lines.toLocaleString('en-US')} lines (${span}) in ${(wallMs / 1000).toFixed(2)} s\n`));
  const width = Math.max(10, ...Object.keys(r.summary.strategies).map((n) => n.length));
  for (const [name, s] of Object.entries(r.summary.strategies)) {
    const status = s.error ? chalk.red(` FAILED: ${s.error}`) : '';
    err.write(`  ${name.padEnd(width)} ${String(s.versions).padStart(6)} versions  ${s.populated}/${s.slots} tiles  pending ${s.pending}  ${chalk.dim(s.final_hash.slice(0, 16) || '-')}${status}\n`);
  }
  if (readerGone && r.aborted) err.write(chalk.dim('  stopped early: the reader of the NDJSON output went away, so the rest was not replayed\n'));
  if (r.summary.topology === null) err.write(chalk.yellow('  no topology: the recording has no complete chain snapshot with a usable spot\n'));
  for (const [name, s] of Object.entries(r.summary.strategies)) {
    if (s.no_slots_reason !== undefined) err.write(chalk.yellow(`  ${name}: no tiles — ${s.no_slots_reason}\n`));
  }
  const { bad, ignored } = splitBad(r.bad);
  if (bad.total > 0) {
    const reasons = Object.entries(bad.reasons).map(([k, n]) => `${k} ${n}`).join(', ');
    err.write(chalk.yellow(`  skipped ${bad.total} bad lines/values: ${reasons}\n`));
    const samples = r.bad.sampleDetails();
    for (const reason of Object.keys(bad.reasons)) if (samples[reason]) err.write(chalk.dim(`    ${reason}: e.g. ${samples[reason].join(', ')}\n`));
  }
  const ignoredTotal = Object.values(ignored).reduce((a, b) => a + b, 0);
  if (ignoredTotal > 0) err.write(chalk.dim(`  ignored ${ignoredTotal} valid but unused values (zero-bid quotes, aggregates)\n`));
  for (const n of r.notes) err.write(chalk.yellow(`  ${n}\n`));
  for (const c of r.cuts) err.write(chalk.yellow(`  ${c.file}: ${c.reason} (everything before it was replayed)\n`));
  if (pacer && pacer.maxLagMs > 50) err.write(chalk.yellow(`  fell behind the requested pace by up to ${Math.round(pacer.maxLagMs)} ms (no input was dropped)\n`));
}
