import { describe, expect, it } from 'vitest';
import { parseWsFrame, type WsCluster } from '../src/massive/ws.js';
import { parseJsonLossless } from '../src/massive/timestamps.js';
import { isValidPrice } from '../src/massive/values.js';
import { Tally } from '../src/engine/tally.js';

function parse(text: string, cluster: WsCluster, spotTicker?: string) {
  const tally = new Tally();
  const out = parseWsFrame(parseJsonLossless(text), cluster, tally, spotTicker);
  return { ...out, tally };
}

describe('parseWsFrame: options cluster', () => {
  it('parses the spec trade sample into a ws leg fact (ms → µs, q → seq)', () => {
    const { facts, statuses, tally } = parse(
      '[{"ev": "T", "sym": "O:AMC210827C00037000", "x": 65, "p": 1.54, "s": 1, "c": [233], "t": 1629820676333, "q": 651921857}]',
      'options',
    );
    expect(tally.total).toBe(0);
    expect(statuses).toEqual([]);
    expect(facts).toEqual([
      {
        kind: 'leg',
        contract: { ticker: 'O:AMC210827C00037000', root: 'AMC', expiration: '2021-08-27', right: 'C', strike: 37 },
        price: 1.54,
        event_us: 1629820676333000,
        seq: 651921857,
        source: 'ws',
      },
    ]);
  });

  it('parses a batched frame of several trades in frame order; optional fields may be missing', () => {
    const frame = JSON.stringify([
      { ev: 'T', sym: 'O:SPXW251121C05900000', x: 302, p: 12.4, s: 1, c: [209], t: 1763740811000, q: 10 },
      { ev: 'T', sym: 'O:SPXW251121C05910000', p: 8.1, s: 2, t: 1763740811005, q: 11 },
      { ev: 'T', sym: 'O:SPXW251121P05890000', p: 9.95, t: 1763740811007 },
    ]);
    const { facts, tally } = parse(frame, 'options');
    expect(tally.total).toBe(0);
    expect(facts.map((f) => (f.kind === 'leg' ? [f.contract.ticker, f.price, f.event_us, f.seq] : null))).toEqual([
      ['O:SPXW251121C05900000', 12.4, 1763740811000000, 10],
      ['O:SPXW251121C05910000', 8.1, 1763740811005000, 11],
      ['O:SPXW251121P05890000', 9.95, 1763740811007000, 0],
    ]);
  });

  it('parses the spec quote sample into a ws_quote mid with bid/ask', () => {
    const { facts, tally } = parse(
      '[{"ev": "Q", "sym": "O:SPY241220P00720000", "bx": 302, "ax": 302, "bp": 9.71, "ap": 9.81, "bs": 17, "as": 24, "t": 1644506128351, "q": 844090872}]',
      'options',
    );
    expect(tally.total).toBe(0);
    expect(facts).toHaveLength(1);
    const f = facts[0]!;
    expect(f).toMatchObject({ kind: 'leg', source: 'ws_quote', bid: 9.71, ask: 9.81, event_us: 1644506128351000, seq: 844090872 });
    expect(f.kind === 'leg' && f.contract.strike).toBe(720);
    expect(f.kind === 'leg' ? f.price : NaN).toBeCloseTo(9.76, 12);
  });

  it('counts zero-bid and crossed quotes without facts', () => {
    const frame = JSON.stringify([
      { ev: 'Q', sym: 'O:SPXW251121C06500000', bp: 0, ap: 0.05, t: 1763740811000, q: 1 },
      { ev: 'Q', sym: 'O:SPXW251121C05900000', bp: 12.5, ap: 12.4, t: 1763740811000, q: 2 },
      { ev: 'Q', sym: 'O:SPXW251121C05900000', bp: '12.4', ap: 12.5, t: 1763740811000, q: 3 },
    ]);
    const { facts, tally } = parse(frame, 'options');
    expect(facts).toEqual([]);
    expect(tally.toJSON()).toEqual({ ws_quote_bad_price: 1, ws_quote_crossed: 1, ws_quote_no_mid: 1 });
  });

  it('rejects bad tickers, prices and timestamps event by event, keeping the good ones', () => {
    const good = { ev: 'T', sym: 'O:SPXW251121C05900000', p: 12.4, t: 1763740811000, q: 7 };
    const text =
      '[' +
      [
        JSON.stringify({ ...good, sym: 'O:AAPL211022C000150000' }),
        JSON.stringify({ ...good, sym: 'SPXW251121C05900000' }),
        JSON.stringify({ ...good, sym: undefined }),
        JSON.stringify({ ...good, p: -1 }),
        JSON.stringify({ ...good, p: '12.4' }),
        JSON.stringify({ ...good, p: 0 }),
        JSON.stringify({ ...good, p: 1e7 }),
        '{"ev":"T","sym":"O:SPXW251121C05900000","p":12.4,"t":1763740811000123456}', // ns, wrong units
        JSON.stringify({ ...good, t: 1763740811 }), // seconds
        JSON.stringify({ ...good, t: '1763740811000' }),
        JSON.stringify({ ...good, t: undefined }),
        JSON.stringify(good),
      ].join(',') +
      ']';
    const { facts, tally } = parse(text, 'options');
    expect(tally.toJSON()).toEqual({ ws_bad_price: 4, ws_bad_ticker: 3, ws_bad_ts: 4 });
    expect(facts).toHaveLength(1);
    expect(facts[0]).toMatchObject({ price: 12.4, seq: 7 });
  });

  it('uses seq 0 for an invalid q, and counts it', () => {
    const { facts, tally } = parse(
      '[{"ev":"T","sym":"O:SPXW251121C05900000","p":1,"t":1763740811000,"q":-5},' +
        '{"ev":"T","sym":"O:SPXW251121C05900000","p":1,"t":1763740811000,"q":"9"}]',
      'options',
    );
    expect(facts.map((f) => f.seq)).toEqual([0, 0]);
    expect(tally.toJSON()).toEqual({ ws_bad_seq: 2 });
  });

  it('ignores aggregates and FMV, counted by ev', () => {
    const frame =
      '[{"ev": "AM", "sym": "O:ONEM220121C00025000", "v": 2, "av": 8, "op": 2.2, "vw": 2.05, "o": 2.05, "c": 2.05, "h": 2.05, "l": 2.05, "a": 2.1312, "z": 2, "s": 1632419640000, "e": 1632419700000},' +
      '{"ev": "A", "sym": "O:ONEM220121C00025000", "o": 2.05, "s": 1632419640000, "e": 1632419641000},' +
      '{"ev": "FMV", "sym": "O:ONEM220121C00025000", "fmv": 2.1, "t": 1632419640123456789},' +
      '{"ev": "XYZ"}]';
    const { facts, tally } = parse(frame, 'options');
    expect(facts).toEqual([]);
    expect(tally.toJSON()).toEqual({ ws_ignored_A: 1, ws_ignored_AM: 1, ws_ignored_FMV: 1, ws_ignored_XYZ: 1 });
  });
});

describe('parseWsFrame: status events', () => {
  it('returns the handshake statuses, not facts', () => {
    const { facts, statuses, tally } = parse(
      '[{"ev":"status","status":"connected","message":"Connected Successfully"}]',
      'options',
    );
    expect(facts).toEqual([]);
    expect(statuses).toEqual([{ status: 'connected', message: 'Connected Successfully' }]);
    expect(tally.total).toBe(0);
    expect(parse('[{"ev":"status","status":"auth_success","message":"authenticated"}]', 'indices').statuses).toEqual([
      { status: 'auth_success', message: 'authenticated' },
    ]);
  });

  it('keeps status and data events of one mixed frame apart, in order', () => {
    const frame =
      '[{"ev":"status","status":"success","message":"subscribed to: T.*"},' +
      '{"ev":"T","sym":"O:SPXW251121C05900000","p":12.4,"t":1763740811000,"q":1},' +
      '{"ev":"status","status":"max_connections","message":"Maximum number of connections exceeded."}]';
    const { facts, statuses } = parse(frame, 'options');
    expect(facts).toHaveLength(1);
    expect(statuses.map((s) => s.status)).toEqual(['success', 'max_connections']);
  });

  it('defaults a missing message and counts a status without a status string', () => {
    const { statuses, tally } = parse('[{"ev":"status","status":"auth_timeout"},{"ev":"status"}]', 'stocks');
    expect(statuses).toEqual([{ status: 'auth_timeout', message: '' }]);
    expect(tally.toJSON()).toEqual({ ws_bad_status: 1 });
  });
});

describe('parseWsFrame: indices cluster', () => {
  it('parses the V sample, whose symbol key is a capital T', () => {
    const { facts, tally } = parse('[{"ev": "V", "val": 3988.5, "T": "I:SPX", "t": 1678220098130}]', 'indices', 'I:SPX');
    expect(tally.total).toBe(0);
    expect(facts).toEqual([{ kind: 'spot', ticker: 'I:SPX', value: 3988.5, event_us: 1678220098130000, seq: 0 }]);
  });

  it('does not read the symbol from sym', () => {
    const { facts, tally } = parse('[{"ev": "V", "val": 3988.5, "sym": "I:SPX", "t": 1678220098130}]', 'indices');
    expect(facts).toEqual([]);
    expect(tally.toJSON()).toEqual({ ws_bad_ticker: 1 });
  });

  it('accepts val as a numeric string, rejects non-numeric ones', () => {
    const frame =
      '[{"ev":"V","val":"3988.5","T":"I:SPX","t":1678220098130},' +
      '{"ev":"V","val":"","T":"I:SPX","t":1678220098131},' +
      '{"ev":"V","val":"Infinity","T":"I:SPX","t":1678220098132},' +
      '{"ev":"V","val":"0x10","T":"I:SPX","t":1678220098133},' +
      '{"ev":"V","val":-1,"T":"I:SPX","t":1678220098134},' +
      '{"ev":"V","T":"I:SPX","t":1678220098135}]';
    const { facts, tally } = parse(frame, 'indices', 'I:SPX');
    expect(facts.map((f) => (f.kind === 'spot' ? f.value : null))).toEqual([3988.5]);
    expect(tally.toJSON()).toEqual({ ws_bad_value: 5 });
  });

  it('filters other indices when a spot ticker is given, takes all otherwise', () => {
    const frame =
      '[{"ev":"V","val":17000.25,"T":"I:NDX","t":1678220098130},{"ev":"V","val":3988.5,"T":"I:SPX","t":1678220098130}]';
    const only = parse(frame, 'indices', 'I:SPX');
    expect(only.facts.map((f) => (f.kind === 'spot' ? f.ticker : ''))).toEqual(['I:SPX']);
    expect(only.tally.toJSON()).toEqual({ ws_other_index: 1 });
    expect(parse(frame, 'indices').facts).toHaveLength(2);
  });

  it('rejects a V stamped in seconds or ns (wrong units)', () => {
    const frame = '[{"ev":"V","val":3988.5,"T":"I:SPX","t":1678220098},{"ev":"V","val":3988.5,"T":"I:SPX","t":1678220098130000000}]';
    const { facts, tally } = parse(frame, 'indices', 'I:SPX');
    expect(facts).toEqual([]);
    expect(tally.toJSON()).toEqual({ ws_bad_ts: 2 });
  });

  it('ignores index aggregates', () => {
    const { facts, tally } = parse(
      '[{"ev": "AM", "sym": "I:SPX", "op": 3985.67, "o": 3985.67, "c": 3985.67, "h": 3985.67, "l": 3985.67, "s": 1678220675805, "e": 1678220675805}]',
      'indices',
      'I:SPX',
    );
    expect(facts).toEqual([]);
    expect(tally.toJSON()).toEqual({ ws_ignored_AM: 1 });
  });
});

describe('parseWsFrame: stocks cluster', () => {
  const SPY = '{"ev": "T", "sym": "SPY", "x": 4, "i": "12345", "z": 3, "p": 590.125, "s": 100, "c": [0, 12], "t": 1763740811784, "q": 3681328}';
  const MSFT = '{"ev": "T", "sym": "MSFT", "x": 4, "i": "12345", "z": 3, "p": 114.125, "s": 100, "c": [0, 12], "t": 1536036818784, "q": 3681328}';

  it('turns the spot ETF trades into spot facts with q as seq; other symbols are counted', () => {
    const { facts, tally } = parse(`[${MSFT},${SPY}]`, 'stocks', 'SPY');
    expect(facts).toEqual([{ kind: 'spot', ticker: 'SPY', value: 590.125, event_us: 1763740811784000, seq: 3681328 }]);
    expect(tally.toJSON()).toEqual({ ws_other_stock: 1 });
  });

  it('rejects bad stock prints', () => {
    const frame =
      '[{"ev":"T","sym":"SPY","p":"590.1","t":1763740811784},{"ev":"T","sym":"SPY","p":590.1,"t":1763740811784000},{"ev":"T","p":590.1,"t":1763740811784}]';
    const { facts, tally } = parse(frame, 'stocks', 'SPY');
    expect(facts).toEqual([]);
    expect(tally.toJSON()).toEqual({ ws_bad_price: 1, ws_bad_ticker: 1, ws_bad_ts: 1 });
  });

  it('does not read an option trade shape on the stocks cluster as a leg', () => {
    const { facts, tally } = parse('[{"ev":"T","sym":"O:SPY241220P00720000","p":9.7,"t":1763740811784}]', 'stocks', 'SPY');
    expect(facts).toEqual([]);
    expect(tally.toJSON()).toEqual({ ws_other_stock: 1 });
  });
});

describe('parseWsFrame: malformed frames', () => {
  it('counts a frame that is not an array', () => {
    for (const frame of [{ ev: 'T' }, null, 'hello', 42]) {
      const tally = new Tally();
      const out = parseWsFrame(frame, 'options', tally);
      expect(out).toEqual({ facts: [], statuses: [] });
      expect(tally.toJSON()).toEqual({ ws_frame_not_array: 1 });
    }
  });

  it('counts non-object events and events without ev, and keeps going', () => {
    const { facts, tally } = parse(
      '[null, 3, "T", [], {"sym":"O:SPXW251121C05900000"}, {"ev":5}, {"ev":"T","sym":"O:SPXW251121C05900000","p":1.5,"t":1763740811000}]',
      'options',
    );
    expect(facts).toHaveLength(1);
    expect(tally.toJSON()).toEqual({ ws_bad_event: 4, ws_no_ev: 2 });
  });

  it('bounds reasons made from a hostile ev name', () => {
    const tally = new Tally();
    parseWsFrame([{ ev: 'x'.repeat(500) + '!' }], 'options', tally);
    const reasons = Object.keys(tally.toJSON());
    expect(reasons).toEqual([`ws_ignored_${'x'.repeat(32)}`]);
  });
});

describe('isValidPrice', () => {
  it('accepts finite numbers in (0, 1e6]', () => {
    expect([0.01, 1, 5900, 1e6].every(isValidPrice)).toBe(true);
  });
  it('rejects the rest', () => {
    for (const p of [0, -0.01, 1e6 + 0.01, NaN, Infinity, -Infinity, '1.5', null, undefined, {}, 1n]) {
      expect(isValidPrice(p), String(p)).toBe(false);
    }
  });
});
