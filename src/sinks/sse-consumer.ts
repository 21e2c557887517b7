import type { OutputConsumer } from '../replay/consumer.js';
import type { ReplayOutcome } from '../replay/replay.js';
import { SseServer } from './sse.js';
import type { SlowClientPolicy } from './sse-channel.js';

/**
 * The SSE server as an output consumer of `replay` and `live`.
 *
 * What users get:
 * - the URLs on stderr as soon as the server listens (before the first input);
 * - every output published to the streams as it happens (never waited for);
 * - `replay`: when the recording ends, the server keeps serving the final state (the URL is
 *   printed again) until Ctrl-C / SIGTERM — a dashboard opened after a `--speed max` replay still
 *   gets the heatmaps. `--sse-exit` shuts it down at the end instead (scripts, tests). The NDJSON
 *   summary is written at the end of the replay either way: serving never delays stdout.
 * - an aborted or failed run, or `live` ending, shuts the server down at once;
 * - on shutdown every client gets a final `event: end` and its response ends cleanly.
 */

/** Validated SSE settings (the `--sse*` flags, parsed in src/cli/sse-options.ts). */
export interface SseSettings {
  readonly port: number;
  readonly host: string;
  readonly slowClient: SlowClientPolicy;
  readonly maxBufferBytes: number;
  /** gzip for clients that accept it (`--no-sse-gzip` turns it off). */
  readonly gzip: boolean;
  /** Shut the server down when the input ends instead of serving the final state. */
  readonly exitAtEnd: boolean;
}

export interface SseConsumerOptions {
  readonly settings: SseSettings;
  readonly strategies: readonly string[];
  /** Format of the run's version lines (the snapshots are built in it too). */
  readonly format: 1 | 2;
  /** Serve the final state after the input ends (replay without --sse-exit). */
  readonly keepServing: boolean;
  /**
   * Install SIGINT/SIGTERM handlers: the first signal calls `onInterrupt` (stop the input) and
   * shuts the server down; a second one gets Node's default behaviour (exit at once).
   */
  readonly handleSignals: boolean;
  readonly onInterrupt?: () => void;
  /** Aborting it shuts the server down (the run was stopped, e.g. the TUI's quit key, even after the input ended). */
  readonly stopSignal?: AbortSignal;
  /** Where the URLs and the shutdown report go (default stderr). */
  readonly log?: (line: string) => void;
  /** Heartbeat interval (tests); default 15 s. */
  readonly heartbeatMs?: number;
}

/** An SSE output consumer plus its server (for tests and for the caller's own reporting). */
export interface SseConsumer extends OutputConsumer {
  readonly server: SseServer;
  /** Resolves once the server has shut down (at the end with keepServing false, else on a signal). */
  readonly stopped: Promise<void>;
  /** Shuts the server down now (idempotent). */
  shutdown(reason?: string): Promise<void>;
}

/** Starts the SSE server and returns the consumer that feeds it. */
export async function createSseConsumer(opts: SseConsumerOptions): Promise<SseConsumer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const server = await SseServer.start({
    format: opts.format,
    strategies: opts.strategies,
    port: opts.settings.port,
    host: opts.settings.host,
    slowClient: opts.settings.slowClient,
    maxBufferBytes: opts.settings.maxBufferBytes,
    gzip: opts.settings.gzip,
    ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
  });
  const streams = opts.strategies.map((s) => `${server.url}/sse/heatmap/${encodeURIComponent(s)}`);
  log(`SSE: serving ${opts.strategies.length} strategies on ${server.url}/sse/heatmap`);
  for (const s of streams) log(`  ${s}`);

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let isRunning = true;
  const onSignal = (sig: NodeJS.Signals): void => {
    removeHandlers();
    log(`SSE: ${sig} — closing the streams (${sig === 'SIGINT' ? 'Ctrl-C' : 'signal'} again to force)`);
    if (isRunning) opts.onInterrupt?.();
    void shutdown('shutdown');
  };
  const removeHandlers = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  if (opts.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  let closing: Promise<void> | undefined;
  const onStop = (): void => void shutdown('shutdown');
  opts.stopSignal?.addEventListener('abort', onStop, { once: true });
  const shutdown = (reason = 'shutdown'): Promise<void> => {
    closing ??= (async () => {
      removeHandlers();
      opts.stopSignal?.removeEventListener('abort', onStop);
      await server.close(reason);
      log(`SSE: closed (${describeStats(server)})`);
      resolveStopped();
    })();
    return closing;
  };

  return {
    server,
    stopped,
    shutdown,
    onOutput(out) {
      server.publish(out);
    },
    async close(result: ReplayOutcome | undefined) {
      isRunning = false;
      if (result === undefined) return shutdown('error');
      if (result.aborted) return shutdown('aborted');
      if (!opts.keepServing) return shutdown('end');
      server.markFinal();
      log(`SSE: input ended — still serving the final state on ${server.url}/sse/heatmap (Ctrl-C to stop; --sse-exit to exit at the end)`);
    },
  };
}

/** `12 connections served, 0 slow-client resyncs, 0 drops`, over all strategies. */
function describeStats(server: SseServer): string {
  let connects = 0;
  let resyncs = 0;
  let drops = 0;
  for (const s of server.status()) {
    connects += s.connects;
    resyncs += s.resyncs;
    drops += s.drops;
  }
  return `${connects} connections served, ${resyncs} slow-client resyncs, ${drops} drops`;
}
