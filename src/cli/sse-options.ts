import { UsageError } from '../errors.js';
import { parsePort, parsePositiveNumber } from './parse-options.js';
import type { SseSettings } from '../sinks/sse-consumer.js';

/**
 * The `--sse*` flags shared by `replay` and `live`, and their validation. Light on purpose (no
 * node:http): command files import it for the option types and help text without slowing `--help`.
 */

/** Raw commander values of the SSE flags. */
export interface SseCliOptions {
  sse?: string;
  sseHost?: string;
  sseExit?: boolean;
  sseSlow?: string;
  sseBuffer?: string;
  /** False with `--no-sse-gzip` (commander's negated flag: true when absent). */
  sseGzip?: boolean;
}

/** Flag descriptions, so `replay` and `live` describe them identically. */
export const SSE_FLAGS = {
  sse: ['--sse <port>', 'serve the heatmaps as Server-Sent Events on this port (0 = any free port)'],
  sseHost: ['--sse-host <addr>', 'address the SSE server binds (default 127.0.0.1; 0.0.0.0 for the network)'],
  sseSlow: ['--sse-slow <resync|drop>', 'a client whose unsent data passes --sse-buffer is resynced with a snapshot, or dropped (default resync)'],
  sseBuffer: ['--sse-buffer <MiB>', 'unsent bytes allowed per SSE client before it counts as slow (default 16)'],
  sseGzip: ['--no-sse-gzip', 'send the event streams uncompressed even to clients that accept gzip (default: gzip for them, compressed once per batch for all)'],
} as const;

/** Help text of the SSE endpoints and wire format (appended to the command's --help). */
export const SSE_HELP =
  '\nSSE (--sse PORT), for dashboards (CORS: any origin):\n' +
  '  GET /sse/heatmap/{strategy}  event: snapshot (id: version, data in the run\'s --format: format 2\n' +
  '                               {format,strategy,version,at_us,hash,slots,marks,tiles}, format 1 {…,tiles})\n' +
  '                               on connect, then event: diff (id: version, data: the NDJSON version line)\n' +
  '                               per version. Last-Event-ID resumes with the missed diffs (or a snapshot\n' +
  '                               when they are no longer retained). ": heartbeat" comments every 15 s;\n' +
  '                               event: gap / failed as they happen; event: end before the server closes.\n' +
  '                               gzip-compressed for clients that accept it (browsers do; --no-sse-gzip: never).\n' +
  '  GET /sse/heatmap             strategies with their current version and client counts (JSON)\n' +
  '  GET /health                  200 {"status":"ok"} while serving\n' +
  '  GET /                        the web heatmap view\n';

/** Validates the SSE flags; undefined when `--sse` is absent. */
export function parseSseFlags(opts: SseCliOptions): SseSettings | undefined {
  if (opts.sse === undefined) {
    for (const [key, flag] of [['sseHost', '--sse-host'], ['sseExit', '--sse-exit'], ['sseSlow', '--sse-slow'], ['sseBuffer', '--sse-buffer']] as const) {
      if (opts[key] !== undefined) throw new UsageError(`${flag} needs --sse PORT`);
    }
    if (opts.sseGzip === false) throw new UsageError('--no-sse-gzip needs --sse PORT');
    return undefined;
  }
  const port = parsePort(opts.sse, '--sse');
  const slow = opts.sseSlow ?? 'resync';
  if (slow !== 'resync' && slow !== 'drop') throw new UsageError(`--sse-slow "${slow}" must be resync or drop`);
  const mib = opts.sseBuffer !== undefined ? parsePositiveNumber(opts.sseBuffer, '--sse-buffer') : 16;
  const host = opts.sseHost ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--sse-host needs an address, e.g. 127.0.0.1 or 0.0.0.0');
  return { port, host, slowClient: slow, maxBufferBytes: Math.round(mib * 1024 * 1024), exitAtEnd: opts.sseExit === true, gzip: opts.sseGzip !== false };
}
