import { resolveStrategies } from '../../src/strategies/index.js';
/**
 * Small builders for engine tests: contracts, facts, chain pages, configs, and a runner that
 * collects what the engine emits. Everything here is plain data; nothing mocks the engine.
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { ConfigError, validateConfig, type EngineConfig } from '../../src/engine/config.js';
import { Engine } from '../../src/engine/engine.js';
import { versionLine } from '../../src/engine/publisher.js';
import type {
  ChainPageEvent,
  EngineInput,
  EngineOutput,
  FactsEvent,
  GapEvent,
  LegFact,
  LegSource,
  OptionContract,
  PipelineErrorRecord,
  PublishedTile,
  Right,
  SpotFact,
  VersionRecord,
} from '../../src/engine/types.js';
import { formatOptionTicker, parseOptionTicker } from '../../src/massive/ticker.js';

/** 2025-11-21T14:30:00Z (09:30 New York, a Friday): a multiple of every tick_ms we use. */
export const T0 = 1_763_735_400_000_000;
export const EXP = '2025-11-21';
export const SEC = 1_000_000;
export const MS = 1_000;

/** A contract built through the real ticker formatter/parser (so tickers are the OCC form). */
export function contract(strike: number, right: Right = 'C', root = 'SPXW', expiration = EXP): OptionContract {
  const r = parseOptionTicker(formatOptionTicker(root, expiration, right, strike));
  if (!r.ok) throw new Error(`bad test contract ${root} ${expiration} ${right} ${strike}: ${r.reason}`);
  return r.contract;
}

/** A trade-like leg fact (no bid/ask). */
export function trade(c: OptionContract, price: number, event_us: number, seq = 0, source: LegSource = 'ws'): LegFact {
  return { kind: 'leg', contract: c, price, event_us, seq, source };
}

/** A quote-mid leg fact: price = (bid + ask) / 2. */
export function quote(c: OptionContract, bid: number, ask: number, event_us: number, source: LegSource = 'rest_quote'): LegFact {
  return { kind: 'leg', contract: c, price: (bid + ask) / 2, event_us, seq: 0, source, bid, ask };
}

export function spot(value: number, event_us: number, seq = 0, ticker = 'I:SPX'): SpotFact {
  return { kind: 'spot', ticker, value, event_us, seq };
}

export function factsInput(recv_us: number, ...facts: FactsEvent['facts']): FactsEvent {
  return { type: 'facts', recv_us, facts };
}

export function gapInput(recv_us: number): GapEvent {
  return { type: 'gap', recv_us, stream: 'options', from_us: recv_us - SEC, to_us: recv_us, reason: 'disconnect' };
}

export function chainPage(
  recv_us: number,
  contracts: readonly OptionContract[],
  facts: readonly LegFact[] = [],
  opts: { snapshot?: number; page?: number; last?: boolean } = {},
): ChainPageEvent {
  return {
    type: 'chain_page',
    recv_us,
    snapshot: opts.snapshot ?? 1,
    page: opts.page ?? 0,
    last: opts.last ?? true,
    contracts,
    facts,
  };
}

/**
 * A one-page complete snapshot listing `priced` contracts, each with a `rest_trade` fact at
 * `event_us` (default: 1 s before receipt), plus `unpriced` contracts listed without any fact.
 */
export function snapshotPage(
  recv_us: number,
  priced: ReadonlyArray<readonly [OptionContract, number]>,
  opts: { snapshot?: number; event_us?: number; unpriced?: readonly OptionContract[] } = {},
): ChainPageEvent {
  const ev = opts.event_us ?? recv_us - SEC;
  return chainPage(
    recv_us,
    [...priced.map(([c]) => c), ...(opts.unpriced ?? [])],
    priced.map(([c, p]) => trade(c, p, ev, 0, 'rest_trade')),
    { snapshot: opts.snapshot ?? 1 },
  );
}

/** A simple, arbitrary but plausible price for a contract around spot 5900 (multiples of 0.05). */
export function modelPrice(c: OptionContract, spotValue = 5900): number {
  const intrinsic = c.right === 'C' ? Math.max(0, spotValue - c.strike) : Math.max(0, c.strike - spotValue);
  const timeValue = Math.max(0.5, 8 - Math.abs(c.strike - spotValue) / 10);
  return Math.round((intrinsic + timeValue) * 20) / 20;
}

/** Contracts of one root/expiration over strikes, both rights (calls first). */
export function strip(strikes: readonly number[], rights: readonly Right[] = ['C', 'P'], root = 'SPXW', expiration = EXP): OptionContract[] {
  return rights.flatMap((r) => strikes.map((k) => contract(k, r, root, expiration)));
}

export function priceAll(cs: readonly OptionContract[], spotValue = 5900): Array<readonly [OptionContract, number]> {
  return cs.map((c) => [c, modelPrice(c, spotValue)] as const);
}

export interface PublishOverrides {
  min_changed?: number | null;
  min_changed_pct?: number | null;
  min_score_delta?: number | null;
  max_interval_ms?: number | null;
  min_interval_ms?: number;
}

/** The publish block most examples start from: every change publishes, 1 s heartbeat, no throttle. */
export const EAGER: Required<PublishOverrides> = {
  min_changed: 1,
  min_changed_pct: null,
  min_score_delta: null,
  max_interval_ms: 1000,
  min_interval_ms: 0,
};

/**
 * A validated config: built-ins share `publish`, topology defaults to today's expiration,
 * ±50 points and widths [10]; `custom` entries are passed as raw JSON.
 */
export function makeConfig(
  opts: {
    publish?: PublishOverrides;
    tick_ms?: number;
    topology?: Record<string, unknown>;
    custom?: unknown[];
  } = {},
): EngineConfig {
  const publish = { ...EAGER, ...opts.publish };
  return validateConfig({
    tick_ms: opts.tick_ms ?? 100,
    topology: { expirations: [EXP], strike_band_points: 50, widths: [10], ...opts.topology },
    strategies: {
      single: { publish },
      vertical: { publish },
      fly: { publish },
      custom: opts.custom ?? [],
    },
  });
}

export interface RunResult {
  readonly engine: Engine;
  readonly outputs: EngineOutput[];
  readonly versions: VersionRecord[];
  readonly errors: PipelineErrorRecord[];
  /** NDJSON lines of the versions, in emission order. */
  readonly lines: string[];
}

/** Feeds inputs to a fresh engine (or the one given) and collects everything it emits. */
export function run(config: EngineConfig, inputs: readonly EngineInput[], engine = new Engine({ config, underlying: 'I:SPX', strategies: resolveStrategies(config) })): RunResult {
  const outputs: EngineOutput[] = [];
  for (const input of inputs) engine.push(input, (o) => outputs.push(o));
  return collect(engine, outputs);
}

export function collect(engine: Engine, outputs: EngineOutput[]): RunResult {
  const versions = outputs.filter((o): o is VersionRecord => o.type === 'version');
  const errors = outputs.filter((o): o is PipelineErrorRecord => o.type === 'error');
  return { engine, outputs, versions, errors, lines: versions.map((v) => versionLine(v)) };
}

/** Pushes one input and returns what that push emitted. */
export function pushOne(engine: Engine, input: EngineInput): EngineOutput[] {
  const out: EngineOutput[] = [];
  engine.push(input, (o) => out.push(o));
  return out;
}

export function versionsOf(outputs: readonly EngineOutput[], strategy: string): VersionRecord[] {
  return outputs.filter((o): o is VersionRecord => o.type === 'version' && o.strategy === strategy);
}

export function tileByKey(tiles: readonly PublishedTile[], key: string): PublishedTile {
  const t = tiles.find((x) => x.key === key);
  if (!t) throw new Error(`no tile ${key} among ${tiles.length}: ${tiles.slice(0, 5).map((x) => x.key).join(', ')}…`);
  return t;
}

/** The newest published state of a tile across versions (the last upsert of that key). */
export function lastUpsert(versions: readonly VersionRecord[], key: string): PublishedTile | undefined {
  let found: PublishedTile | undefined;
  for (const v of versions) for (const t of v.upserts) if (t.key === key) found = t;
  return found;
}

/**
 * DESIGN §3 hash, recomputed from a version line alone: SHA-256 hex of prev_hash followed by
 * JSON.stringify({strategy, version, at_us, reasons, upserts, removes}).
 */
export function recomputeHash(line: string): string {
  const v = JSON.parse(line) as VersionRecord;
  const body = JSON.stringify({
    strategy: v.strategy,
    version: v.version,
    at_us: v.at_us,
    reasons: v.reasons,
    upserts: v.upserts,
    removes: v.removes,
  });
  return createHash('sha256').update(v.prev_hash + body).digest('hex');
}

/** Rounds like the engine's published numbers (half away from zero is not needed for our grids). */
export function round(x: number, places: number): number {
  const f = 10 ** places;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
}

/** The ConfigError `validateConfig` throws for `raw` (fails the test when it does not throw). */
export function configError(raw: unknown): ConfigError {
  try {
    validateConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(raw)}`);
}
