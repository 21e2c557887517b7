/**
 * Options of the recorder (`runRecorder` in recorder.ts): what to record, where, and every
 * tunable with its default. Kept stable: `heatmap live` builds these too.
 */
import { UsageError } from '../errors.js';
import type { EngineConfig } from '../engine/config.js';
import type { WsCluster } from '../massive/ws.js';
import type { StreamName } from '../recording/lines.js';
import type { RecorderStatus } from './record-report.js';

export const DEFAULT_REST_URL = 'https://api.massive.com';
export const DEFAULT_WS_URL = 'wss://socket.massive.com';
/** Massive serves quotes for at most 1,000 contracts per connection. */
export const MAX_QUOTE_CONTRACTS = 1000;

/** Options of `runRecorder`. Durations are milliseconds; every tunable has a default. */
export interface RecorderOptions {
  /** `I:SPX` (index: spot from `V.I:SPX` on /indices) or an ETF like `SPY` (spot from /stocks trades). */
  underlying: string;
  /** REST base URL (default https://api.massive.com). */
  restUrl: string;
  /** WS base URL; the cluster path (`/options`, `/indices`, `/stocks`) is appended (default wss://socket.massive.com). */
  wsUrl: string;
  apiKey: string;
  /** Engine configuration: its topology decides the expirations and (widened) strike band recorded. */
  config: EngineConfig;
  /** Recording directory; absent: nothing is written (lines only go to `onLine`). */
  outDir?: string;
  /** Replace a recording already in `outDir` (default false: refuse). */
  overwrite?: boolean;
  /** Stop after this long (default: until `signal`). */
  durationMs?: number;
  /** Aborting stops the recorder cleanly (files closed, manifest final). */
  signal?: AbortSignal;
  /** Every recorded line, in receive order, as it is accepted (before it reaches the disk). */
  onLine?: (stream: StreamName, line: string, recv_us: number) => void;
  /** Events and warnings (already redacted). Default: stderr. */
  log?: (msg: string) => void;
  /** Periodic status; default: `log(formatStatus(s))`. */
  onStatus?: (s: RecorderStatus) => void;
  /** Status period (default 10 s; 0 = never). */
  statusIntervalMs?: number;
  /** Receive clock in µs since the epoch (default: the wall clock). Made monotonic internally. */
  now?: () => number;
  /** Also subscribe `Q.` quotes for the contracts in scope (Options Advanced; max 1,000). */
  quotes?: boolean;
  /** Subscribe `T.*` (every options trade) instead of per-contract `T.` topics. */
  allTrades?: boolean;
  /** ± points around spot to record (default: 2 × topology.strike_band_points). */
  recordBandPoints?: number;
  /** Most pages per snapshot (default 200). */
  pageCap?: number;
  /** Shortest interval between snapshot starts (default 5 s). */
  snapshotFloorMs?: number;
  /** Reconnect a cluster that sent nothing for this long (default: options 120 s, indices/stocks 60 s). */
  staleTimeoutMs?: number | Partial<Record<WsCluster, number>>;
  /** Backoff of reconnects and REST retries: first delay (1 s) and cap (32 s). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Largest `Retry-After` honoured (default 5 min). */
  retryAfterCapMs?: number;
  /** WS ping period (default 25 s). */
  pingIntervalMs?: number;
  /** WS connect + auth deadline (default 10 s). */
  handshakeTimeoutMs?: number;
  /** REST request deadline, body included (default 30 s). */
  requestTimeoutMs?: number;
  /** How long the first snapshot waits for a spot value to centre its strike filter (default 5 s). */
  spotWaitMs?: number;
  /** Topics per WS subscribe message (default 250). */
  subscribeBatch?: number;
  /** Bound of the queue in front of the writer (default 256 MiB). */
  queueMaxBytes?: number;
  /** Writer flush period (default 1000 ms: a kill -9 loses at most about a second). */
  flushIntervalMs?: number;
  /** Jitter source (default Math.random). */
  random?: () => number;
}

/** Rejects tunables that cannot work (a page cap of 0, a negative floor…) with a UsageError. */
export function checkTunables(o: RecorderOptions): void {
  const positive: (keyof RecorderOptions)[] = ['pageCap', 'pingIntervalMs', 'backoffBaseMs', 'backoffCapMs', 'handshakeTimeoutMs', 'requestTimeoutMs', 'subscribeBatch', 'queueMaxBytes', 'recordBandPoints', 'durationMs'];
  const nonNegative: (keyof RecorderOptions)[] = ['snapshotFloorMs', 'retryAfterCapMs', 'spotWaitMs', 'statusIntervalMs', 'flushIntervalMs'];
  for (const k of positive) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0)) throw new UsageError(`recorder option ${k} must be > 0, got ${String(v)}`);
  }
  for (const k of nonNegative) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v >= 0)) throw new UsageError(`recorder option ${k} must be ≥ 0, got ${String(v)}`);
  }
  const stale = o.staleTimeoutMs;
  for (const v of typeof stale === 'object' ? Object.values(stale) : stale === undefined ? [] : [stale]) {
    if (!(typeof v === 'number' && v > 0)) throw new UsageError(`recorder option staleTimeoutMs must be > 0, got ${String(v)}`);
  }
  if (o.pageCap !== undefined && !Number.isInteger(o.pageCap)) throw new UsageError(`recorder option pageCap must be an integer, got ${o.pageCap}`);
}
