import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tally } from '../src/engine/tally.js';
import { readTradeLine } from '../src/massive/ws-trades-fast.js';
import { parseWsFrame } from '../src/massive/ws.js';
import { LineDecoder } from '../src/replay/decode.js';

/**
 * The options fast path must give exactly the general path's facts (`JSON.parse`, then
 * `parseWsFrame`) whenever it answers, and must decline whenever the general path would count
 * anything (a bad line, a bad trade) or see anything but trades.
 */

/** The general path's answer for an options line: its facts, or why it has none. */
function general(text: string): { facts: unknown[]; counted: number } | 'bad_json' | 'not_a_frame' {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return 'bad_json';
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || 'gap' in obj || !('frame' in obj)) return 'not_a_frame';
  const tally = new Tally();
  const { facts, statuses } = parseWsFrame((obj as { frame: unknown }).frame, 'options', tally);
  return { facts, counted: tally.total + statuses.length };
}

// Number texts: JSON ones of every shape, and texts JSON does not allow.
const jsonNumber = fc.oneof(
  fc.integer({ min: -5, max: 2_000_000_000 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map(String),
  fc.constantFrom('0', '-0', '0.0', '1.50', '63.9', '1e3', '1E+2', '2.5e-1', '123456789012345678', '1763735400031', '0.000001', '12345678901234.5', '9007199254740993'),
);
const badNumber = fc.constantFrom('01', '-', '1.', '.5', '+1', '1e', '0x10', 'NaN', 'Infinity', '1_000', '"1.5"', 'null', 'true');
const num = fc.oneof({ weight: 8, arbitrary: jsonNumber }, { weight: 1, arbitrary: badNumber });

const goodTicker = fc.constantFrom('O:SPXW251121C05900000', 'O:SPXW251121P05850000', 'O:SPY241220P00720000', 'O:AAPL1250117C00150000');
const badTicker = fc.constantFrom('O:SPXW251321C05900000', 'SPXW251121C05900000', 'O:SPXW251121X05900000', '', 'O:SPXW251121C0590000');
const tickerText = fc.oneof(
  { weight: 6, arbitrary: goodTicker.map((t) => JSON.stringify(t)) },
  { weight: 1, arbitrary: badTicker.map((t) => JSON.stringify(t)) },
  { weight: 1, arbitrary: fc.constantFrom('"O:SPXW251121C0590000\\u0030"', '"O:SPX\\"W"', '"O:SPXW251121C05900000\\n"', '"O:É"', '5', 'null', '["O:SPXW251121C05900000"]') },
);
const msTime = fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }).map(String);
const timeText = fc.oneof({ weight: 6, arbitrary: msTime }, { weight: 1, arbitrary: fc.constantFrom('1763735400031000000', '1763735400.5', '17637354000', '"1763735400031"', '-1') }, { weight: 1, arbitrary: num });
const priceText = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 9_999_999 }).map((c) => String(c / 100)) }, { weight: 1, arbitrary: num });
const seqText = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 2_000_000_000 }).map(String) }, { weight: 1, arbitrary: num });

/** One event as `[key, value text]` pairs (in Massive's order unless shuffled), then its text. */
const event = fc
  .record({
    ev: fc.oneof({ weight: 8, arbitrary: fc.constant('"T"') }, { weight: 1, arbitrary: fc.constantFrom('"Q"', '"status"', '"A"', '"t"', 'null') }),
    sym: fc.option(tickerText, { freq: 12 }),
    x: fc.option(num, { freq: 3 }),
    p: fc.option(priceText, { freq: 12 }),
    s: fc.option(num, { freq: 3 }),
    c: fc.option(fc.array(num, { maxLength: 3 }).map((a) => `[${a.join(',')}]`), { freq: 3 }),
    t: fc.option(timeText, { freq: 12 }),
    q: fc.option(seqText, { freq: 3 }),
    extra: fc.option(fc.constantFrom(['z', '1'], ['i', '"7"'], ['sym', '"O:SPXW251121C05900000"'], ['p', '2'], ['ev', '"T"']), { freq: 8 }),
    shuffle: fc.option(fc.integer({ min: 1, max: 6 }), { freq: 8 }),
    spaces: fc.boolean(),
  })
  .map((e) => {
    const pairs: [string, string][] = [['ev', e.ev]];
    for (const k of ['sym', 'x', 'p', 's', 'c', 't', 'q'] as const) if (e[k] !== null) pairs.push([k, e[k]]);
    if (e.extra !== null) pairs.splice(Math.min(pairs.length, 1 + (e.shuffle ?? 3)), 0, [e.extra[0], e.extra[1]]);
    if (e.shuffle !== null && pairs.length > 2) {
      const i = e.shuffle % pairs.length;
      [pairs[0], pairs[i]] = [pairs[i]!, pairs[0]!];
    }
    const sep = e.spaces ? ': ' : ':';
    return `{${pairs.map(([k, v]) => `"${k}"${sep}${v}`).join(',')}}`;
  });

const line = fc
  .record({
    recv: fc.oneof({ weight: 6, arbitrary: fc.constant('1763735400037359') }, { weight: 1, arbitrary: num }),
    events: fc.oneof({ weight: 1, arbitrary: fc.array(event, { maxLength: 0 }) }, { weight: 8, arbitrary: fc.array(event, { minLength: 1, maxLength: 4 }) }),
    tail: fc.constantFrom('', '', '', '', ' ', ',"frame":[]', ',"gap":1', '\n', 'x'),
    head: fc.constantFrom('{"recv_us":', '{"recv_us":', '{"recv_us":', '{ "recv_us":', '{"recv":'),
  })
  .map((l) => `${l.head}${l.recv},"frame":[${l.events.join(',')}]}${l.tail}`);

/** A line of good trades as Massive sends them (what most recorded lines are). */
const cleanTrade = fc
  .record({ sym: goodTicker, x: fc.option(fc.integer({ min: 1, max: 400 })), p: fc.integer({ min: 1, max: 9_999_999 }), s: fc.option(fc.integer({ min: 1, max: 500 })), c: fc.option(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 2 })), t: msTime, q: fc.option(fc.integer({ min: 0, max: 2_000_000_000 })) })
  .map((e) => {
    const parts = [`"ev":"T"`, `"sym":"${e.sym}"`];
    if (e.x !== null) parts.push(`"x":${e.x}`);
    parts.push(`"p":${e.p / 100}`);
    if (e.s !== null) parts.push(`"s":${e.s}`);
    if (e.c !== null) parts.push(`"c":[${e.c.join(',')}]`);
    parts.push(`"t":${e.t}`);
    if (e.q !== null) parts.push(`"q":${e.q}`);
    return `{${parts.join(',')}}`;
  });
const cleanLine = fc.array(cleanTrade, { minLength: 1, maxLength: 4 }).map((events) => `{"recv_us":1763735400037359,"frame":[${events.join(',')}]}`);

/** A line with one character deleted, replaced or inserted (mostly invalid JSON, sometimes not). */
const damaged = fc.tuple(fc.oneof(line, cleanLine), fc.nat(), fc.constantFrom('', '"', ',', '}', ']', '[', '0', '\\', ':', ' ', 'e', '-', '.')).map(([l, at, ch]) => {
  const i = at % (l.length + 1);
  return at % 3 === 0 ? l.slice(0, i) + ch + l.slice(i + 1) : at % 3 === 1 ? l.slice(0, i) + l.slice(i + 1) : l.slice(0, i) + ch + l.slice(i);
});

describe('readTradeLine (the options fast path)', () => {
  it('reads a recorded line of two trades into the facts the general path makes (worked example)', () => {
    const text =
      '{"recv_us":1763735400072474,"frame":[{"ev":"T","sym":"O:SPXW251121C05930000","x":302,"p":9.86,"s":2,"c":[232],"t":1763735400063,"q":124163492},' +
      '{"ev":"T","sym":"O:SPXW251121P05935000","x":302,"p":8.3,"s":2,"c":[],"t":1763735400064}]}';
    expect(readTradeLine(text)).toEqual([
      {
        kind: 'leg',
        contract: { ticker: 'O:SPXW251121C05930000', root: 'SPXW', expiration: '2025-11-21', right: 'C', strike: 5930 },
        price: 9.86,
        event_us: 1763735400063000,
        seq: 124163492,
        source: 'ws',
      },
      {
        kind: 'leg',
        contract: { ticker: 'O:SPXW251121P05935000', root: 'SPXW', expiration: '2025-11-21', right: 'P', strike: 5935 },
        price: 8.3,
        event_us: 1763735400064000,
        seq: 0,
        source: 'ws',
      },
    ]);
    expect(readTradeLine('{"recv_us":1763735400072474,"frame":[]}')).toEqual([]);
  });

  it('declines what the general path counts or treats otherwise', () => {
    const trade = (fields: string) => `{"recv_us":1763735400072474,"frame":[{"ev":"T",${fields}}]}`;
    for (const text of [
      trade('"sym":"O:SPXW251121C05930000","p":0,"t":1763735400063'), // price 0: counted as ws_bad_price
      trade('"sym":"O:SPXW251121C05930000","p":9.86,"t":1763735400063000'), // µs, not ms: ws_bad_ts
      trade('"sym":"O:SPXW251321C05930000","p":9.86,"t":1763735400063'), // month 13: ws_bad_ticker
      trade('"sym":"O:SPXW251121C05930000","p":9.86,"t":1763735400063,"q":-1'), // ws_bad_seq (fact kept, seq 0)
      trade('"sym":"O:SPXW251121C05930000","p":9.86,"t":1763735400063,"p":9.9'), // repeated key: the last wins
      trade('"sym":"O:SPXW251121C05930000","t":1763735400063,"p":9.86'), // another key order
      '{"recv_us":1763735400072474,"frame":[{"ev":"Q","sym":"O:SPXW251121C05930000","bp":1,"ap":2,"t":1763735400063}]}',
      '{"recv_us":1763735400072474,"gap":{"from_us":1,"to_us":2,"reason":"x"}}',
      '{"recv_us":1763735400072474,"frame":[]} ',
    ]) {
      expect(readTradeLine(text), text).toBeUndefined();
    }
    // …and the decoder then takes the general path, which counts it
    const tally = new Tally();
    const input = new LineDecoder('I:SPX', tally).decode({ stream: 'options', file: 'options.ndjson.gz', line_no: 1, recv_us: 1, text: trade('"sym":"O:SPXW251121C05930000","p":0,"t":1763735400063') });
    expect(input).toEqual({ type: 'facts', recv_us: 1, facts: [] });
    expect(tally.total).toBe(1);
  });

  it('gives the general path’s facts whenever it answers, on random and damaged lines', () => {
    let answered = 0;
    let total = 0;
    fc.assert(
      fc.property(fc.oneof(cleanLine, line, damaged, damaged.map((l) => l.replace(/\s+$/, ''))), (text) => {
        total++;
        const fast = readTradeLine(text);
        const g = general(text);
        if (fast === undefined) return;
        answered++;
        // it answers only for a frame of trades that the general path takes whole, nothing counted
        expect(g).not.toBe('bad_json');
        expect(g).not.toBe('not_a_frame');
        const { facts, counted } = g as { facts: unknown[]; counted: number };
        expect(counted).toBe(0);
        expect(fast).toStrictEqual(facts);
        // numbers exactly as JSON.parse read them (toStrictEqual already tells -0 from 0)
        fast.forEach((f, i) => expect(Object.is(f.price, (facts[i] as { price: number }).price)).toBe(true));
      }),
      { numRuns: 4000, seed: 14 },
    );
    // the generators reach both sides: lines it reads and lines it leaves to the general path
    expect(answered).toBeGreaterThan(total / 5);
    expect(answered).toBeLessThan(total);
  });
});
