/**
 * REST chain snapshots of the synthetic market, in the exact shape of
 * `GET /v3/snapshot/options/I:SPX` (massive-wire.md §2): pages of ≤ 250 results sorted by ticker,
 * `next_url` with an opaque base64url cursor while more pages follow, ns timestamps as 19-digit
 * integer literals, and the real server's quirks — `underlying_asset` frozen at the session start.
 *
 * Fields derived from prices agree with each other the way Massive's do (massive-wire.md §2.3 (b)):
 * `last_quote.midpoint` = (bid + ask) / 2; `break_even_price` = strike + midpoint for a call,
 * strike − midpoint for a put (the client's docs: "strike price + premium paid"); and
 * `underlying_asset.change_to_break_even` = break_even_price − the item's own `underlying_asset.value`
 * (stale like the value itself). `last_trade` and the `day` bar come from the trade tape, so they
 * match the WS prints exactly.
 */
import { chainLine } from '../recording/lines.js';
import { easternUs, previousBusinessDay, sessionCloseUs } from './calendar.js';
import { formatCents, formatNs, formatRounded, formatUnits4 } from './format.js';
import { CELL_US, type SimContract, type SimMarket, cellOf, cellStartUs, impliedVol } from './market.js';
import { bsGreeks } from './pricing.js';
import { PRICE_UNITS, fairUnitsInCell, spreadAround, stripInputs } from './quotes.js';
import { roundToTick } from './ticks.js';
import type { Rng } from './rng.js';
import type { TradeTape } from './tape.js';

/** Massive's maximum page size, which a recorder uses. */
export const PAGE_LIMIT = 250;
const HOUR_US = 3_600_000_000;

/** Static text of every contract (computed once per run). */
export interface ChainStatics {
  /** `"details":{…}` per contract index. */
  readonly details: readonly string[];
  readonly openInterest: Int32Array;
  /**
   * The rest of `"underlying_asset":{…}` after `change_to_break_even`: value and stamp frozen at
   * the session start (the real server's bug).
   */
  readonly underlyingTail: string;
  /** That frozen value, in price units. */
  readonly underlyingUnits: number;
  /** `day.last_updated`: midnight ET of the session date, in ns (a bar stamp, not a tick time). */
  readonly dayStampNs: string;
}

/** Builds the per-contract static text; draws open interest from `rng` in ticker order. */
export function buildChainStatics(market: SimMarket, rng: Rng): ChainStatics {
  const p = market.params;
  const details = market.contracts.map(
    (c) =>
      `"details":{"contract_type":"${c.right === 'C' ? 'call' : 'put'}","exercise_style":"european",` +
      `"expiration_date":"${c.expiration}","shares_per_contract":100,"strike_price":${c.strike},"ticker":"${c.ticker}"}`,
  );
  const openInterest = Int32Array.from(market.contracts, (c) => {
    const near = Math.exp(-Math.abs(c.strike - p.spot) / (0.3 * p.chain_range));
    return Math.max(1, Math.round((20 + 4000 * near * (0.3 + c.expiry.flow_weight)) * Math.exp(0.5 * rng.normal())));
  });
  const cents = Math.round(p.spot * 100);
  return {
    details,
    openInterest,
    underlyingTail: `,"last_updated":${formatNs(p.start_us, 0)},"value":${formatCents(cents)},"ticker":"${p.underlying}","timeframe":"REAL-TIME"}`,
    underlyingUnits: cents * 100,
    dayStampNs: formatNs(easternUs(market.session_date, 0, 0), 0),
  };
}

/**
 * Gives every contract a last trade in the previous session (its `previous_close`), as a real
 * morning snapshot shows: priced near the opening fair value on the price grid, within the last 2 h
 * before that close.
 */
export function seedPriorTrades(market: SimMarket, tape: TradeTape, rng: Rng): void {
  const close = sessionCloseUs(previousBusinessDay(market.session_date));
  const g = cellOf(market, market.params.start_us) - 1;
  for (const c of market.contracts) {
    // Yesterday's close: near today's opening fair value (±1%, at least ±0.05 of noise), on the grid.
    const fair = fairUnitsInCell(market, c, g);
    const cents = roundToTick(fair + rng.normal() * Math.max(500, 0.01 * fair)) / 100;
    const us = close - 1 - rng.int(2 * HOUR_US);
    tape.setPrior(c.index, us, rng.int(1000), cents, 1 + rng.int(10));
  }
}

/** One snapshot's recording lines and the receive time of its last page. */
export interface SnapshotOutput {
  readonly lines: string[];
  readonly lastRecvUs: number;
}

/**
 * Snapshot n requested at `s_us` (or right after the previous snapshot's last page, if later):
 * every contract still live at that time, quoted as of the cell before `s_us`, with quote stamps
 * inside that cell (so `quoteAt(market, contract, last_updated)` reproduces each quote exactly).
 */
export function buildSnapshot(
  market: SimMarket,
  statics: ChainStatics,
  tape: TradeTape,
  rng: Rng,
  n: number,
  s_us: number,
  prevRecvUs: number,
): SnapshotOutput {
  const g = cellOf(market, s_us) - 1;
  const cellStart = cellStartUs(market, g);
  const live = market.contracts.filter((c) => c.expiry.expiry_us > s_us);
  const results = live.map((c) => formatResult(market, statics, tape, rng, c, g, cellStart));
  const underlying = market.params.underlying;
  const path = `/v3/snapshot/options/${underlying}`;
  const pages = Math.max(1, Math.ceil(results.length / PAGE_LIMIT));
  const cursor = (k: number): string =>
    Buffer.from(`ap=${live[k * PAGE_LIMIT - 1]!.ticker}&as=&limit=${PAGE_LIMIT}&sort=ticker`).toString('base64url');
  const lines: string[] = [];
  let req = Math.max(s_us, prevRecvUs + 1000);
  let recv = req;
  for (let k = 0; k < pages; k++) {
    const last = k === pages - 1;
    const next = last ? '' : `,"next_url":"https://api.massive.com${path}?cursor=${cursor(k + 1)}"`;
    const body =
      `{"results":[${results.slice(k * PAGE_LIMIT, (k + 1) * PAGE_LIMIT).join(',')}],"status":"OK",` +
      `"request_id":"${rng.hex32()}"${next}}`;
    recv = req + rng.intBetween(40_000, 250_000);
    const url = k === 0 ? `${path}?limit=${PAGE_LIMIT}` : `${path}?cursor=${cursor(k)}`;
    lines.push(chainLine({ recv_us: recv, req_us: req, snapshot: n, page: k, last, url, status: 200 }, body));
    req = recv + rng.intBetween(500, 3000);
  }
  return { lines, lastRecvUs: recv };
}

/** One `results[]` item, keys in Massive's (alphabetical) order. */
function formatResult(
  market: SimMarket,
  statics: ChainStatics,
  tape: TradeTape,
  rng: Rng,
  c: SimContract,
  g: number,
  cellStart: number,
): string {
  const p = market.params;
  const i = c.index;
  const q = spreadAround(fairUnitsInCell(market, c, g));
  const midUnits = Math.round((q.bid + q.ask) / 2);
  const strikeUnits = Math.round(c.strike * PRICE_UNITS);
  const breakEven = c.right === 'C' ? strikeUnits + midUnits : strikeUnits - midUnits;
  const quoteNs = formatNs(cellStart + rng.int(CELL_US), rng.intBetween(1, 999));
  const bidSize = rng.intBetween(1, 300);
  const askSize = rng.intBetween(1, 300);
  const { S, T, F } = stripInputs(market, c.expiry, g);
  const sigma = impliedVol(market, c.strike, F, T);
  const gr = bsGreeks({ right: c.right, S, K: c.strike, T, r: p.rate, q: p.div_yield, sigma });
  const lastTrade =
    tape.hasLast[i] === 1
      ? `"last_trade":{"sip_timestamp":${formatNs(tape.lastUs[i]!, tape.lastNs[i]!)},"conditions":[${tape.lastIsLeg[i] === 1 ? 232 : 209}],` +
        `"price":${formatCents(tape.lastCents[i]!)},"size":${tape.lastSize[i]},"exchange":${market.spec.exchange},"timeframe":"REAL-TIME"},`
      : '';
  return (
    `{"break_even_price":${formatUnits4(breakEven)},${formatDay(statics, tape, i)},${statics.details[i]},` +
    `"greeks":{"delta":${formatRounded(gr.delta, 6)},"gamma":${formatRounded(gr.gamma, 6)},` +
    `"theta":${formatRounded(gr.theta, 6)},"vega":${formatRounded(gr.vega, 6)}},` +
    `"implied_volatility":${formatRounded(sigma, 6)},` +
    `"last_quote":{"ask":${formatUnits4(q.ask)},"ask_size":${askSize},"bid":${formatUnits4(q.bid)},"bid_size":${bidSize},` +
    `"last_updated":${quoteNs},"midpoint":${formatUnits4(midUnits)},"timeframe":"REAL-TIME"},` +
    `${lastTrade}"open_interest":${statics.openInterest[i]},` +
    `"underlying_asset":{"change_to_break_even":${formatUnits4(breakEven - statics.underlyingUnits)}${statics.underlyingTail}}`
  );
}

/** `"day":{…}`: today's bar once the contract traded today, else only the previous close. */
function formatDay(statics: ChainStatics, tape: TradeTape, i: number): string {
  const prev = tape.prevClose[i]!;
  const volume = tape.volume[i]!;
  if (volume === 0) return `"day":{"last_updated":${statics.dayStampNs},"previous_close":${formatCents(prev)}}`;
  const close = tape.close[i]!;
  const changePct = prev > 0 ? formatRounded(((close - prev) / prev) * 100, 3) : '0';
  const vwapUnits = Math.round((tape.notional[i]! / volume) * (PRICE_UNITS / 100));
  return (
    `"day":{"change":${formatCents(close - prev)},"change_percent":${changePct},"close":${formatCents(close)},` +
    `"high":${formatCents(tape.high[i]!)},"last_updated":${statics.dayStampNs},"low":${formatCents(tape.low[i]!)},` +
    `"open":${formatCents(tape.open[i]!)},"previous_close":${formatCents(prev)},"volume":${volume},` +
    `"vwap":${formatUnits4(vwapUnits)}}`
  );
}
