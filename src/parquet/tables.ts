import type { TableSpec } from './table.js';

/**
 * The normalised Parquet tables `heatmap convert` and `heatmap replay --parquet` write (one file per
 * table, `<name>.parquet`). Column names and types are a contract for users' queries: add columns
 * at the end, never rename or retype one (bump `PARQUET_TABLES_VERSION` if that ever has to happen).
 *
 * Conventions: `*_us` columns are TIMESTAMP(MICROS, UTC) — exact integer µs, shown as times by
 * DuckDB/pandas/Polars/Spark; `*_ns` columns are plain INT64 nanoseconds copied digit for digit from
 * the Massive payload (above 2^53, exact); `expiration` is a DATE; `right` is `C` or `P`.
 * Rows are in replay order (receive time, then stream, then line), so `recv_us` is sorted and its
 * per-row-group statistics let readers skip whole groups by time.
 */
export const PARQUET_TABLES_VERSION = '1';

/** One row per option trade event (`T`) of the options WS stream. */
export const TRADES: TableSpec = {
  name: 'trades',
  columns: [
    { name: 'recv_us', type: 'timestamp_us' },
    /** Event time: WS `t` (ms) as µs. */
    { name: 'ts_us', type: 'timestamp_us' },
    { name: 'ticker', type: 'string' },
    { name: 'root', type: 'string' },
    { name: 'expiration', type: 'date' },
    { name: 'right', type: 'string' },
    { name: 'strike', type: 'double' },
    { name: 'price', type: 'double' },
    { name: 'size', type: 'double', nullable: true },
    { name: 'exchange', type: 'int32', nullable: true },
    { name: 'conditions', type: 'list_int32', nullable: true },
    /** WS `q` sequence (null when absent). */
    { name: 'seq', type: 'int64', nullable: true },
  ],
};

/** One row per option quote event (`Q`) of the options WS stream (Options Advanced feeds only). */
export const QUOTES: TableSpec = {
  name: 'quotes',
  columns: [
    { name: 'recv_us', type: 'timestamp_us' },
    { name: 'ts_us', type: 'timestamp_us' },
    { name: 'ticker', type: 'string' },
    { name: 'root', type: 'string' },
    { name: 'expiration', type: 'date' },
    { name: 'right', type: 'string' },
    { name: 'strike', type: 'double' },
    { name: 'bid', type: 'double' },
    { name: 'ask', type: 'double' },
    { name: 'bid_size', type: 'double', nullable: true },
    { name: 'ask_size', type: 'double', nullable: true },
    { name: 'bid_exchange', type: 'int32', nullable: true },
    { name: 'ask_exchange', type: 'int32', nullable: true },
    /** (bid+ask)/2 when bid > 0 and ask ≥ bid (the engine's rule), else null. */
    { name: 'mid', type: 'double', nullable: true },
    { name: 'seq', type: 'int64', nullable: true },
  ],
};

/** One row per contract per REST chain-snapshot page. */
export const CHAIN_QUOTES: TableSpec = {
  name: 'chain_quotes',
  columns: [
    { name: 'snapshot', type: 'int64' },
    { name: 'page', type: 'int32' },
    /** Receive time of the page. */
    { name: 'recv_us', type: 'timestamp_us' },
    { name: 'ticker', type: 'string' },
    { name: 'root', type: 'string' },
    { name: 'expiration', type: 'date' },
    { name: 'right', type: 'string' },
    { name: 'strike', type: 'double' },
    { name: 'bid', type: 'double', nullable: true },
    { name: 'ask', type: 'double', nullable: true },
    { name: 'bid_size', type: 'double', nullable: true },
    { name: 'ask_size', type: 'double', nullable: true },
    /** (bid+ask)/2 when bid > 0 and ask ≥ bid; the server's `midpoint` is not trusted. */
    { name: 'mid', type: 'double', nullable: true },
    /** `last_quote.last_updated`, truncated to µs, and exact in ns. */
    { name: 'quote_ts_us', type: 'timestamp_us', nullable: true },
    { name: 'quote_ts_ns', type: 'int64', nullable: true },
    { name: 'last_price', type: 'double', nullable: true },
    { name: 'last_size', type: 'double', nullable: true },
    { name: 'last_exchange', type: 'int32', nullable: true },
    { name: 'last_conditions', type: 'list_int32', nullable: true },
    /** `last_trade.sip_timestamp`, truncated to µs, and exact in ns. */
    { name: 'last_ts_us', type: 'timestamp_us', nullable: true },
    { name: 'last_ts_ns', type: 'int64', nullable: true },
    { name: 'iv', type: 'double', nullable: true },
    { name: 'delta', type: 'double', nullable: true },
    { name: 'gamma', type: 'double', nullable: true },
    { name: 'theta', type: 'double', nullable: true },
    { name: 'vega', type: 'double', nullable: true },
    { name: 'open_interest', type: 'double', nullable: true },
    { name: 'day_open', type: 'double', nullable: true },
    { name: 'day_high', type: 'double', nullable: true },
    { name: 'day_low', type: 'double', nullable: true },
    { name: 'day_close', type: 'double', nullable: true },
    { name: 'day_volume', type: 'double', nullable: true },
    { name: 'day_vwap', type: 'double', nullable: true },
  ],
};

/** One row per spot print: index values (`V`, indices stream) and ETF trades (`T`, stocks stream). */
export const SPOT: TableSpec = {
  name: 'spot',
  columns: [
    { name: 'recv_us', type: 'timestamp_us' },
    { name: 'ts_us', type: 'timestamp_us' },
    { name: 'ticker', type: 'string' },
    { name: 'value', type: 'double' },
    /** `index` (V event) or `stock` (ETF trade). */
    { name: 'source', type: 'string' },
    { name: 'seq', type: 'int64', nullable: true },
  ],
};

/** One row per recorded gap line. */
export const GAPS: TableSpec = {
  name: 'gaps',
  columns: [
    { name: 'recv_us', type: 'timestamp_us' },
    { name: 'stream', type: 'string' },
    { name: 'from_us', type: 'timestamp_us' },
    { name: 'to_us', type: 'timestamp_us' },
    { name: 'reason', type: 'string' },
  ],
};

/**
 * Tile history: one row per tile per published version in which it changed (the version's
 * upserts). A tile keeps its values until its next row — forward-fill, or `ASOF JOIN` on `at_us`.
 */
export const TILES: TableSpec = {
  name: 'tiles',
  columns: [
    { name: 'strategy', type: 'string' },
    { name: 'version', type: 'int64' },
    /** The version's engine clock (receive time at publication). */
    { name: 'at_us', type: 'timestamp_us' },
    /** Publish reasons of the version, comma-separated (`structural`, `value`, `time`). */
    { name: 'reasons', type: 'string' },
    { name: 'key', type: 'string' },
    { name: 'root', type: 'string' },
    { name: 'expiration', type: 'date' },
    { name: 'right', type: 'string' },
    { name: 'strikes', type: 'list_double' },
    { name: 'value', type: 'double' },
    { name: 'score', type: 'double', nullable: true },
    { name: 'confidence', type: 'double' },
    /** The tile's `ts_us`: event time of its newest leg. */
    { name: 'event_us', type: 'timestamp_us' },
    { name: 'source', type: 'string' },
    { name: 'leg_tickers', type: 'list_string' },
    { name: 'leg_ratios', type: 'list_double' },
    { name: 'leg_prices', type: 'list_double' },
    { name: 'leg_ts_us', type: 'list_timestamp_us' },
    { name: 'leg_sources', type: 'list_string' },
  ],
};

/** The tables `convert` writes from a recording, in file-name order. */
export const RECORDING_TABLES: readonly TableSpec[] = [CHAIN_QUOTES, GAPS, QUOTES, SPOT, TRADES];
