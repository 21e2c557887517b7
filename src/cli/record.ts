import { Command } from 'commander';

/** Options of `heatmap record` as commander hands them over (all strings until validated). */
export interface RecordCliOptions {
  out: string;
  underlying: string;
  duration?: string;
  config?: string;
  restUrl?: string;
  wsUrl?: string;
  apiKey?: string;
  quotes?: boolean;
  allTrades?: boolean;
  recordBand?: string;
  snapshotFloor?: string;
  staleTimeout?: string;
  pageCap?: string;
  pingInterval?: string;
  backoffBase?: string;
  backoffCap?: string;
  spotWait?: string;
  statusInterval?: string;
  overwrite?: boolean;
}

export function recordCommand(): Command {
  return new Command('record')
    .description('record a live session from Massive (REST chain snapshots + WS trades + index spot) into a recording directory')
    .requiredOption('--out <dir>', 'recording directory to create')
    .option('--underlying <ticker>', 'underlying: I:SPX (SPX/SPXW options, spot from the index feed) or an ETF like SPY', 'I:SPX')
    .option('--duration <d>', 'stop after this long, e.g. 6h30m (default: until Ctrl-C)')
    .option('--config <file>', 'engine configuration JSON: its topology decides expirations and the strike band recorded')
    .option('--rest-url <url>', 'REST base URL (default https://api.massive.com)')
    .option('--ws-url <url>', 'WebSocket base URL; /options, /indices or /stocks is appended (default wss://socket.massive.com)')
    .option('--api-key <key>', 'Massive API key (default: $MASSIVE_API_KEY — prefer the variable: flags show up in ps)')
    .option('--quotes', 'also record Q. quotes for the contracts in scope (Options Advanced; at most 1,000 contracts)')
    .option('--all-trades', 'subscribe T.* (every options trade of the feed) instead of the contracts in scope')
    .option('--record-band <points>', '± strike points around spot to record (default: 2 × topology.strike_band_points)')
    .option('--snapshot-floor <d>', 'shortest interval between chain snapshots (default 5s; slower when snapshots take longer)')
    .option('--stale-timeout <d>', 'reconnect a feed silent for this long: one duration, or per cluster like options=5m,indices=30s (default options=2m,indices=1m,stocks=1m)')
    .option('--page-cap <n>', 'most pages per chain snapshot (default 200)')
    .option('--ping-interval <d>', 'WebSocket ping period (default 25s)')
    .option('--backoff-base <d>', 'first reconnect/retry delay (default 1s)')
    .option('--backoff-cap <d>', 'largest reconnect/retry delay (default 32s)')
    .option('--spot-wait <d>', 'how long the first snapshot waits for a spot value (default 5s)')
    .option('--status-interval <d>', 'status line period when stderr is not a terminal (default 30s; 0s = off)')
    .option('--overwrite', 'replace a recording already in --out')
    .addHelpText(
      'after',
      '\nThe API key comes from MASSIVE_API_KEY (or --api-key); it is never written to the recording or the logs.\n' +
        'Stop with Ctrl-C (or SIGTERM): files are closed and the manifest finalised. A kill -9 loses at most\n' +
        'the last second and the recording still replays.\n' +
        'Failures are retried for the whole session (a failed chain page first, with the same cursor); a session\n' +
        'that receives nothing at all (no chain page, no WS frame) exits 1 and says what happened.\n' +
        '\nExamples:\n' +
        '  MASSIVE_API_KEY=… heatmap record --out recordings/2025-11-21 --duration 6h30m\n' +
        '  heatmap serve recordings/demo --port 8080 &\n' +
        '  heatmap record --out /tmp/rerec --rest-url http://127.0.0.1:8080 --ws-url ws://127.0.0.1:8080 --api-key any',
    )
    .action(async (opts: RecordCliOptions) => {
      const { runRecordCommand } = await import('./record-run.js');
      await runRecordCommand(opts);
    });
}
