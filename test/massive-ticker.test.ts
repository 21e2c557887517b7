import { describe, expect, it } from 'vitest';
import { formatOptionTicker, parseOptionTicker } from '../src/massive/ticker.js';

function parsedOk(ticker: string) {
  const r = parseOptionTicker(ticker);
  if (!r.ok) throw new Error(`expected ${ticker} to parse, got ${r.reason}`);
  return r.contract;
}

function rejection(ticker: string): string {
  const r = parseOptionTicker(ticker);
  if (r.ok) throw new Error(`expected ${ticker} to be rejected, got ${JSON.stringify(r.contract)}`);
  return r.reason;
}

describe('parseOptionTicker', () => {
  it('parses an SPXW weekly', () => {
    expect(parsedOk('O:SPXW251121C05900000')).toEqual({
      ticker: 'O:SPXW251121C05900000',
      root: 'SPXW',
      expiration: '2025-11-21',
      right: 'C',
      strike: 5900,
    });
  });

  it('parses the KB-SPX sample ticker and the AM-settled SPX root separately', () => {
    const w = parsedOk('O:SPXW230712C04500000');
    expect([w.root, w.expiration, w.right, w.strike]).toEqual(['SPXW', '2023-07-12', 'C', 4500]);
    const m = parsedOk('O:SPX250321C05800000');
    expect([m.root, m.expiration, m.strike]).toEqual(['SPX', '2025-03-21', 5800]);
  });

  it('parses an adjusted root that holds a digit (AAPL1) as a put', () => {
    const c = parsedOk('O:AAPL1230616P00150000');
    expect(c.root).toBe('AAPL1');
    expect(c.expiration).toBe('2023-06-16');
    expect(c.right).toBe('P');
    expect(c.strike).toBe(150);
  });

  it('parses a fractional strike', () => {
    expect(parsedOk('O:SPY240119C00412500').strike).toBe(412.5);
    expect(parsedOk('O:SPY240119C00000500').strike).toBe(0.5);
  });

  it('accepts Feb 29 in a leap year only', () => {
    expect(parsedOk('O:SPY240229C00500000').expiration).toBe('2024-02-29');
    expect(rejection('O:SPY230229C00500000')).toBe('ticker_bad_date');
  });

  it('rejects impossible dates', () => {
    expect(rejection('O:SPXW251341C05900000')).toBe('ticker_bad_date');
    expect(rejection('O:SPXW251100C05900000')).toBe('ticker_bad_date');
    expect(rejection('O:SPXW250431C05900000')).toBe('ticker_bad_date');
  });

  it('rejects a ticker without the O: prefix', () => {
    expect(rejection('SPXW251121C05900000')).toBe('ticker_no_O_prefix');
    expect(rejection('I:SPX')).toBe('ticker_no_O_prefix');
  });

  it('rejects the doc sample ticker with a 9-digit strike', () => {
    // massive-wire.md §2.3 (a): a doc bug, the OCC strike field is exactly 8 digits.
    expect(rejection('O:AAPL211022C000150000')).toMatch(/^ticker_/);
  });

  it('rejects other malformed shapes with a reason', () => {
    expect(rejection('O:SPXW251121X05900000')).toBe('ticker_bad_tail');
    expect(rejection('O:SPXW251121C0590000')).toBe('ticker_bad_tail'); // 7-digit strike shifts the tail
    expect(rejection('O:251121C05900000')).toBe('ticker_too_short');
    expect(rejection('O:spxw251121C05900000')).toBe('ticker_bad_root');
    expect(rejection('O:TOOLONGX251121C05900000')).toBe('ticker_bad_root');
    expect(rejection('O:SPXW251121C00000000')).toBe('ticker_bad_strike');
    expect(rejection('')).toBe('ticker_no_O_prefix');
  });

  it('never throws on a non-string at runtime', () => {
    expect(rejection(42 as unknown as string)).toBe('ticker_not_string');
    expect(rejection(null as unknown as string)).toBe('ticker_not_string');
  });
});

describe('formatOptionTicker', () => {
  it('builds OCC tickers with an 8-digit strike field', () => {
    expect(formatOptionTicker('SPXW', '2025-11-21', 'C', 5900)).toBe('O:SPXW251121C05900000');
    expect(formatOptionTicker('SPY', '2024-01-19', 'P', 412.5)).toBe('O:SPY240119P00412500');
  });

  it('round-trips with parseOptionTicker', () => {
    const tickers = [
      'O:SPXW251121C05900000',
      'O:SPX250321P05800000',
      'O:AAPL1230616P00150000',
      'O:SPY240119C00412500',
      'O:NANOS230327C00400000',
    ];
    for (const t of tickers) {
      const c = parsedOk(t);
      expect(formatOptionTicker(c.root, c.expiration, c.right, c.strike)).toBe(t);
    }
  });

  it('parse(format(x)) returns the same fields across strikes and expirations', () => {
    for (const strike of [0.5, 1, 12.5, 99.999, 412.5, 4500, 5890, 5910, 99999.999]) {
      for (const right of ['C', 'P'] as const) {
        const t = formatOptionTicker('SPXW', '2025-12-31', right, strike);
        const c = parsedOk(t);
        expect(c).toEqual({ ticker: t, root: 'SPXW', expiration: '2025-12-31', right, strike });
      }
    }
  });
});
