import { enabledStrategyNames } from '../engine/config.js';
import { runPipeline } from '../redis/pipeline.js';
import { loadEngineConfig } from './config-file.js';
import { formatUs, parseFormat } from './parse-options.js';
import { parsePublishFlags, parseRedisFlags } from './redis-options.js';
import { parsePipelineFlags } from './pipeline-options.js';
import type { PipelineCommandOptions } from './pipeline.js';

/** Progress lines at most this often (ms of wall time). */
const PROGRESS_EVERY_MS = 2000;

/** The `heatmap pipeline` action. */
export async function runPipelineCommand(cli: PipelineCommandOptions): Promise<void> {
  const target = parseRedisFlags(cli)!;
  const format = parseFormat(cli.format);
  const publish = parsePublishFlags(cli);
  const config = await loadEngineConfig(cli.config, cli.strategies, { runsStrategies: true, modules: cli.strategyModule });
  const pipelines = parsePipelineFlags(cli);
  const log = (m: string): void => void process.stderr.write(m + '\n');
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`heatmap pipeline: ${sig} — finishing the current batch and writing the snapshot keys`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`pipeline: ${enabledStrategyNames(config).join(', ')} from ${target.prefix}:raw on ${target.shown} (format ${format})`);
  let lastShown = performance.now();
  try {
    const out = await runPipeline({
      target,
      config,
      format,
      ...pipelines,
      maxlen: publish.maxlen,
      snapshotEvery: publish.snapshotEvery,
      follow: cli.follow === true,
      signal: abort.signal,
      log,
      onProgress: (p) => {
        if (cli.progress === false || performance.now() - lastShown < PROGRESS_EVERY_MS) return;
        lastShown = performance.now();
        const at = p.recv_us === undefined ? '' : ` at ${formatUs(p.recv_us)}`;
        log(`pipeline: ${p.entries} inputs${at}; ${Object.entries(p.versions).map(([k, v]) => `${k} v${v}`).join(', ')}`);
      },
    });
    const per = Object.entries(out.strategies)
      .map(([name, s]) => `${name}: version ${s.version}, ${s.added} added, ${s.verified} already there${s.trimmed > 0 ? `, ${s.trimmed} trimmed before the check` : ''}${s.error !== undefined ? ` — FAILED: ${s.error}` : ''}`)
      .join('; ');
    const bad = out.bad.total > 0 ? ` (${out.bad.total} bad inputs skipped: ${Object.entries(out.bad.toJSON()).map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
    log(`pipeline: ${out.aborted ? 'stopped' : 'done'} after ${out.entries} inputs${bad} — ${per}`);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
