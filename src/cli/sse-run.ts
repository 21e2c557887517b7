import { UsageError } from '../errors.js';
import { closeRedis, connectRedis } from '../redis/connection.js';
import { followHeatmapStreams } from '../redis/sse-source.js';
import { SSE_DEFAULTS, SseServer } from '../sinks/sse.js';
import { parseFormat } from './parse-options.js';
import { parseRedisFlags } from './redis-options.js';
import { parseSseFlags } from './sse-options.js';
import type { SseCommandOptions } from './sse.js';

/** The `heatmap sse` action: connect, listen, follow the streams until Ctrl-C / SIGTERM. */
export async function runSseCommand(cli: SseCommandOptions): Promise<void> {
  const target = parseRedisFlags(cli)!;
  const format = parseFormat(cli.format);
  const settings = parseSseFlags({ sse: cli.port, sseHost: cli.host, sseSlow: cli.sseSlow, sseBuffer: cli.sseBuffer, sseGzip: cli.sseGzip })!;
  let strategies: string[] | undefined;
  if (cli.strategies !== undefined) {
    strategies = [...new Set(cli.strategies.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
    if (strategies.length === 0) throw new UsageError('--strategies needs at least one name, e.g. --strategies fly,vertical');
  }
  const log = (m: string): void => void process.stderr.write(m + '\n');
  const control = await connectRedis(target, { role: 'sse', log });
  let reader;
  try {
    reader = await connectRedis(target, { role: 'sse reader', log });
  } catch (err) {
    await closeRedis(control);
    throw err;
  }
  let server: SseServer;
  try {
    server = await SseServer.start({ strategies: [], format, port: settings.port, host: settings.host, slowClient: settings.slowClient, maxBufferBytes: settings.maxBufferBytes, gzip: settings.gzip });
  } catch (err) {
    await closeRedis(reader);
    await closeRedis(control);
    throw err;
  }
  log(`sse: serving ${target.prefix}:heatmap:* from ${target.shown} on ${server.url}/sse/heatmap (web view: ${server.url}/)`);
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`heatmap sse: ${sig} — closing the streams`);
    abort.abort();
    void closeRedis(reader); // ends a blocked read at once
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await followHeatmapStreams(server, reader, control, { prefix: target.prefix, format, historyVersions: SSE_DEFAULTS.historyVersions, strategies, signal: abort.signal, log });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await server.close('shutdown');
    await closeRedis(reader);
    await closeRedis(control);
  }
  log('sse: closed');
}
