import { startServer } from '../serve/server.js';

/** The `heatmap serve` action: listen, print the URLs, serve until SIGINT/SIGTERM. */
export async function runServeCommand(
  recording: string,
  o: { port: number; speed: number; apiKey: string | undefined; loop: boolean; hold: 'client' | undefined; host: string | undefined; maxConnections: number | undefined },
): Promise<void> {
  const log = (m: string): void => void process.stderr.write(m + '\n');
  const server = await startServer({ dir: recording, port: o.port, host: o.host, speed: o.speed, apiKey: o.apiKey, loop: o.loop, hold: o.hold, maxConnections: o.maxConnections, log });
  log(`serving ${recording} (${server.underlying}) at ${o.speed}× speed${o.hold ? ', waiting for the first client' : ''}`);
  log(`  REST ${server.restUrl}/v3/snapshot/options/${server.underlying}  (one contract: …/${server.underlying}/O:…)`);
  log(`  WS   ${server.wsUrl}/options  ${server.wsUrl}/indices  ${server.wsUrl}/stocks`);
  log(`  record with: heatmap record --out DIR --underlying ${server.underlying} --rest-url ${server.restUrl} --ws-url ${server.wsUrl} --api-key ${o.apiKey === undefined ? 'any' : '<key>'}`);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals): void => {
      log(`serve: ${sig} — stopping`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
}
