import { describe, expect, it } from 'vitest';
import {
  BusinessClock,
  SESSION_SHARE,
  easternDate,
  etOffsetMinutes,
  isBusinessDay,
  monthlyExpiration,
  sessionCloseUs,
  sessionOpenUs,
} from '../src/sim/calendar.js';
import { CELL_US, buildMarket, findContract, spotAt, yearsToExpiry } from '../src/sim/market.js';
import { simParams } from '../src/sim/params.js';
import { parseOptionTicker } from '../src/massive/ticker.js';

describe('calendar', () => {
  it('knows Eastern daylight time and the session hours in UTC', () => {
    expect(etOffsetMinutes('2025-03-07')).toBe(300);
    expect(etOffsetMinutes('2025-03-10')).toBe(240);
    expect(etOffsetMinutes('2025-10-31')).toBe(240);
    expect(etOffsetMinutes('2025-11-03')).toBe(300);
    expect(new Date(sessionOpenUs('2025-11-21') / 1000).toISOString()).toBe('2025-11-21T14:30:00.000Z');
    expect(new Date(sessionCloseUs('2025-07-01') / 1000).toISOString()).toBe('2025-07-01T20:00:00.000Z');
    expect(easternDate(Date.parse('2025-11-22T03:00:00Z') * 1000)).toBe('2025-11-21');
  });

  it('skips weekends and NYSE holidays; moves a Good Friday monthly to Thursday', () => {
    expect(isBusinessDay('2025-11-22')).toBe(false);
    expect(isBusinessDay('2025-11-27')).toBe(false); // Thanksgiving
    expect(isBusinessDay('2025-11-28')).toBe(true);
    expect(monthlyExpiration(2025, 11)).toBe('2025-11-21');
    expect(monthlyExpiration(2025, 12)).toBe('2025-12-19');
    expect(monthlyExpiration(2025, 4)).toBe('2025-04-17'); // 2025-04-18 is Good Friday
    expect(monthlyExpiration(2026, 4)).toBe('2026-04-17');
  });

  it('runs a business clock: SESSION_SHARE of a day in the session, the rest overnight, nothing on weekends', () => {
    const c = new BusinessClock('2025-11-17', '2025-11-28');
    const fri = c.indexOf('2025-11-21');
    expect(c.at(sessionOpenUs('2025-11-21'))).toBeCloseTo(fri, 12);
    expect(c.at(sessionCloseUs('2025-11-21'))).toBeCloseTo(fri + SESSION_SHARE, 12);
    expect(c.at(sessionOpenUs('2025-11-24'))).toBeCloseTo(fri + 1, 12);
    expect(c.isOpen(sessionOpenUs('2025-11-21') + 1)).toBe(true);
    expect(c.isOpen(sessionCloseUs('2025-11-21'))).toBe(false);
    expect(c.isOpen(Date.parse('2025-11-22T17:00:00Z') * 1000)).toBe(false);
  });
});

describe('buildMarket', () => {
  it('lists SPXW dailies for DTE 0..2 by default, strikes every 5 over ±200, tickers sorted', () => {
    const m = buildMarket(simParams());
    expect(m.expiries.map((e) => `${e.root} ${e.date} ${e.settlement}`)).toEqual([
      'SPXW 2025-11-21 PM',
      'SPXW 2025-11-24 PM',
      'SPXW 2025-11-25 PM',
    ]);
    expect(m.strikes[0]).toBe(5700);
    expect(m.strikes[m.strikes.length - 1]).toBe(6100);
    expect(m.contracts).toHaveLength(81 * 2 * 3);
    const tickers = m.contracts.map((c) => c.ticker);
    expect([...tickers].sort()).toEqual(tickers);
    expect(findContract(m, 'O:SPXW251124P05905000')).toMatchObject({ right: 'P', strike: 5905, expiration: '2025-11-24' });
    expect(findContract(m, 'O:SPXW251124P05906000')).toBeUndefined();
    for (const c of m.contracts) {
      expect(findContract(m, c.ticker)).toBe(c);
      const parsed = parseOptionTicker(c.ticker);
      expect(parsed.ok && parsed.contract.strike === c.strike && parsed.contract.expiration === c.expiration).toBe(true);
    }
  });

  it('adds the AM-settled SPX monthly only when it is in range with DTE ≥ 1, skipping holidays', () => {
    const m = buildMarket(simParams({ max_dte: 20 }));
    const list = m.expiries.map((e) => `${e.root} ${e.date}`);
    expect(list).toContain('SPX 2025-12-19');
    expect(list).not.toContain('SPX 2025-11-21'); // settled at this morning's open
    expect(list).not.toContain('SPXW 2025-11-27'); // Thanksgiving
    expect(list).not.toContain('SPXW 2025-11-29'); // Saturday
    const am = m.expiries.find((e) => e.root === 'SPX')!;
    expect(am.expiry_us).toBe(sessionOpenUs('2025-12-19'));
    // The AM contract expires a session before the same-day SPXW contract.
    const pm = m.expiries.find((e) => e.root === 'SPXW' && e.date === '2025-12-19')!;
    const t = m.params.start_us;
    expect(yearsToExpiry(m, pm, t) - yearsToExpiry(m, am, t)).toBeCloseTo(SESSION_SHARE / 252, 12);
  });

  it('drops the 0DTE expiration when the session starts after the close', () => {
    const m = buildMarket(simParams({ start_us: Date.parse('2025-11-21T21:30:00Z') * 1000, max_dte: 1 }));
    expect(m.expiries.map((e) => e.date)).toEqual(['2025-11-24']);
  });

  it('builds a seeded spot path: starts at --spot, moves, repeats for a seed, constant when closed', () => {
    const p = simParams({ duration_ms: 3_600_000, seed: 3 });
    const a = buildMarket(p);
    expect(spotAt(a, p.start_us)).toBe(5900);
    expect(a.spot).toHaveLength(3_600_000_000 / CELL_US + 1);
    expect(new Set(a.spot).size).toBeGreaterThan(1000);
    expect(buildMarket(p).spot).toEqual(a.spot);
    expect(buildMarket({ ...p, seed: 4 }).spot).not.toEqual(a.spot);
    // An hour at 15% vol: the path stays within a sane band.
    expect(Math.max(...a.spot)).toBeLessThan(5900 * 1.05);
    expect(Math.min(...a.spot)).toBeGreaterThan(5900 * 0.95);
    const closed = buildMarket({ ...p, closed: true });
    expect(new Set(closed.spot)).toEqual(new Set([5900]));
  });
});
