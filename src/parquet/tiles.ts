import type { VersionRecord } from '../engine/types.js';
import { ParquetTableWriter, type TableResult, type TableWriterOptions } from './table.js';
import { PARQUET_TABLES_VERSION, TILES } from './tables.js';

/**
 * The tile-history table (`tiles.parquet`): one row per upserted tile per published version, for
 * backtests in DuckDB/pandas/Polars/Spark. Fed either live by `heatmap replay --parquet DIR` or by
 * `heatmap convert versions.ndjson`; both give the same rows for the same versions.
 */
export class TileHistoryWriter {
  private readonly table: ParquetTableWriter;
  versions = 0;

  private constructor(table: ParquetTableWriter) {
    this.table = table;
  }

  /** Opens `file` (written as `file.tmp`, renamed on close). */
  static open(file: string, opts: TableWriterOptions = {}): TileHistoryWriter {
    const metadata = { 'heatmap.tables_version': PARQUET_TABLES_VERSION, ...opts.metadata };
    return new TileHistoryWriter(ParquetTableWriter.open(file, TILES, { ...opts, metadata }));
  }

  get rows(): number {
    return this.table.rows;
  }

  /** Appends the upserts of one version (removes carry no tile state and are not rows). */
  addVersion(v: VersionRecord): void {
    this.versions++;
    const reasons = v.reasons.join(',');
    for (const t of v.upserts) {
      this.table.append({
        strategy: v.strategy,
        version: v.version,
        at_us: v.at_us,
        reasons,
        key: t.key,
        root: t.root,
        expiration: t.expiration,
        right: t.right,
        strikes: t.strikes,
        value: t.value,
        score: t.score,
        confidence: t.confidence,
        event_us: t.ts_us,
        source: t.source,
        leg_tickers: t.legs.map((l) => l.ticker),
        leg_ratios: t.legs.map((l) => l.ratio),
        leg_prices: t.legs.map((l) => l.price),
        leg_ts_us: t.legs.map((l) => l.ts_us),
        leg_sources: t.legs.map((l) => l.source),
      });
    }
  }

  close(): TableResult {
    return this.table.close();
  }

  abort(): void {
    this.table.abort();
  }
}
