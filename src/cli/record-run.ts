import type { WsCluster } from '../massive/ws.js';
import { formatStatus, formatSummary, type RecorderSummary } from '../recorder/record-report.js';
import { DEFAULT_REST_URL, DEFAULT_WS_URL, runRecorder, type RecorderOptions } from '../recorder/recorder.js';
import { loadEngineConfig } from './config-file.js';
import { UsageError } from '../errors.js';
import { parseDuration, parsePositiveInt, parsePositiveNumber } from './parse-options.js';
import type { RecordCliOptions } from './record.js';

/** Index roots that Massive lists under `I:<root>` (a bare `SPX` returns no options). */
const INDEX_ROOTS: Record<string, string> = { SPX: 'I:SPX', SPXW: 'I:SPX', NDX: 'I:NDX', NDXP: 'I:NDX', RUT: 'I:RUT', VIX: 'I:VIX', XSP: 'I:XSP', DJX: 'I:DJX', OEX: 'I:OEX' };
const UNDERLYING_RE = /^(?:I:)?[A-Z][A-Z0-9.]{0,9}$/;

/** The `heatmap record` action: validate, record until done, print the summary. */
export async function runRecordCommand(cli: RecordCliOptions): Promise<void> {
  const opts = await recorderOptionsFromCli(cli, process.env);
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\nheatmap record: ${sig} — closing files (send it again to quit at once)\n`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = Boolean(process.stderr.isTTY);
  let statusShown = false;
  const clearStatus = (): void => {
    if (statusShown) process.stderr.write('\r\x1b[2K');
    statusShown = false;
  };
  opts.signal = abort.signal;
  opts.log = (m) => {
    clearStatus();
    process.stderr.write(m + '\n');
  };
  opts.onStatus = (s) => {
    if (tty) {
      process.stderr.write(`\r\x1b[2K${formatStatus(s).slice(0, (process.stderr.columns ?? 120) - 1)}`);
      statusShown = true;
    } else process.stderr.write(formatStatus(s) + '\n');
  };
  if (tty && cli.statusInterval === undefined) opts.statusIntervalMs = 1000;
  let summary: RecorderSummary;
  try {
    summary = await runRecorder(opts);
  } catch (err) {
    clearStatus();
    const partial = (err as { summary?: RecorderSummary }).summary;
    if (partial) process.stderr.write(formatSummary(partial) + '\n');
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  clearStatus();
  process.stderr.write(formatSummary(summary) + '\n');
}

/** Validates the flags (exit 2 on bad usage) and builds the recorder's options. */
export async function recorderOptionsFromCli(cli: RecordCliOptions, env: NodeJS.ProcessEnv): Promise<RecorderOptions> {
  const apiKey = cli.apiKey ?? env.MASSIVE_API_KEY ?? '';
  if (apiKey.trim() === '') {
    throw new UsageError('no Massive API key: set MASSIVE_API_KEY (or pass --api-key KEY)');
  }
  const underlying = cli.underlying.trim();
  const indexTicker = INDEX_ROOTS[underlying];
  if (indexTicker !== undefined) {
    throw new UsageError(`--underlying ${underlying}: Massive lists these index options under ${indexTicker} (a bare ${underlying} returns no contracts) — use --underlying ${indexTicker}`);
  }
  if (!UNDERLYING_RE.test(underlying)) throw new UsageError(`--underlying "${underlying}" is not a ticker like I:SPX or SPY`);
  const restUrl = checkUrl(cli.restUrl ?? DEFAULT_REST_URL, '--rest-url', ['http:', 'https:']);
  const wsUrl = checkUrl(cli.wsUrl ?? DEFAULT_WS_URL, '--ws-url', ['ws:', 'wss:']);
  const config = await loadEngineConfig(cli.config, undefined);
  const ms = (v: string | undefined, flag: string): number | undefined => (v === undefined ? undefined : parseDuration(v, flag));
  const positive = (v: number | undefined, flag: string): number | undefined => {
    if (v !== undefined && v <= 0) throw new UsageError(`${flag} must be longer than 0`);
    return v;
  };
  const opts: RecorderOptions = {
    underlying,
    restUrl,
    wsUrl,
    apiKey,
    config,
    outDir: cli.out,
    overwrite: cli.overwrite ?? false,
    quotes: cli.quotes ?? false,
    allTrades: cli.allTrades ?? false,
    statusIntervalMs: ms(cli.statusInterval, '--status-interval') ?? 30_000,
  };
  const set = <K extends keyof RecorderOptions>(k: K, v: RecorderOptions[K] | undefined): void => {
    if (v !== undefined) opts[k] = v;
  };
  set('durationMs', positive(ms(cli.duration, '--duration'), '--duration'));
  set('recordBandPoints', cli.recordBand === undefined ? undefined : parsePositiveNumber(cli.recordBand, '--record-band'));
  set('snapshotFloorMs', ms(cli.snapshotFloor, '--snapshot-floor'));
  set('staleTimeoutMs', cli.staleTimeout === undefined ? undefined : parseStaleTimeout(cli.staleTimeout));
  set('pageCap', cli.pageCap === undefined ? undefined : parsePositiveInt(cli.pageCap, '--page-cap'));
  set('pingIntervalMs', positive(ms(cli.pingInterval, '--ping-interval'), '--ping-interval'));
  set('backoffBaseMs', positive(ms(cli.backoffBase, '--backoff-base'), '--backoff-base'));
  set('backoffCapMs', positive(ms(cli.backoffCap, '--backoff-cap'), '--backoff-cap'));
  set('spotWaitMs', ms(cli.spotWait, '--spot-wait'));
  if (opts.recordBandPoints !== undefined && opts.recordBandPoints < config.topology.strike_band_points) {
    throw new UsageError(`--record-band ${opts.recordBandPoints} is narrower than the config's strike_band_points (${config.topology.strike_band_points}); a replay could not build its topology`);
  }
  return opts;
}

/** The recorder flags that `live` and `feed --live` share with `record` (`--record DIR` in place of `--out`). */
export interface LiveRecorderCliOptions {
  underlying: string;
  record?: string;
  overwrite?: boolean;
  config?: string;
  restUrl?: string;
  wsUrl?: string;
  apiKey?: string;
  duration?: string;
  quotes?: boolean;
  statusInterval?: string;
}

/** The recorder's options for a live session (`live`, `feed --live`): a recording only with --record. */
export async function liveRecorderOptions(cli: LiveRecorderCliOptions, env: NodeJS.ProcessEnv): Promise<RecorderOptions> {
  const rec = await recorderOptionsFromCli(
    {
      out: cli.record ?? '',
      underlying: cli.underlying,
      duration: cli.duration,
      config: cli.config,
      restUrl: cli.restUrl,
      wsUrl: cli.wsUrl,
      apiKey: cli.apiKey,
      quotes: cli.quotes,
      overwrite: cli.overwrite,
      statusInterval: cli.statusInterval,
    },
    env,
  );
  rec.outDir = cli.record;
  return rec;
}

/** `60s` (every cluster) or `options=5m,indices=30s`. */
export function parseStaleTimeout(text: string): number | Partial<Record<WsCluster, number>> {
  if (!text.includes('=')) {
    const v = parseDuration(text, '--stale-timeout');
    if (v <= 0) throw new UsageError('--stale-timeout must be longer than 0');
    return v;
  }
  const out: Partial<Record<WsCluster, number>> = {};
  for (const part of text.split(',')) {
    const [name, value] = part.split('=').map((s) => s.trim());
    if (name !== 'options' && name !== 'indices' && name !== 'stocks') {
      throw new UsageError(`--stale-timeout: unknown cluster "${name ?? ''}" (use options, indices or stocks)`);
    }
    const v = parseDuration(value ?? '', `--stale-timeout ${name}`);
    if (v <= 0) throw new UsageError(`--stale-timeout ${name} must be longer than 0`);
    out[name] = v;
  }
  return out;
}

function checkUrl(text: string, flag: string, protocols: readonly string[]): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`${flag} "${text}" is not a URL — e.g. ${protocols[1]}//host:port`);
  }
  if (!protocols.includes(u.protocol)) throw new UsageError(`${flag} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${text}"`);
  if (u.username || u.password || u.search) throw new UsageError(`${flag} must not carry credentials or a query (the key goes in MASSIVE_API_KEY)`);
  return text.replace(/\/+$/, '');
}
