import { describe, expect, it } from 'vitest';
import { parseChainBody, type ChainPageMeta } from '../src/massive/chain.js';
import { parseJsonLossless } from '../src/massive/timestamps.js';
import { Tally } from '../src/engine/tally.js';

const META: ChainPageMeta = { recv_us: 1689174024000000, snapshot: 3, page: 1, last: true };

/** massive-wire.md §2.3 (d): KB-SPX index-option sample, verbatim (no `status`, no `request_id`). */
const SPX_SAMPLE = `{"results": [{
  "day": {"change": 0.35, "change_percent": 25.926, "close": 1.7, "high": 3.5, "last_updated": 1689120000000000000, "low": 1.35, "open": 3.3, "previous_close": 1.35, "volume": 41840, "vwap": 2.5245},
  "details": {"contract_type": "call", "exercise_style": "european", "expiration_date": "2023-07-12", "shares_per_contract": 100, "strike_price": 4500, "ticker": "O:SPXW230712C04500000"},
  "greeks": {"delta": 0.1747164662893937, "gamma": 0.015204164984227357, "theta": -5.994369119247097, "vega": 0.38594323616299553},
  "implied_volatility": 0.11856240507153987,
  "last_quote": {"ask": 1.65, "ask_size": 37, "bid": 1.6, "bid_size": 123, "last_updated": 1689174023516476700, "midpoint": 1.625, "timeframe": "REAL-TIME"},
  "last_trade": {"sip_timestamp": 1689174023261703200, "conditions": [209], "price": 1.65, "size": 1, "exchange": 302, "timeframe": "REAL-TIME"},
  "open_interest": 4501,
  "underlying_asset": {"last_updated": 1680814651655000000, "value": 4483.78, "ticker": "I:SPX", "timeframe": "REAL-TIME"}
}]}`;

/** §2.3 (b): the Python client fixture, with full-precision 19-digit ns integers. */
const PY_FIXTURE = `{
  "request_id": "104d9b901d0c9e81d284cb8b41c5cdd3",
  "results": [{
    "break_even_price": 179.075,
    "day": {"change": -2.3999999999999986, "change_percent": -7.643312101910824, "close": 29, "high": 32.25,
      "last_updated": 1651204800000000000, "low": 29, "open": 29.99, "previous_close": 31.4, "volume": 8, "vwap": 30.7738},
    "details": {"contract_type": "call", "exercise_style": "american", "expiration_date": "2023-06-16",
      "shares_per_contract": 100, "strike_price": 150, "ticker": "O:AAPL230616C00150000"},
    "fmv": 20.5,
    "greeks": {"delta": 0.6436614934293701, "gamma": 0.0061735291012820675, "theta": -0.028227189324641973, "vega": 0.6381159723175714},
    "implied_volatility": 0.3570277203465058,
    "last_quote": {"ask": 29.25, "ask_size": 209, "bid": 28.9, "bid_size": 294, "last_updated": 1651254260800059648,
      "midpoint": 29.075, "timeframe": "REAL-TIME"},
    "last_trade":{"price": 29.25, "sip_timestamp": 1678718527714665700, "size": 1, "conditions": [209], "exchange": 309, "timeframe": "REAL-TIME"},
    "open_interest": 8133,
    "underlying_asset": {"change_to_break_even": 19.11439999999999, "last_updated": 1651254263172073152, "price": 159.9606,
      "ticker": "AAPL", "timeframe": "REAL-TIME"}
  }],
  "status": "OK"
}`;

/** §2.3 (a): the official doc sample; its ticker has a 9-digit strike (doc bug). */
const DOC_SAMPLE = `{
  "request_id": "6a7e466379af0a71039d60cc78e72282",
  "results": [{
    "break_even_price": 151.2,
    "day": {"change": 4.5, "change_percent": 6.76, "close": 120.73, "high": 120.81, "last_updated": 1605195918507251700,
      "low": 118.9, "open": 119.32, "previous_close": 119.12, "volume": 868, "vwap": 119.31},
    "details": {"contract_type": "call", "exercise_style": "american", "expiration_date": "2022-01-21",
      "shares_per_contract": 100, "strike_price": 150, "ticker": "O:AAPL211022C000150000"},
    "fmv": 0.05, "fmv_last_updated": 1605195918508251600,
    "greeks": {"delta": 1, "gamma": 0, "theta": 0.00229, "vega": 0},
    "implied_volatility": 5,
    "last_quote": {"ask": 120.3, "ask_size": 4, "bid": 120.28, "bid_size": 8, "last_updated": 1605195918507251700,
      "midpoint": 120.29, "timeframe": "REAL-TIME"},
    "last_trade": {"conditions": [209], "decimal_size": "2.0", "exchange": 316, "price": 0.05,
      "sip_timestamp": 1675280958783136800, "size": 2, "timeframe": "REAL-TIME"},
    "open_interest": 1543,
    "underlying_asset": {"change_to_break_even": 4.2, "last_updated": 1605195918507251700, "price": 147, "ticker": "AAPL", "timeframe": "DELAYED"}
  }],
  "status": "OK"
}`;

/** A results[] item for the SPXW 5900 call with the given quote / trade sub-objects. */
function item(lastQuote?: unknown, lastTrade?: unknown, ticker = 'O:SPXW251121C05900000'): Record<string, unknown> {
  const it: Record<string, unknown> = { details: { ticker } };
  if (lastQuote !== undefined) it['last_quote'] = lastQuote;
  if (lastTrade !== undefined) it['last_trade'] = lastTrade;
  return it;
}

function parse(body: unknown) {
  const tally = new Tally();
  const ev = parseChainBody(body, META, tally);
  return { ev, tally };
}

const NS = '1763740811123456789'; // 2025-11-21T16:00:11.123456789Z

describe('parseChainBody on Massive samples', () => {
  it('parses the SPX index-option sample (d): contract, quote mid and last trade, exact ns→µs', () => {
    const { ev, tally } = parse(parseJsonLossless(SPX_SAMPLE));
    expect(tally.toJSON()).toEqual({});
    expect(ev).toMatchObject({ type: 'chain_page', recv_us: META.recv_us, snapshot: 3, page: 1, last: true });
    expect(ev.contracts).toEqual([
      { ticker: 'O:SPXW230712C04500000', root: 'SPXW', expiration: '2023-07-12', right: 'C', strike: 4500 },
    ]);
    expect(ev.facts).toHaveLength(2);
    const [quote, trade] = ev.facts;
    expect(quote).toMatchObject({ kind: 'leg', source: 'rest_quote', bid: 1.6, ask: 1.65, seq: 0 });
    expect(quote!.price).toBeCloseTo(1.625, 12);
    expect(quote!.event_us).toBe(1689174023516476);
    expect(quote!.contract.ticker).toBe('O:SPXW230712C04500000');
    expect(trade).toEqual({
      kind: 'leg',
      contract: ev.contracts[0],
      price: 1.65,
      event_us: 1689174023261703,
      seq: 0,
      source: 'rest_trade',
    });
  });

  it('parses the Python fixture (b) with 19-digit ns stamps that JSON.parse would round', () => {
    const { ev, tally } = parse(parseJsonLossless(PY_FIXTURE));
    expect(tally.total).toBe(0);
    expect(ev.contracts.map((c) => c.ticker)).toEqual(['O:AAPL230616C00150000']);
    const quote = ev.facts.find((f) => f.source === 'rest_quote');
    const trade = ev.facts.find((f) => f.source === 'rest_trade');
    // Truncation, not rounding: ...059648 ns → ...059 µs.
    expect(quote?.event_us).toBe(1651254260800059);
    expect(quote?.price).toBeCloseTo((28.9 + 29.25) / 2, 12);
    expect(trade?.event_us).toBe(1678718527714665);
    expect(trade?.price).toBe(29.25);
  });

  it('computes the mark from bid/ask, not from the untrusted midpoint field', () => {
    // The GO fixture's quote: bid 74.85 / ask 75.05 with "midpoint": 112.375.
    const body = { status: 'OK', results: [item({ ask: 75.05, bid: 74.85, last_updated: NS, midpoint: 112.375 })] };
    const { ev } = parse(body);
    expect(ev.facts).toHaveLength(1);
    expect(ev.facts[0]!.price).toBeCloseTo(74.95, 12);
  });

  it('rejects the doc sample (a) whose ticker is malformed', () => {
    const { ev, tally } = parse(parseJsonLossless(DOC_SAMPLE));
    expect(ev.contracts).toEqual([]);
    expect(ev.facts).toEqual([]);
    expect(tally.toJSON()).toEqual({ chain_bad_ticker: 1 });
    expect(tally.sampleDetails()['chain_bad_ticker']![0]).toContain('O:AAPL211022C000150000');
  });

  it('still works on a plain JSON.parse body (numbers instead of digit strings)', () => {
    const { ev, tally } = parse(JSON.parse(SPX_SAMPLE));
    expect(tally.total).toBe(0);
    // The rounded double prints as ...476700, so the µs survive here; the lossless path is exact always.
    expect(ev.facts[0]!.event_us).toBe(1689174023516476);
  });
});

describe('parseChainBody: details cross-check', () => {
  it('drops contracts whose details contradict the ticker', () => {
    const results = [
      { details: { ticker: 'O:SPXW251121C05900000', expiration_date: '2025-11-20' } },
      { details: { ticker: 'O:SPXW251121C05900000', strike_price: 5950 } },
      { details: { ticker: 'O:SPXW251121C05900000', contract_type: 'put' } },
      { details: { ticker: 'O:SPXW251121C05900000', strike_price: '5900' } },
      { details: { ticker: 'O:SPXW251121P05900000', contract_type: 'put', expiration_date: '2025-11-21', strike_price: 5900 } },
      { details: { ticker: 'O:SPY240119C00412500', strike_price: 412.5, contract_type: 'call' } },
    ];
    const { ev, tally } = parse({ status: 'OK', results });
    expect(ev.contracts.map((c) => c.ticker)).toEqual(['O:SPXW251121P05900000', 'O:SPY240119C00412500']);
    expect(tally.toJSON()).toEqual({ chain_ticker_mismatch: 4 });
  });

  it('counts items without a usable ticker and keeps going', () => {
    const results = [
      null,
      'O:SPXW251121C05900000',
      {},
      { details: null },
      { details: { ticker: 42 } },
      { details: { ticker: 'SPXW251121C05900000' } },
      { details: { ticker: 'O:SPXW251341C05900000' } },
      item(undefined, { price: 2.5, sip_timestamp: NS }),
    ];
    const { ev, tally } = parse({ status: 'OK', results });
    expect(tally.toJSON()).toEqual({ chain_bad_item: 2, chain_bad_ticker: 5 });
    expect(ev.contracts).toHaveLength(1);
    expect(ev.facts).toHaveLength(1);
    expect(ev.facts[0]!.price).toBe(2.5);
  });
});

describe('parseChainBody: quotes and trades', () => {
  it('lists a contract with no quote and no trade, without complaint', () => {
    const { ev, tally } = parse({ status: 'OK', results: [item()] });
    expect(ev.contracts).toHaveLength(1);
    expect(ev.facts).toEqual([]);
    expect(tally.total).toBe(0);
  });

  it('counts a zero-bid quote as no mid and a crossed quote as crossed; the trade still counts', () => {
    const trade = { price: 0.05, sip_timestamp: NS };
    const results = [
      item({ bid: 0, ask: 0.05, last_updated: NS }, trade),
      item({ bid: 1.7, ask: 1.6, last_updated: NS }, trade, 'O:SPXW251121C05905000'),
    ];
    const { ev, tally } = parse({ status: 'OK', results });
    expect(tally.toJSON()).toEqual({ chain_quote_crossed: 1, chain_quote_no_mid: 1 });
    expect(ev.contracts).toHaveLength(2);
    expect(ev.facts.map((f) => f.source)).toEqual(['rest_trade', 'rest_trade']);
  });

  it('accepts a locked quote (ask == bid)', () => {
    const { ev, tally } = parse({ results: [item({ bid: 2.5, ask: 2.5, last_updated: NS })] });
    expect(tally.total).toBe(0);
    expect(ev.facts[0]).toMatchObject({ price: 2.5, bid: 2.5, ask: 2.5 });
  });

  it('rejects bad quote prices: string, negative, absurd, missing', () => {
    const quotes = [
      { bid: '1.60', ask: 1.65, last_updated: NS },
      { bid: -1.6, ask: 1.65, last_updated: NS },
      { bid: 1.6, ask: 2e6, last_updated: NS },
      { ask: 1.65, last_updated: NS },
      { bid: 1.6, ask: null, last_updated: NS },
    ];
    const { ev, tally } = parse({ results: quotes.map((q) => item(q)) });
    expect(tally.toJSON()).toEqual({ chain_quote_bad_price: 5 });
    expect(ev.facts).toEqual([]);
    expect(ev.contracts).toHaveLength(5);
  });

  it('rejects bad trade prices: NaN, string, negative, zero, absurd, missing', () => {
    const trades = [
      { price: NaN, sip_timestamp: NS },
      { price: '1.65', sip_timestamp: NS },
      { price: -1.65, sip_timestamp: NS },
      { price: 0, sip_timestamp: NS },
      { price: 1e6 + 1, sip_timestamp: NS },
      { sip_timestamp: NS },
    ];
    const { ev, tally } = parse({ results: trades.map((t) => item(undefined, t)) });
    expect(tally.toJSON()).toEqual({ chain_trade_bad_price: 6 });
    expect(ev.facts).toEqual([]);
  });

  it('rejects ms/µs timestamps where ns are expected, and missing or non-numeric ones', () => {
    const results = [
      item({ bid: 1.6, ask: 1.65, last_updated: 1689174023516 }, { price: 1.65, sip_timestamp: 1689174023261 }),
      item({ bid: 1.6, ask: 1.65, last_updated: 1689174023516476 }, { price: 1.65, sip_timestamp: 'soon' }),
      item({ bid: 1.6, ask: 1.65 }, { price: 1.65, sip_timestamp: -1 }),
    ];
    const { ev, tally } = parse({ results });
    expect(tally.toJSON()).toEqual({ chain_quote_bad_ts: 3, chain_trade_bad_ts: 3 });
    expect(ev.facts).toEqual([]);
    expect(ev.contracts).toHaveLength(3);
  });

  it('counts non-object quote / trade sub-objects', () => {
    const { ev, tally } = parse({ results: [item('n/a', [1.65])] });
    expect(tally.toJSON()).toEqual({ chain_quote_bad_object: 1, chain_trade_bad_object: 1 });
    expect(ev.contracts).toHaveLength(1);
  });
});

describe('parseChainBody: envelope', () => {
  it('counts a body that is not an object', () => {
    for (const body of [null, 'OK', 42, [], undefined]) {
      const { ev, tally } = parse(body);
      expect(tally.toJSON()).toEqual({ chain_bad_body: 1 });
      expect(ev.contracts).toEqual([]);
      expect(ev.page).toBe(1);
    }
  });

  it('counts missing or non-array results', () => {
    expect(parse({ status: 'OK' }).tally.toJSON()).toEqual({ chain_bad_body: 1 });
    expect(parse({ status: 'OK', results: {} }).tally.toJSON()).toEqual({ chain_bad_body: 1 });
  });

  it('counts an error status, and both reasons for an error body without results', () => {
    const body = {
      status: 'NOT_AUTHORIZED',
      request_id: '3314f3bc552d76453891b3a8ada5e8d0',
      message: 'You are not entitled to this data. Please upgrade your plan at https://massive.com/pricing',
    };
    expect(parse(body).tally.toJSON()).toEqual({ chain_bad_body: 1, chain_status_NOT_AUTHORIZED: 1 });
  });

  it('still parses results under an unexpected status', () => {
    const { ev, tally } = parse({ status: 'ERROR', results: [item()] });
    expect(tally.toJSON()).toEqual({ chain_status_ERROR: 1 });
    expect(ev.contracts).toHaveLength(1);
  });

  it('accepts OK, DELAYED and a missing status silently; sanitizes odd status strings', () => {
    expect(parse({ status: 'DELAYED', results: [] }).tally.total).toBe(0);
    expect(parse({ status: 'OK', results: [] }).tally.total).toBe(0);
    expect(parse({ results: [] }).tally.total).toBe(0);
    expect(parse({ status: 'bad status!', results: [] }).tally.toJSON()).toEqual({ chain_status_bad_status_: 1 });
    expect(parse({ status: 500, results: [] }).tally.toJSON()).toEqual({ chain_status_not_string: 1 });
  });
});
