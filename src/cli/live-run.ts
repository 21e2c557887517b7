import { parseFormat } from './parse-options.js';
import { devNull } from 'node:os';
import chalk from 'chalk';
import { enabledStrategyNames } from '../engine/config.js';
import { monotonicClock, wallClockUs } from '../recorder/clock.js';
import { isVersionLine } from '../replay/pipeline-failure.js';
import { PipelinePool } from '../replay/pipeline-pool.js';
import { LiveFeed } from '../recorder/live-feed.js';
import { formatSummary, type RecorderSummary } from '../recorder/record-report.js';
import { runRecorder } from '../recorder/recorder.js';
import type { ReplayOutcome } from '../replay/replay.js';
import type { ConsumerContext, OutputConsumer } from '../replay/consumer.js';
import { summaryRecord } from '../engine/output-lines.js';
import { NdjsonSink } from '../sinks/ndjson.js';
import { parsePipelineFlags } from './pipeline-options.js';
import { parseSseFlags } from './sse-options.js';
import { parsePublishFlags, parseRedisFlags } from './redis-options.js';
import { loadEngineConfig } from './config-file.js';
import type { LiveCliOptions } from './live.js';
import { liveRecorderOptions } from './record-run.js';

/**
 * The `heatmap live` action: the recorder's lines go through the same decoder and engine as a
 * replay (via LiveFeed, which keeps replay order and the tick schedule on the wall clock), and the
 * published versions go to the same consumers as a replay's — NDJSON, SSE, TUI. Only the input
 * differs; there is no live-only rule anywhere in the engine.
 */
export async function runLiveCommand(cli: LiveCliOptions): Promise<void> {
  const sse = parseSseFlags(cli);
  // Without --out, live writes no NDJSON next to the TUI, so there is nothing for the TUI to drop.
  const tuiTerminal = cli.tui ? (await import('../tui/terminal.js')).chooseTuiTerminal(cli.out ?? devNull) : undefined;
  const config = await loadEngineConfig(cli.config, cli.strategies, { runsStrategies: true, modules: cli.strategyModule });
  const rec = await liveRecorderOptions(cli, process.env);
  rec.config = config;
  // With the TUI on screen, logs go through console (Ink prints them above the heatmap).
  const log = tuiTerminal ? (m: string) => console.error(m) : (m: string) => void process.stderr.write(m + '\n');
  rec.log = log;
  if (tuiTerminal) rec.statusIntervalMs = 0;
  const now = monotonicClock(wallClockUs); // one receive clock for the recorder and the engine's ticks
  rec.now = now;

  const strategies = enabledStrategyNames(config);
  const format = parseFormat(cli.format);
  const pipelines = parsePipelineFlags(cli);
  // NDJSON: --out wins; else stdout, unless a dashboard (--sse) or the TUI is what the user wants.
  const ndjsonTo = cli.out ?? (sse || tuiTerminal ? devNull : undefined);
  const sink = NdjsonSink.open(tuiTerminal?.dropsNdjson ? devNull : ndjsonTo);
  const abort = new AbortController();
  rec.signal = abort.signal;
  const consumers: OutputConsumer[] = [];
  if (sse) {
    const { createSseConsumer } = await import('../sinks/sse-consumer.js');
    consumers.push(await createSseConsumer({ settings: sse, strategies, format, keepServing: false, handleSignals: false, log }));
  }
  if (tuiTerminal) {
    const ctx: ConsumerContext = { underlying: rec.underlying, strategies, pacer: undefined, abort };
    consumers.push((await import('../tui/consumer.js')).createTuiConsumer(ctx, tuiTerminal));
  }
  const redisTarget = parseRedisFlags(cli);
  const redis = redisTarget
    ? await (await import('../redis/redis-consumer.js')).createRedisConsumer({ target: redisTarget, strategies, format, ...parsePublishFlags(cli), log })
    : undefined;
  if (redis) consumers.push(redis);
  let versions = 0;
  // Every strategy in a worker pipeline of its own (DESIGN §2.4): the views get each strategy's
  // versions as it publishes them; the NDJSON stream is the ordered merge. A live feed cannot wait,
  // so a pipeline that falls too far behind is stopped, and NDJSON nobody reads is dropped (counted).
  const pool = new PipelinePool({
    config,
    underlying: rec.underlying,
    format,
    ...pipelines,
    whenBehind: 'fail',
    records: consumers.length > 0,
    onRecord: (out, view) => {
      for (const c of consumers) if (!c.ordered) c.onOutput(out, view);
    },
    output: {
      write: (line, rec, view) => {
        if (isVersionLine(line)) versions++;
        sink.writeBytes(line);
        // Redis streams need each strategy's lines in stream order (gaps where the replay puts them).
        if (rec && view) for (const c of consumers) if (c.ordered) c.onOutput(rec, view);
      },
      drain: () => sink.drain(),
    },
    onNoSlots: (name, why) => log(chalk.yellow(`heatmap live: ${name}: no tiles — ${why}`)),
  });
  const feed = new LiveFeed({ target: pool, now, tickMs: config.tick_ms });
  rec.onLine = feed.onLine;
  const progress = setInterval(() => {
    for (const c of consumers) c.onProgress?.({ lines: feed.lines, recv_us: pool.now ?? 0, versions });
  }, 250);
  progress.unref();

  const onSignal = (sig: NodeJS.Signals): void => {
    log(`\nheatmap live: ${sig} — stopping (closing the recording and the streams; send it again to quit at once)`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  feed.start();
  let summary: RecorderSummary | undefined;
  let failure: unknown;
  try {
    summary = await runRecorder(rec);
  } catch (err) {
    failure = err;
    summary = (err as { summary?: RecorderSummary }).summary;
  } finally {
    feed.stop();
    clearInterval(progress);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  let outcome: Awaited<ReturnType<PipelinePool['finish']>>;
  try {
    outcome = await pool.finish();
  } catch (err) {
    for (const c of consumers) await c.close(undefined);
    throw err;
  }
  const result: ReplayOutcome = {
    manifest: { format: 'heatmap-recording', version: 1, underlying: rec.underlying, source: 'massive', created_us: summary?.started_us ?? 0, streams: {} },
    summary: outcome.summary,
    lines: feed.lines,
    bad: outcome.bad,
    cuts: [],
    notes: [],
    first_recv_us: feed.first_us,
    last_recv_us: feed.last_us,
    aborted: false,
    ...(outcome.droppedLines > 0 ? { dropped: { ndjson_lines: outcome.droppedLines } } : {}),
  };
  for (const c of consumers) await c.close(failure === undefined ? result : undefined);
  // A session that failed before its first line (bad key, --record dir taken) has nothing to sum up.
  if (failure === undefined || feed.lines > 0) sink.write(JSON.stringify(summaryRecord(result, undefined, format)));
  await sink.close();
  if (summary) process.stderr.write(formatSummary(summary) + '\n');
  reportEngine(result, feed);
  if (failure !== undefined) throw failure;
}

/** Per-strategy versions on stderr, and a loud note when replay order could not be kept. */
function reportEngine(r: ReplayOutcome, feed: LiveFeed): void {
  const err = process.stderr;
  err.write(chalk.bold(`engine: ${feed.lines.toLocaleString('en-US')} lines\n`));
  const width = Math.max(10, ...Object.keys(r.summary.strategies).map((n) => n.length));
  for (const [name, s] of Object.entries(r.summary.strategies)) {
    const status = s.error ? chalk.red(` FAILED: ${s.error}`) : '';
    err.write(`  ${name.padEnd(width)} ${String(s.versions).padStart(6)} versions  ${s.populated}/${s.slots} tiles  pending ${s.pending}  ${chalk.dim(s.final_hash.slice(0, 16) || '-')}${status}\n`);
  }
  if (r.summary.topology === null) err.write(chalk.yellow('  no topology yet: no complete chain snapshot with a usable spot arrived\n'));
  for (const [name, s] of Object.entries(r.summary.strategies)) {
    if (s.no_slots_reason !== undefined) err.write(chalk.yellow(`  ${name}: no tiles — ${s.no_slots_reason}\n`));
  }
  if (r.dropped) err.write(chalk.yellow(`  ${r.dropped.ndjson_lines} NDJSON lines dropped: the output was not read fast enough (the views were not affected)\n`));
  if (feed.late > 0) {
    err.write(chalk.yellow(`  ${feed.late} lines reached the engine after its clock had passed them; a replay of the recording may differ there\n`));
  }
}
