/**
 * The publisher writes upserts with TileJsonWriter instead of JSON.stringify; the hash chain
 * (DESIGN §3) and every consumer depend on the bytes being exactly JSON.stringify's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chainHash } from '../src/engine/hash.js';
import { TileJsonWriter } from '../src/engine/tile-json.js';
import type { LegSource, PublishedTile } from '../src/engine/types.js';

// Numbers the engine can produce and a few it should never (JSON turns non-finite ones into null).
const number = fc.oneof(
  fc.double({ noNaN: false, noDefaultInfinity: false }),
  // what the engine publishes: rounded to 6 decimals, across magnitudes and around the 4e9 cut
  fc.tuple(fc.integer({ min: -(2 ** 53 - 1), max: 2 ** 53 - 1 }), fc.integer({ min: 0, max: 9 })).map(([k, e]) => Math.round((k / 10 ** (e + 6)) * 1e6) / 1e6),
  fc.integer({ min: -1e15, max: 1e15 }).map((k) => k / 1e6),
  fc.double({ min: 3.9e9, max: 4.1e9 }),
  // around the fast path's edge (|n| < 2³¹), and whole parts of every length below it
  fc.double({ min: 2.147e9, max: 2.148e9 }),
  fc.integer({ min: -2_147_483_700, max: 2_147_483_700 }).map((k) => k / 1e6),
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: -999_999_999, max: 999_999_999 })).map(([e, k]) => (k * 10 ** e) / 1e6),
  fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 100),
  fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_SAFE_INTEGER, 1763740811000000),
);
// Names with quotes, backslashes, control characters and non-ASCII: everything JSON must escape.
const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\n', '\u0001', 'é', '€', '😀'), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 12 });
const source = fc.constantFrom<LegSource>('ws', 'rest_quote', 'rest_trade', 'ws_quote');

/** A tile universe: identities fixed per key (as in the engine), a few shared tickers. */
const identities = fc.uniqueArray(
  fc.record({
    root: text,
    expiration: text,
    strategy: text,
    right: fc.constantFrom('C', 'P'),
    strikes: fc.array(number, { minLength: 1, maxLength: 4 }),
    legs: fc.array(fc.record({ ticker: fc.constantFrom('O:A', 'O:B', 'O:"C"', 'O:é'), ratio: fc.constantFrom(1, -1, -2, 2, 0.5) }), { minLength: 0, maxLength: 4 }),
  }),
  { minLength: 1, maxLength: 6, selector: (r) => JSON.stringify(r) },
);

const state = fc.record({
  price: number,
  ts_us: number,
  source,
  value: number,
  score: fc.option(number, { nil: null }),
  confidence: number,
});

interface Identity {
  root: string;
  expiration: string;
  strategy: string;
  right: string;
  strikes: number[];
  legs: { ticker: string; ratio: number }[];
}
interface State {
  price: number;
  ts_us: number;
  source: LegSource;
  value: number;
  score: number | null;
  confidence: number;
}

function makeTile(id: Identity, s: State, legShift: number[]): PublishedTile {
  return {
    key: JSON.stringify(id),
    root: id.root,
    expiration: id.expiration,
    strategy: id.strategy,
    right: id.right as PublishedTile['right'],
    strikes: id.strikes,
    legs: id.legs.map((l, i) => ({ ticker: l.ticker, ratio: l.ratio, price: s.price + (legShift[i] ?? 0), ts_us: s.ts_us, source: s.source })),
    value: s.value,
    score: s.score,
    ts_us: s.ts_us,
    confidence: s.confidence,
    source: s.source,
  };
}

describe('TileJsonWriter', () => {
  it('writes the bytes of JSON.stringify for any tiles, call after call (caches never go stale)', () => {
    fc.assert(
      fc.property(
        identities,
        fc.array(fc.array(fc.tuple(fc.nat(), state, fc.array(fc.constantFrom(0, 0, 0.05, -1), { maxLength: 4 })), { maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        (ids, versions) => {
          const writer = new TileJsonWriter();
          for (const version of versions) {
            const tiles = version.map(([pick, s, shift]) => makeTile(ids[pick % ids.length]!, s, shift));
            expect(writer.writeArray(tiles).toString('utf8')).toBe(JSON.stringify(tiles));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('grows its buffer past 1 MiB and still writes the same bytes', () => {
    const writer = new TileJsonWriter();
    const tiles: PublishedTile[] = [];
    for (let i = 0; i < 6000; i++) {
      const legs = [0, 1, 2].map((k) => ({ ticker: `O:SPXW251121C0${5800 + 5 * ((i + k) % 80)}000`, ratio: k === 1 ? -2 : 1, price: 10 + ((i * 7 + k) % 113) / 100, ts_us: 1763740811000000 + i, source: 'ws' as const }));
      tiles.push({ key: `SPXW:2025-11-21:fly:C:${i}`, root: 'SPXW', expiration: '2025-11-21', strategy: 'fly', right: 'C', strikes: [i, i + 5, i + 10], legs, value: i / 3, score: i % 7 === 0 ? null : i / 7, ts_us: 1763740811000000 + i, confidence: (i % 10) / 10, source: 'ws' });
    }
    const bytes = writer.writeArray(tiles);
    expect(bytes.length).toBeGreaterThan(1 << 21);
    expect(bytes.toString('utf8')).toBe(JSON.stringify(tiles));
    // a small array after a big one: the view covers only the new bytes
    expect(writer.writeArray(tiles.slice(0, 2)).toString('utf8')).toBe(JSON.stringify(tiles.slice(0, 2)));
    expect(writer.writeArray([]).toString('utf8')).toBe('[]');
  });
});

describe('chainHash', () => {
  // The one-call path copies the pieces into a reused buffer: what it hashes must be exactly their
  // concatenation, for text (multi-byte UTF-8 too), bytes, and pieces larger than the buffer.
  it('is the SHA-256 hex of prev_hash and the pieces, concatenated', () => {
    const piece = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 60_000, max: 200_000 }).map((n) => Buffer.alloc(n, 0x7b)));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), fc.array(piece, { maxLength: 5 }), (prev, pieces) => {
        const whole = Buffer.concat([Buffer.from(prev), ...pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))]);
        expect(chainHash(prev, ...pieces)).toBe(createHash('sha256').update(whole).digest('hex'));
      }),
      { numRuns: 60 },
    );
  });
});
