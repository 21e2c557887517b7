import type { Format2Snapshot } from './format2.js';

/**
 * Typed records that flow into and out of the engine. Raw Massive JSON is parsed once, at the
 * boundary (src/massive), into these readonly events; nothing in the engine sees `any`.
 *
 * All times are integer microseconds since the Unix epoch (`*_us`).
 */

export type Right = 'C' | 'P';

/** A parsed OCC-style option ticker such as `O:SPXW251121C05900000`. */
export interface OptionContract {
  readonly ticker: string;
  /** OCC root, e.g. `SPX`, `SPXW`, `AAPL1`. */
  readonly root: string;
  /** `YYYY-MM-DD`. */
  readonly expiration: string;
  readonly right: Right;
  /** Strike in points (the 8-digit OCC field / 1000). */
  readonly strike: number;
}

/** Where a leg mark came from. */
export type LegSource = 'rest_quote' | 'rest_trade' | 'ws' | 'ws_quote';

/** One observation of one option leg's price. */
export interface LegFact {
  readonly kind: 'leg';
  readonly contract: OptionContract;
  readonly price: number;
  /** Event time of the observation. */
  readonly event_us: number;
  /** WS `q` sequence where present, else 0. Second part of the newness key. */
  readonly seq: number;
  readonly source: LegSource;
  /** Quoted bid/ask when the mark is a quote mid (feeds confidence); absent for trades. */
  readonly bid?: number;
  readonly ask?: number;
}

/** One observation of the underlying's spot (index value or ETF trade). */
export interface SpotFact {
  readonly kind: 'spot';
  readonly ticker: string;
  readonly value: number;
  readonly event_us: number;
  readonly seq: number;
}

export type Fact = LegFact | SpotFact;

/** One REST chain-snapshot page, parsed. */
export interface ChainPageEvent {
  readonly type: 'chain_page';
  readonly recv_us: number;
  readonly snapshot: number;
  readonly page: number;
  readonly last: boolean;
  /** Contracts listed on the page (valid tickers only). */
  readonly contracts: readonly OptionContract[];
  /** Leg facts the page carries (quote mids and last trades). */
  readonly facts: readonly LegFact[];
}

/** One WS frame (or several events with one receive time), parsed into facts. */
export interface FactsEvent {
  readonly type: 'facts';
  readonly recv_us: number;
  readonly facts: readonly Fact[];
}

/** A recorded window without data on one stream. */
export interface GapEvent {
  readonly type: 'gap';
  readonly recv_us: number;
  readonly stream: string;
  readonly from_us: number;
  readonly to_us: number;
  readonly reason: string;
}

/** What the engine consumes: one recording line (a WS frame, a REST page or a gap) = one input. */
export type EngineInput = ChainPageEvent | FactsEvent | GapEvent;

/** One leg of a tile definition. */
export interface LegDef {
  readonly contract: OptionContract;
  readonly ratio: number;
}

/** Immutable identity of a tile: what it is, never what it is worth. */
export interface TileDef {
  readonly key: string;
  readonly root: string;
  readonly expiration: string;
  readonly strategy: string;
  readonly right: Right;
  /** Ascending. */
  readonly strikes: readonly number[];
  /** Ascending by strike. */
  readonly legs: readonly LegDef[];
}

/** A leg as published. Key order is part of the hash contract (DESIGN §3). */
export interface PublishedLeg {
  readonly ticker: string;
  readonly ratio: number;
  readonly price: number;
  readonly ts_us: number;
  readonly source: LegSource;
}

/** A tile as published. Key order is part of the hash contract (DESIGN §3). */
export interface PublishedTile {
  readonly key: string;
  readonly root: string;
  readonly expiration: string;
  readonly strategy: string;
  readonly right: Right;
  readonly strikes: readonly number[];
  readonly legs: readonly PublishedLeg[];
  readonly value: number;
  readonly score: number | null;
  readonly ts_us: number;
  readonly confidence: number;
  readonly source: LegSource;
}

export type PublishReason = 'structural' | 'value' | 'time';

/** One published version of one strategy's heatmap (a line of the NDJSON stream). */
export interface VersionRecord {
  readonly type: 'version';
  /**
   * Present (2) when the publisher writes format 2 (DESIGN §3.1): its line is the format 2 line and
   * `prev_hash`/`hash` are the format 2 chain. `upserts` are the full tiles in both formats.
   */
  readonly format?: 2;
  readonly strategy: string;
  readonly version: number;
  readonly at_us: number;
  readonly reasons: readonly PublishReason[];
  readonly prev_hash: string;
  readonly hash: string;
  readonly upserts: readonly PublishedTile[];
  readonly removes: readonly string[];
  readonly stats: { readonly slots: number; readonly populated: number; readonly changed: number };
}

/** A format 1 snapshot: a strategy's canonical tiles after `version` (sorted by key). Key order is the wire order. */
export interface Format1Snapshot {
  readonly strategy: string;
  /** 0 before the first version. */
  readonly version: number;
  /** null before the first version. */
  readonly at_us: number | null;
  /** "" before the first version. */
  readonly hash: string;
  readonly tiles: readonly PublishedTile[];
}

/** A snapshot body (no `type`) in the format of the stream it belongs to. */
export type SnapshotBody = Format1Snapshot | Format2Snapshot;

/** A recorded gap, passed through to the output stream. */
export interface GapRecord {
  readonly type: 'gap';
  readonly at_us: number;
  readonly stream: string;
  readonly from_us: number;
  readonly to_us: number;
  readonly reason: string;
}

/**
 * Why a pipeline stopped: its code threw (the engine caught it), the watchdog found it stalled, its
 * worker thread ran out of memory or died otherwise, or it fell too far behind a live feed.
 */
export type PipelineFailure = 'threw' | 'stalled' | 'out_of_memory' | 'crashed' | 'overrun';

/** An error inside one strategy's pipeline (the pipeline stops; the others go on). */
export interface PipelineErrorRecord {
  readonly type: 'error';
  readonly strategy: string;
  readonly at_us: number;
  /** Always written by this engine; optional for records made by hand (views, tests). */
  readonly reason?: PipelineFailure;
  readonly message: string;
}

export type EngineOutput = VersionRecord | GapRecord | PipelineErrorRecord;
