import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parsePort, parsePositiveInt, parsePositiveNumber } from './parse-options.js';

export interface ServeCliOptions {
  port: string;
  speed?: string;
  apiKey?: string;
  loop?: boolean;
  hold?: boolean;
  host?: string;
  maxConnections?: string;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve a recording over Massive\'s own protocol (REST chain snapshot + WS clusters) for offline testing')
    .argument('<recording>', 'recording directory (made by record, sim or import)')
    .requiredOption('--port <port>', 'TCP port to listen on (0 = pick a free one; the URLs are printed on stderr)')
    .option('--speed <n>', 'replay receive time N× faster than real time (default 1)')
    .option('--api-key <key>', 'accept only this key (default: any non-empty key)')
    .option('--loop', 'start over at the end of the recording (default: keep serving the final state)')
    .option('--hold', 'start the replay clock only when the first client subscribes or asks for the chain; it then starts at the recording\'s first line, so frames recorded before the first complete chain snapshot are delivered too')
    .option('--host <addr>', 'address to bind (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--max-connections <n>', 'most HTTP requests in flight plus WebSocket connections; more are refused (REST 503, WS close 1013) (default 256)')
    .addHelpText(
      'after',
      '\nEndpoints: GET /v3/snapshot/options/{underlying} (filters, limit ≤ 250, next_url pagination),\n' +
        'GET /v3/snapshot/options/{underlying}/{contract} (one contract, results is an object) and\n' +
        'WebSocket /options, /indices, /stocks (connected → auth → subscribe; frames filtered by subscription).\n' +
        'Both REST endpoints answer from the newest recorded snapshot complete at the current replay time, so\n' +
        'the replay starts at the first one: without --hold, WS frames recorded before the first complete chain\n' +
        'snapshot are skipped (--hold delivers them). Unknown paths get 404 {"status":"ERROR","request_id":…,"error":…};\n' +
        'a WS upgrade to another path (/crypto, …) gets an error status and a close (1008); a malformed topic or\n' +
        'an event type the cluster does not have gets an error status.\n' +
        'Over --max-connections, REST answers 503 {"status":"ERROR",…,"error":"too many connections (limit N)"}\n' +
        'with Retry-After: 1, and WS sends a max_connections status, then closes with 1013 "try again later".\n' +
        'A port already in use exits 1: pick another --port (0 = any free port).\n' +
        '\nExample:\n' +
        '  heatmap serve recordings/demo --port 8080 --speed 10 &\n' +
        '  heatmap record --out /tmp/rerec --rest-url http://127.0.0.1:8080 --ws-url ws://127.0.0.1:8080 --api-key any',
    )
    .action(async (recording: string, opts: ServeCliOptions) => {
      const port = parsePort(opts.port, '--port');
      const speed = opts.speed === undefined ? 1 : parsePositiveNumber(opts.speed, '--speed');
      const maxConnections = opts.maxConnections === undefined ? undefined : parsePositiveInt(opts.maxConnections, '--max-connections');
      if (opts.apiKey !== undefined && opts.apiKey.trim() === '') throw new UsageError('--api-key must not be empty');
      const { runServeCommand } = await import('./serve-run.js');
      await runServeCommand(recording, { port, speed, apiKey: opts.apiKey, loop: opts.loop ?? false, hold: opts.hold ? 'client' : undefined, host: opts.host, maxConnections });
    });
}
