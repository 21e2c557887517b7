import type { PublishConfig } from './config.js';
import { Format2Writer } from './format2-writer.js';
import { chainHash } from './hash.js';
import type { LegMarks } from './marks.js';
import type { SlotTable } from './slot-table.js';
import { TileJsonWriter } from './tile-json.js';
import { CanonicalTiles, upsertTiles } from './tile-columns.js';
import type { StagingHeatmap } from './staging.js';
import type { PublishReason, PublishedTile, SnapshotBody, VersionRecord } from './types.js';

/**
 * The publisher of one strategy: the only writer of canonical state. It decides, at every
 * evaluation (after each input and each tick), whether staging becomes the next version:
 *
 *  1. structural — staging has just become complete (every required slot populated);
 *  2. value — pending changes reach ≥ N tiles, ≥ X % of slots, or Σ|Δscore| ≥ D;
 *  3. time — max_interval_ms of engine time since the last version, with ≥ 1 pending change.
 *
 * `min_interval_ms` holds back 2 and 3 (never 1). Before the first version, "since the last
 * version" counts from the engine clock's start (the first input).
 *
 * It writes each version's line in one format (DESIGN §3/§3.1): format 1 (default) or format 2,
 * whose records carry `format: 2` and the format 2 hash chain; the records' `upserts` are the same.
 */

/** The NDJSON line (UTF-8, no newline) of each version record, made once at publish time (in the record's format). */
const LINES = new WeakMap<VersionRecord, Buffer>();

/** The NDJSON line of a version record as bytes (no trailing newline); the publisher's own serialization. */
export function versionBytes(rec: VersionRecord): Buffer {
  return LINES.get(rec) ?? Buffer.from(JSON.stringify(rec));
}

/**
 * Gives a version record that was not made by a publisher (one rebuilt from a published line,
 * e.g. by `heatmap sse` from Redis) that line as its own: sinks then pass those bytes on unchanged.
 */
export function withVersionLine<T extends VersionRecord>(rec: T, line: Buffer): T {
  LINES.set(rec, line);
  return rec;
}

/** The NDJSON line of a version record as text (no trailing newline). */
export function versionLine(rec: VersionRecord): string {
  return versionBytes(rec).toString('utf8');
}

export class Publisher {
  private readonly canonicalTiles: CanonicalTiles;
  /** Format 1 serializer (format 1 only). */
  private readonly json: TileJsonWriter | undefined;
  /** Format 2 serializer and mark register (format 2 only). */
  private readonly writer2: Format2Writer | undefined;
  private readonly strategyJson: string;
  private versionNo = 0;
  private lastHash = '';
  private lastAtUs: number | undefined;
  private wasComplete = false;
  private structuralPending = false;
  private readonly minIntervalUs: number;
  private readonly maxIntervalUs: number | null;

  /** Engine time of the first input: "since the last version" counts from here before version 1. */
  private startUs = 0;

  constructor(
    readonly strategy: string,
    private readonly cfg: PublishConfig,
    /** The stream format of the version lines (DESIGN §3.1). */
    readonly format: 1 | 2,
    /** The strategy's slots (staging adds them) and the engine's leg marks. */
    table: SlotTable,
    marks: LegMarks,
  ) {
    this.strategyJson = JSON.stringify(strategy);
    this.canonicalTiles = new CanonicalTiles(table);
    this.json = format === 1 ? new TileJsonWriter() : undefined;
    this.writer2 = format === 2 ? new Format2Writer(strategy, table, marks) : undefined;
    this.minIntervalUs = cfg.min_interval_ms * 1000;
    this.maxIntervalUs = cfg.max_interval_ms === null ? null : cfg.max_interval_ms * 1000;
  }

  /** Sets the engine clock's start (the first input's receive time). */
  start(us: number): void {
    this.startUs = us;
  }

  /** Canonical (last published) tiles by slot: read-only for everyone but this class. */
  get canonical(): CanonicalTiles {
    return this.canonicalTiles;
  }
  get version(): number {
    return this.versionNo;
  }
  get hash(): string {
    return this.lastHash;
  }

  /**
   * The full published state in this publisher's format: format 1 `{strategy, version, at_us,
   * hash, tiles}`, format 2 with slots and the mark register (DESIGN §3.1). `at_us` is null and
   * `hash` "" before the first version.
   */
  snapshot(): SnapshotBody {
    const head = { version: this.versionNo, at_us: this.lastAtUs ?? null, hash: this.lastHash };
    const tiles = this.canonicalTiles.tiles();
    if (this.writer2 !== undefined) return this.writer2.snapshot(head, tiles);
    return { strategy: this.strategy, ...head, tiles };
  }

  /** Notes the staging's completeness after a change; a transition to complete arms the structural condition. */
  noteCompleteness(staging: StagingHeatmap): void {
    const complete = staging.isComplete;
    if (complete && !this.wasComplete) this.structuralPending = true;
    this.wasComplete = complete;
  }

  private valueHolds(staging: StagingHeatmap): boolean {
    const n = staging.changedCount;
    if (n === 0) return false;
    const c = this.cfg;
    if (c.min_changed !== null && n >= c.min_changed) return true;
    if (c.min_changed_pct !== null && staging.slots > 0 && (n * 100) / staging.slots >= c.min_changed_pct) return true;
    if (c.min_score_delta !== null && staging.scoreDeltaSum >= c.min_score_delta) return true;
    return false;
  }

  private throttleEnd(): number {
    return this.lastAtUs === undefined ? -Infinity : this.lastAtUs + this.minIntervalUs;
  }

  /** Which conditions hold at engine time `nowUs` (empty: do not publish). */
  reasonsAt(staging: StagingHeatmap, nowUs: number): PublishReason[] {
    const reasons: PublishReason[] = [];
    if (this.structuralPending) reasons.push('structural');
    // the throttle first: the exact pending count may cost a recompute (lazy staging)
    if (nowUs >= this.throttleEnd() && staging.changedCount > 0) {
      if (this.valueHolds(staging)) reasons.push('value');
      if (this.maxIntervalUs !== null && nowUs - (this.lastAtUs ?? this.startUs) >= this.maxIntervalUs) reasons.push('time');
    }
    return reasons;
  }

  /**
   * The earliest engine time after which a tick could publish without new input (Infinity if none).
   * Lets the engine skip ticks at which nothing can happen, with output identical to running them all.
   * While lazy staging has tiles to recompute it answers the throttle's end, the earliest any
   * pending change could publish: the evaluation there computes the exact answer.
   */
  nextDue(staging: StagingHeatmap): number {
    if (!staging.mayHaveChanges) return Infinity;
    const throttle = this.throttleEnd();
    if (!staging.isExact) return throttle;
    if (staging.changedCount === 0) return Infinity;
    let due = Infinity;
    if (this.valueHolds(staging)) due = throttle;
    if (this.maxIntervalUs !== null) due = Math.min(due, Math.max((this.lastAtUs ?? this.startUs) + this.maxIntervalUs, throttle));
    return due;
  }

  /** Evaluates the conditions at `nowUs`; on publish, commits staging as the next version. */
  evaluate(staging: StagingHeatmap, nowUs: number): VersionRecord | undefined {
    const reasons = this.reasonsAt(staging, nowUs);
    if (reasons.length === 0) return undefined;
    return this.commit(staging, nowUs, reasons);
  }

  private commit(staging: StagingHeatmap, nowUs: number, reasons: PublishReason[]): VersionRecord {
    const rows = staging.takeChanged(); // (now canonical: staging adopts them as it takes them)
    const version = this.versionNo + 1;
    const prevHash = this.lastHash;
    const stats = { slots: staging.slots, populated: staging.populated, changed: rows.count };
    // The record's tiles are made only when a consumer reads them (views, Parquet, keyframes):
    // writing the line needs only the rows.
    let upserts: PublishedTile[] | undefined;
    const tiles = (): PublishedTile[] => {
      if (upserts === undefined && rows.current?.() === false) throw new Error(`the upserts of version ${version} of "${this.strategy}" are gone: the engine runs with linesOnly, read them before the next version`);
      return (upserts ??= upsertTiles(rows));
    };
    let hash: string;
    let line: Buffer;
    if (this.writer2 !== undefined) {
      ({ hash, line } = this.writer2.write({ version, at_us: nowUs, reasons, prev_hash: prevHash, rows, stats }));
    } else {
      const upsertsJson = this.json!.writeArray(tiles()); // the bytes of JSON.stringify(upserts)
      const reasonsJson = JSON.stringify(reasons);
      const head = `"strategy":${this.strategyJson},"version":${version},"at_us":${nowUs},"reasons":${reasonsJson}`;
      // Hash input: {strategy, version, at_us, reasons, upserts, removes} in that key order (DESIGN §3).
      hash = chainHash(prevHash, `{${head},"upserts":`, upsertsJson, ',"removes":[]}');
      line = Buffer.concat([
        Buffer.from(`{"type":"version",${head},"prev_hash":"${prevHash}","hash":"${hash}","upserts":`),
        upsertsJson,
        Buffer.from(`,"removes":[],"stats":${JSON.stringify(stats)}}`),
      ]);
    }
    const rec: VersionRecord = {
      type: 'version',
      ...(this.format === 2 ? { format: 2 as const } : {}),
      strategy: this.strategy,
      version,
      at_us: nowUs,
      reasons,
      prev_hash: prevHash,
      hash,
      get upserts() {
        return tiles();
      },
      removes: [],
      stats,
    };
    LINES.set(rec, line);
    this.versionNo = version;
    this.lastHash = hash;
    this.lastAtUs = nowUs;
    this.structuralPending = false;
    return rec;
  }
}
