/**
 * A parallel replay decodes the recording once and hands the workers its inputs as numbers
 * (src/replay/input-codec.ts): what a worker rebuilds must be exactly what was decoded, batch
 * after batch, with contracts and strings sent once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChainPageEvent, EngineInput, Fact, LegFact, LegSource, OptionContract } from '../src/engine/types.js';
import { InputDecoder, InputEncoder } from '../src/replay/input-codec.js';
import { contract, T0 } from './helpers/engine-fixtures.js';

const CONTRACTS: OptionContract[] = [5890, 5900, 5910].flatMap((k) => [contract(k, 'C'), contract(k, 'P'), contract(k, 'C', 'SPX')]);
const number = fc.oneof(fc.double({ noNaN: false }), fc.integer(), fc.constantFrom(0, -0, 1763740811000000, Number.MAX_SAFE_INTEGER));
const source = fc.constantFrom<LegSource>('ws', 'ws_quote', 'rest_quote', 'rest_trade');

const legFact: fc.Arbitrary<LegFact> = fc
  .record({ c: fc.constantFrom(...CONTRACTS), price: number, event_us: number, seq: number, source, quote: fc.option(fc.tuple(number, number), { nil: undefined }) })
  .map(({ c, price, event_us, seq, source, quote }) =>
    quote ? { kind: 'leg', contract: c, price, event_us, seq, source, bid: quote[0], ask: quote[1] } : { kind: 'leg', contract: c, price, event_us, seq, source },
  );
const fact: fc.Arbitrary<Fact> = fc.oneof(
  legFact,
  fc.record({ kind: fc.constant('spot' as const), ticker: fc.constantFrom('I:SPX', 'SPY', 'é"'), value: number, event_us: number, seq: number }),
);
const input: fc.Arbitrary<EngineInput> = fc.oneof(
  fc.record({ type: fc.constant('facts' as const), recv_us: number, facts: fc.array(fact, { maxLength: 5 }) }),
  fc
    .record({ recv_us: number, snapshot: fc.nat(), page: fc.nat(), last: fc.boolean(), contracts: fc.subarray(CONTRACTS), facts: fc.array(legFact, { maxLength: 5 }) })
    .map((p): ChainPageEvent => ({ type: 'chain_page', ...p })),
  fc.record({ type: fc.constant('gap' as const), recv_us: number, stream: fc.constantFrom('options', 'indices'), from_us: number, to_us: number, reason: fc.string({ maxLength: 8 }) }),
);

describe('input codec', () => {
  it('rebuilds every input exactly, over several batches (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(input, { maxLength: 6 }), { minLength: 1, maxLength: 4 }), (batches) => {
        const enc = new InputEncoder();
        const dec = new InputDecoder();
        for (const inputs of batches) {
          for (const i of inputs) enc.add(i);
          const batch = enc.take();
          expect(batch.count).toBe(inputs.length);
          // structured clone, as postMessage does
          expect([...dec.inputs(structuredClone(batch))]).toEqual(inputs);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('sends each contract and string once, then refers to it', () => {
    const enc = new InputEncoder();
    const f = (recv_us: number): EngineInput => ({ type: 'facts', recv_us, facts: [{ kind: 'leg', contract: CONTRACTS[0]!, price: 1, event_us: T0, seq: 0, source: 'ws' }, { kind: 'spot', ticker: 'I:SPX', value: 5900, event_us: T0, seq: 0 }] });
    enc.add(f(T0));
    const first = enc.take();
    enc.add(f(T0 + 1));
    const second = enc.take();
    expect(first.contracts).toEqual([CONTRACTS[0]]);
    expect(first.strings).toEqual(['I:SPX']);
    expect(second.contracts).toEqual([]);
    expect(second.strings).toEqual([]);
  });

  it('keeps a contract that disagrees with the one interned for its ticker', () => {
    const enc = new InputEncoder();
    const dec = new InputDecoder();
    const c = CONTRACTS[0]!;
    const odd = { ...c, strike: c.strike + 5 };
    const inputs: EngineInput[] = [c, odd, c].map((k, i) => ({ type: 'facts', recv_us: T0 + i, facts: [{ kind: 'leg', contract: k, price: 1, event_us: T0, seq: 0, source: 'ws' }] }));
    for (const i of inputs) enc.add(i);
    expect([...dec.inputs(enc.take())]).toEqual(inputs);
  });
});
