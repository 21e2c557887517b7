/**
 * Parser for Massive WebSocket frames (massive-wire.md §4). Every server frame is a JSON array
 * that may mix status and data events of several types; we dispatch on `ev` per event. All WS `t`
 * fields used here are Unix **ms** (FMV's ns `t` is ignored with the rest of the aggregates).
 * Never throws: bad events are counted in the Tally and skipped, the rest of the frame goes on.
 */
import { quoteMid } from './quote-mid.js';
import type { Fact, LegFact, OptionContract, SpotFact } from '../engine/types.js';
import type { Tally } from '../engine/tally.js';
import { parseOptionTicker } from './ticker.js';
import { msToUs } from './timestamps.js';
import {
  describeValue,
  isRecord,
  isValidPrice,
  isValidQuoteSide,
  reasonPart,
  toFiniteNumber,
  toSequence,
} from './values.js';

/** The Massive WS cluster a frame came from (one connection per cluster). */
export type WsCluster = 'options' | 'indices' | 'stocks';

/** A `{"ev":"status",…}` event: connection, auth and subscription state, not market data. */
export interface WsStatus {
  readonly status: string;
  readonly message: string;
}

/** What one frame holds: market facts in frame order, and status events in frame order. */
export interface ParsedFrame {
  readonly facts: Fact[];
  readonly statuses: WsStatus[];
}

type Event = Record<string, unknown>;

/**
 * Parses one WS frame (already JSON-parsed) from `cluster`. `spotTicker` (e.g. `I:SPX`, `SPY`)
 * keeps only that symbol's spot prints on the indices and stocks clusters; without it every
 * symbol on those clusters is taken.
 */
export function parseWsFrame(frame: unknown, cluster: WsCluster, tally: Tally, spotTicker?: string): ParsedFrame {
  const facts: Fact[] = [];
  const statuses: WsStatus[] = [];
  if (!Array.isArray(frame)) {
    tally.add('ws_frame_not_array', describeValue(frame));
    return { facts, statuses };
  }
  for (const ev of frame) {
    if (!isRecord(ev)) {
      tally.add('ws_bad_event', describeValue(ev));
      continue;
    }
    const kind = ev['ev'];
    if (typeof kind !== 'string') {
      tally.add('ws_no_ev', describeValue(kind));
      continue;
    }
    if (kind === 'status') {
      const st = parseStatus(ev, tally);
      if (st !== null) statuses.push(st);
      continue;
    }
    const fact = parseDataEvent(kind, ev, cluster, tally, spotTicker);
    if (fact !== null) facts.push(fact);
  }
  return { facts, statuses };
}

function parseStatus(ev: Event, tally: Tally): WsStatus | null {
  const status = ev['status'];
  if (typeof status !== 'string') {
    tally.add('ws_bad_status', describeValue(status));
    return null;
  }
  const message = ev['message'];
  return { status, message: typeof message === 'string' ? message : '' };
}

/** Routes one data event by cluster and `ev`; aggregates and unknown kinds are counted, not parsed. */
function parseDataEvent(kind: string, ev: Event, cluster: WsCluster, tally: Tally, spotTicker?: string): Fact | null {
  switch (cluster) {
    case 'options':
      if (kind === 'T') return optionTrade(ev, tally);
      if (kind === 'Q') return optionQuote(ev, tally);
      break;
    case 'indices':
      if (kind === 'V') return indexValue(ev, tally, spotTicker);
      break;
    case 'stocks':
      if (kind === 'T') return stockTrade(ev, tally, spotTicker);
      break;
  }
  // A / AM / FMV bars are derived data (and FMV's `t` is ns): marks come from ticks only.
  tally.add(`ws_ignored_${reasonPart(kind)}`);
  return null;
}

/** WS `q`: "increasing and unique per ticker symbol, but will not always be sequential". */
function sequenceOf(ev: Event, tally: Tally): number {
  const q = ev['q'];
  if (q === undefined) return 0;
  const seq = toSequence(q);
  if (seq === null) {
    tally.add('ws_bad_seq', describeValue(q));
    return 0;
  }
  return seq;
}

/** Options trade `T`: `{"ev":"T","sym":"O:…","p":1.54,"s":1,"t":<ms>,"q":…}` → leg mark. */
function optionTrade(ev: Event, tally: Tally): LegFact | null {
  const sym = ev['sym'];
  const parsed = typeof sym === 'string' ? parseOptionTicker(sym) : null;
  if (parsed === null || !parsed.ok) {
    tally.add('ws_bad_ticker', `${describeValue(sym)}${parsed ? `: ${parsed.reason}` : ''}`);
    return null;
  }
  const p = ev['p'];
  if (!isValidPrice(p)) {
    tally.add('ws_bad_price', `${parsed.contract.ticker}: p ${describeValue(p)}`);
    return null;
  }
  const event_us = msToUs(ev['t']);
  if (event_us === null) {
    tally.add('ws_bad_ts', `${parsed.contract.ticker}: t ${describeValue(ev['t'])}`);
    return null;
  }
  return tradeLegFact(parsed.contract, p, event_us, sequenceOf(ev, tally));
}

/** The leg fact of a good options trade (also made by the fast path, `ws-trades-fast.ts`). */
export function tradeLegFact(contract: OptionContract, price: number, event_us: number, seq: number): LegFact {
  return { kind: 'leg', contract, price, event_us, seq, source: 'ws' };
}

/** Options quote `Q`: `bp`/`ap` bid/ask → mid mark, with the quote kept for confidence. */
function optionQuote(ev: Event, tally: Tally): LegFact | null {
  const sym = ev['sym'];
  const parsed = typeof sym === 'string' ? parseOptionTicker(sym) : null;
  if (parsed === null || !parsed.ok) {
    tally.add('ws_bad_ticker', `${describeValue(sym)}${parsed ? `: ${parsed.reason}` : ''}`);
    return null;
  }
  const t = parsed.contract.ticker;
  const bid = ev['bp'];
  const ask = ev['ap'];
  if (!isValidQuoteSide(bid) || !isValidQuoteSide(ask)) {
    tally.add('ws_quote_bad_price', `${t}: bp ${describeValue(bid)} ap ${describeValue(ask)}`);
    return null;
  }
  const event_us = msToUs(ev['t']);
  if (event_us === null) {
    tally.add('ws_bad_ts', `${t}: t ${describeValue(ev['t'])}`);
    return null;
  }
  // Zero bid or crossed book: no trustworthy mid (same rule as the snapshot quote, DESIGN §2.2).
  const q = quoteMid(bid, ask);
  if ('problem' in q) {
    tally.add(`ws_quote_${q.problem}`, `${t}: bp ${bid} ap ${ask}`);
    return null;
  }
  const seq = sequenceOf(ev, tally);
  return { kind: 'leg', contract: parsed.contract, price: q.mid, event_us, seq, source: 'ws_quote', bid, ask };
}

/**
 * Index value `V`: `{"ev":"V","val":3988.5,"T":"I:SPX","t":<ms>}`. The symbol key is a capital
 * `T` here (not `sym`), and `val` may be a numeric string (client-js types it as string).
 */
function indexValue(ev: Event, tally: Tally, spotTicker?: string): SpotFact | null {
  const ticker = ev['T'];
  if (typeof ticker !== 'string' || ticker === '') {
    tally.add('ws_bad_ticker', `V T ${describeValue(ticker)}`);
    return null;
  }
  if (spotTicker !== undefined && ticker !== spotTicker) {
    tally.add('ws_other_index', ticker);
    return null;
  }
  const value = toFiniteNumber(ev['val']);
  if (value === null || !isValidPrice(value)) {
    tally.add('ws_bad_value', `${ticker}: val ${describeValue(ev['val'])}`);
    return null;
  }
  const event_us = msToUs(ev['t']);
  if (event_us === null) {
    tally.add('ws_bad_ts', `${ticker}: t ${describeValue(ev['t'])}`);
    return null;
  }
  return { kind: 'spot', ticker, value, event_us, seq: 0 };
}

/** ETF trade `T` on the stocks cluster (e.g. SPY) → spot print for ETF underlyings. */
function stockTrade(ev: Event, tally: Tally, spotTicker?: string): SpotFact | null {
  const ticker = ev['sym'];
  if (typeof ticker !== 'string' || ticker === '') {
    tally.add('ws_bad_ticker', `stock sym ${describeValue(ticker)}`);
    return null;
  }
  if (spotTicker !== undefined && ticker !== spotTicker) {
    tally.add('ws_other_stock', ticker);
    return null;
  }
  const p = ev['p'];
  if (!isValidPrice(p)) {
    tally.add('ws_bad_price', `${ticker}: p ${describeValue(p)}`);
    return null;
  }
  const event_us = msToUs(ev['t']);
  if (event_us === null) {
    tally.add('ws_bad_ts', `${ticker}: t ${describeValue(ev['t'])}`);
    return null;
  }
  return { kind: 'spot', ticker, value: p, event_us, seq: sequenceOf(ev, tally) };
}
