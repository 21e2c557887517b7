/**
 * Parser for one page of the REST options chain snapshot, `GET /v3/snapshot/options/{underlying}`
 * (massive-wire.md §2). The body must come from `parseJsonLossless`, so the ns timestamps are exact
 * digit strings. Never throws: every rejected item or field is counted in the Tally and skipped.
 */
import { quoteMid } from './quote-mid.js';
import type { ChainPageEvent, LegFact, OptionContract } from '../engine/types.js';
import type { Tally } from '../engine/tally.js';
import { parseOptionTicker } from './ticker.js';
import { nsToUs } from './timestamps.js';
import { describeValue, isRecord, isValidPrice, isValidQuoteSide, reasonPart } from './values.js';

/** Where a page sits in the recording (from its recording line, DESIGN §4). */
export interface ChainPageMeta {
  recv_us: number;
  snapshot: number;
  page: number;
  last: boolean;
}

/** `status` values of a successful page; delayed plans get `DELAYED` on some endpoints. */
const OK_STATUSES = new Set(['OK', 'DELAYED']);

/**
 * Parses one chain page into the contracts it lists and the leg facts it carries:
 * a quote mark `(bid+ask)/2` at `last_quote.last_updated` (the server's `midpoint` is not trusted —
 * the Go fixture shows one outside its own bid/ask) and `last_trade.price` at
 * `last_trade.sip_timestamp`. Contracts whose `details` contradict their ticker are dropped.
 */
export function parseChainBody(body: unknown, meta: ChainPageMeta, tally: Tally): ChainPageEvent {
  const contracts: OptionContract[] = [];
  const facts: LegFact[] = [];
  const event: ChainPageEvent = {
    type: 'chain_page',
    recv_us: meta.recv_us,
    snapshot: meta.snapshot,
    page: meta.page,
    last: meta.last,
    contracts,
    facts,
  };
  const where = `snapshot ${meta.snapshot} page ${meta.page}`;
  if (!isRecord(body)) {
    tally.add('chain_bad_body', `${where}: body is ${describeValue(body)}`);
    return event;
  }
  // `status` is absent from some real samples (KB-SPX), so only a present, non-OK value counts.
  const status = body['status'];
  if (typeof status === 'string') {
    if (!OK_STATUSES.has(status)) tally.add(`chain_status_${reasonPart(status)}`, where);
  } else if (status !== undefined) {
    tally.add('chain_status_not_string', `${where}: ${describeValue(status)}`);
  }
  const results = body['results'];
  if (!Array.isArray(results)) {
    tally.add('chain_bad_body', `${where}: results is ${describeValue(results)}`);
    return event;
  }
  for (const item of results) {
    const contract = parseChainItemContract(item, tally);
    if (contract === null || !isRecord(item)) continue;
    contracts.push(contract);
    const quote = quoteFact(item['last_quote'], contract, tally);
    if (quote !== null) facts.push(quote);
    const trade = tradeFact(item['last_trade'], contract, tally);
    if (trade !== null) facts.push(trade);
  }
  return event;
}

/** The item's contract from `details.ticker`, cross-checked against the other `details` fields. */
function parseChainItemContract(item: unknown, tally: Tally): OptionContract | null {
  if (!isRecord(item)) {
    tally.add('chain_bad_item', describeValue(item));
    return null;
  }
  const details = item['details'];
  const ticker = isRecord(details) ? details['ticker'] : undefined;
  if (typeof ticker !== 'string' || !isRecord(details)) {
    tally.add('chain_bad_ticker', `ticker ${describeValue(ticker)}`);
    return null;
  }
  const parsed = parseOptionTicker(ticker);
  if (!parsed.ok) {
    tally.add('chain_bad_ticker', `${ticker}: ${parsed.reason}`);
    return null;
  }
  const c = parsed.contract;
  const conflict = detailsConflict(details, c);
  if (conflict !== null) {
    tally.add('chain_ticker_mismatch', `${ticker}: ${conflict}`);
    return null;
  }
  return c;
}

/**
 * Names the first `details` field that contradicts the ticker, or null. Absent fields are fine
 * (every field is optional); a present field of the wrong type is a contradiction, since we cannot
 * tell which of the two the server meant. The doc sample (a) is the case in point: its ticker says
 * 2021-10-22 while `expiration_date` says 2022-01-21.
 */
function detailsConflict(details: Record<string, unknown>, c: OptionContract): string | null {
  const exp = details['expiration_date'];
  if (exp !== undefined && exp !== c.expiration) return `expiration_date ${describeValue(exp)}`;
  const strike = details['strike_price'];
  // The ticker strike is an integer count of 1/1000 points; compare at that resolution.
  if (strike !== undefined && !(typeof strike === 'number' && Math.abs(strike - c.strike) < 5e-4)) {
    return `strike_price ${describeValue(strike)}`;
  }
  const type = details['contract_type'];
  const expected = c.right === 'C' ? 'call' : 'put';
  if (type !== undefined && type !== expected) return `contract_type ${describeValue(type)}`;
  return null;
}

/** Snapshot quote → mark at the quote's time, or null (missing quote, bad fields, no mid). */
function quoteFact(q: unknown, contract: OptionContract, tally: Tally): LegFact | null {
  // No `last_quote` at all is normal: "only returned if your current plan includes quotes".
  if (q === undefined) return null;
  const t = contract.ticker;
  if (!isRecord(q)) {
    tally.add('chain_quote_bad_object', `${t}: ${describeValue(q)}`);
    return null;
  }
  const bid = q['bid'];
  const ask = q['ask'];
  if (!isValidQuoteSide(bid) || !isValidQuoteSide(ask)) {
    tally.add('chain_quote_bad_price', `${t}: bid ${describeValue(bid)} ask ${describeValue(ask)}`);
    return null;
  }
  const event_us = nsToUs(q['last_updated']);
  if (event_us === null) {
    tally.add('chain_quote_bad_ts', `${t}: last_updated ${describeValue(q['last_updated'])}`);
    return null;
  }
  // A zero bid (far OTM) or a crossed book is ordinary market data, not a payload error: the
  // snapshot then contributes only its last trade (DESIGN §2.2). Counted, not shouted about.
  const mid = quoteMid(bid, ask);
  if ('problem' in mid) {
    tally.add(`chain_quote_${mid.problem}`, `${t}: bid ${bid} ask ${ask}`);
    return null;
  }
  return { kind: 'leg', contract, price: mid.mid, event_us, seq: 0, source: 'rest_quote', bid, ask };
}

/** Snapshot last trade → mark at the trade's SIP time, or null. */
function tradeFact(tr: unknown, contract: OptionContract, tally: Tally): LegFact | null {
  // Absent when the plan has no trades, or the contract never traded.
  if (tr === undefined) return null;
  const t = contract.ticker;
  if (!isRecord(tr)) {
    tally.add('chain_trade_bad_object', `${t}: ${describeValue(tr)}`);
    return null;
  }
  const price = tr['price'];
  if (!isValidPrice(price)) {
    tally.add('chain_trade_bad_price', `${t}: price ${describeValue(price)}`);
    return null;
  }
  const event_us = nsToUs(tr['sip_timestamp']);
  if (event_us === null) {
    tally.add('chain_trade_bad_ts', `${t}: sip_timestamp ${describeValue(tr['sip_timestamp'])}`);
    return null;
  }
  return { kind: 'leg', contract, price, event_us, seq: 0, source: 'rest_trade' };
}
