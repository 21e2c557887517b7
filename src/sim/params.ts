/**
 * Parameters of a simulated session, their defaults per underlying, and their validation. The
 * resolved parameters (minus the seed) are stored in the recording's manifest (`sim.params`), so a
 * recording says exactly how to regenerate it.
 */
import { UsageError } from '../errors.js';

/** Everything that determines a simulated recording's bytes (together with the code version). */
export interface SimParams {
  readonly seed: number;
  /** Index underlying, e.g. `I:SPX`. */
  readonly underlying: string;
  /** Simulated session start, µs since the epoch (whole milliseconds). */
  readonly start_us: number;
  readonly duration_ms: number;
  /** Spot at the start. */
  readonly spot: number;
  /** Daily expirations listed: business days 0..max_dte from the session date. */
  readonly max_dte: number;
  /** Strikes span ± this many points around the start spot. */
  readonly chain_range: number;
  readonly strike_step: number;
  readonly snapshot_every_ms: number;
  readonly index_every_ms: number;
  /** Mean WS option trades per second. */
  readonly trade_rate: number;
  /** WS option quotes (`Q`) for this many contracts nearest the start spot; 0 = none. */
  readonly quotes: number;
  /** ATM implied volatility (and realised volatility of the spot path). */
  readonly vol: number;
  readonly jumps_per_hour: number;
  /** Closed market: one snapshot, no trades, a constant index every 60 s. */
  readonly closed: boolean;
  /** Continuously compounded rate and dividend yield used for pricing. */
  readonly rate: number;
  readonly div_yield: number;
}

/** An index underlying the simulator can list options on. */
export interface UnderlyingSpec {
  /** PM-settled daily root (SPXW) and AM-settled monthly root (SPX). */
  readonly daily_root: string;
  readonly monthly_root: string;
  readonly spot: number;
  readonly strike_step: number;
  readonly chain_range: number;
  /**
   * Exchange id of the prints. 302 is the id in Massive's SPX samples (Cboe, where SPX and RUT
   * options are listed); the sim uses it for every underlying.
   */
  readonly exchange: number;
}

/** Supported underlyings (index options only: European, cash-settled, priced by Black–Scholes). */
export const UNDERLYINGS: Readonly<Record<string, UnderlyingSpec>> = {
  'I:SPX': { daily_root: 'SPXW', monthly_root: 'SPX', spot: 5900, strike_step: 5, chain_range: 200, exchange: 302 },
  'I:NDX': { daily_root: 'NDXP', monthly_root: 'NDX', spot: 20500, strike_step: 10, chain_range: 700, exchange: 302 },
  'I:RUT': { daily_root: 'RUTW', monthly_root: 'RUT', spot: 2350, strike_step: 5, chain_range: 80, exchange: 302 },
};

/** 09:30 ET on Friday 2025-11-21, an SPX monthly expiration day. */
export const DEFAULT_START_ISO = '2025-11-21T14:30:00Z';

/** ~1.5 M trades in a 6.5 h session, about what SPX index options print on a busy day. */
export const DEFAULT_TRADE_RATE = 64;

/** The spec of an underlying, or a UsageError listing the supported ones. */
export function underlyingSpec(underlying: string): UnderlyingSpec {
  const spec = UNDERLYINGS[underlying];
  if (spec) return spec;
  const supported = Object.keys(UNDERLYINGS).join(', ');
  const hint = UNDERLYINGS[`I:${underlying}`] ? ` (index tickers take the I: prefix: I:${underlying})` : '';
  throw new UsageError(`--underlying ${underlying} is not supported${hint} — the simulator lists index options on ${supported}`);
}

/** Complete parameters from overrides; defaults follow the underlying (spot, strike step, range). */
export function simParams(overrides: Partial<SimParams> = {}): SimParams {
  const underlying = overrides.underlying ?? 'I:SPX';
  const spec = underlyingSpec(underlying);
  return {
    seed: 1,
    underlying,
    start_us: Date.parse(DEFAULT_START_ISO) * 1000,
    duration_ms: 10 * 60_000,
    spot: spec.spot,
    max_dte: 2,
    chain_range: spec.chain_range,
    strike_step: spec.strike_step,
    snapshot_every_ms: 60_000,
    index_every_ms: 1000,
    trade_rate: DEFAULT_TRADE_RATE,
    quotes: 0,
    vol: 0.15,
    jumps_per_hour: 0.5,
    closed: false,
    rate: 0.04,
    div_yield: 0.013,
    ...overrides,
  };
}

const MAX_STRIKES = 2001;
/** Massive's limit of quote subscriptions per connection (massive-wire.md §4.3). */
const MAX_QUOTES = 1000;

/**
 * Checks ranges and combinations; the message names the flag to change.
 * @throws UsageError
 */
export function checkSimParams(p: SimParams): void {
  underlyingSpec(p.underlying);
  const bad = (flag: string, why: string): never => {
    throw new UsageError(`${flag}: ${why}`);
  };
  if (!Number.isSafeInteger(p.seed) || p.seed < 0) bad('--seed', `${p.seed} must be a non-negative integer`);
  if (!Number.isSafeInteger(p.start_us) || p.start_us % 1000 !== 0) bad('--start', 'must be a whole millisecond');
  if (!(p.duration_ms >= 1000 && p.duration_ms <= 7 * 86_400_000)) bad('--duration', 'must be between 1s and 168h');
  if (!(p.spot > 0 && p.spot < 1e6)) bad('--spot', `${p.spot} must be a positive number below 1000000`);
  if (!Number.isInteger(p.max_dte) || p.max_dte < 0 || p.max_dte > 60) bad('--max-dte', `${p.max_dte} must be an integer 0..60`);
  if (!(p.strike_step > 0) || Math.round(p.strike_step * 1000) !== p.strike_step * 1000) {
    bad('--strike-step', `${p.strike_step} must be positive with at most 3 decimals (OCC strikes are in 1/1000)`);
  }
  if (!(p.chain_range >= p.strike_step)) bad('--chain-range', `${p.chain_range} must be at least the strike step (${p.strike_step})`);
  if (p.spot - p.chain_range <= 0) bad('--chain-range', `${p.chain_range} reaches below a zero strike at spot ${p.spot}`);
  if ((2 * p.chain_range) / p.strike_step + 1 > MAX_STRIKES) {
    bad('--chain-range', `${p.chain_range} / --strike-step ${p.strike_step} gives more than ${MAX_STRIKES} strikes per expiry`);
  }
  if (!(p.snapshot_every_ms >= 1000)) bad('--snapshot-every', 'must be at least 1s');
  if (!(p.index_every_ms >= 100)) bad('--index-every', 'must be at least 100ms');
  if (!(p.trade_rate >= 0 && p.trade_rate <= 5000)) bad('--trade-rate', `${p.trade_rate} must be 0..5000 trades/s`);
  if (!Number.isInteger(p.quotes) || p.quotes < 0 || p.quotes > MAX_QUOTES) {
    bad('--quotes', `${p.quotes} must be an integer 0..${MAX_QUOTES} (Massive serves quotes for at most ${MAX_QUOTES} contracts per connection)`);
  }
  if (!(p.vol > 0.01 && p.vol <= 2)) bad('--vol', `${p.vol} must be in (0.01, 2] (a decimal: 0.15 = 15%)`);
  if (!(p.jumps_per_hour >= 0 && p.jumps_per_hour <= 100)) bad('--jumps-per-hour', `${p.jumps_per_hour} must be 0..100`);
  if (!(Math.abs(p.rate) <= 0.5 && Math.abs(p.div_yield) <= 0.5)) bad('rate/div_yield', 'must be within ±0.5');
}

/**
 * What goes into the manifest's `sim.params`: every parameter but the seed, plus a model id. The id
 * changes when the same parameters would give other bytes: heatmap-sim/2 put prices on the
 * exchange's tick grid and added break-even fields and `--quotes`.
 */
export function manifestSimParams(p: SimParams): Record<string, unknown> {
  const { seed: _seed, ...rest } = p;
  return { model: 'heatmap-sim/2', start: new Date(p.start_us / 1000).toISOString(), ...rest };
}
