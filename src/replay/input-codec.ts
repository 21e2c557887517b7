import { sourceCode, sourceName } from '../engine/marks.js';
import type { ChainPageEvent, EngineInput, Fact, LegFact, OptionContract } from '../engine/types.js';

/**
 * Engine inputs as numbers, for handing decoded inputs to other threads: a parallel replay decodes
 * the recording once, on the main thread, and every worker rebuilds the same inputs from a
 * Float64Array (copied or transferred, never structured-cloned object by object) instead of
 * reading and decoding the recording again.
 *
 * Contracts and strings (spot tickers, gap streams and reasons) are interned: each is sent once,
 * in the `contracts`/`strings` of the batch where it first appears, and referred to by index after.
 * A contract is the same object for every fact of its ticker, so a ticker whose contract fields
 * differ from the interned one gets an entry of its own (the rebuilt inputs are always equal to the
 * decoded ones; the parsers never produce two contracts for one ticker).
 */

/** One batch of encoded inputs. */
export interface InputBatch {
  /** The inputs, in order (see the op codes below). */
  readonly nums: Float64Array;
  /** Inputs in the batch. */
  readonly count: number;
  /** Contracts first used in this batch, in index order. */
  readonly contracts: readonly OptionContract[];
  /** Strings first used in this batch, in index order. */
  readonly strings: readonly string[];
}

// Inputs: [op, recv_us, …]
const FACTS = 1; // nFacts, facts…
const CHAIN = 2; // snapshot, page, last (0/1), nContracts, contract…, nFacts, facts…
const GAP = 3; // stream, from_us, to_us, reason (strings)
// Facts: [kind, …]
const LEG = 1; // contract, price, event_us, seq, source
const QUOTE = 2; // LEG's, then bid, ask
const SPOT = 3; // ticker (string), value, event_us, seq

/** Encodes engine inputs into batches (one encoder per run: the interning spans batches). */
export class InputEncoder {
  private nums = new Float64Array(1 << 16);
  private n = 0;
  private count = 0;
  private readonly contractIds = new Map<string, number>();
  private readonly contractList: OptionContract[] = [];
  private newContracts: OptionContract[] = [];
  private readonly stringIds = new Map<string, number>();
  private stringCount = 0;
  private newStrings: string[] = [];

  /** Numbers written since the last `take` (a batch's size). */
  get size(): number {
    return this.n;
  }

  add(input: EngineInput): void {
    this.count++;
    switch (input.type) {
      case 'facts':
        this.push3(FACTS, input.recv_us, input.facts.length);
        this.facts(input.facts);
        break;
      case 'chain_page':
        this.push3(CHAIN, input.recv_us, input.snapshot);
        this.push3(input.page, input.last ? 1 : 0, input.contracts.length);
        for (const c of input.contracts) this.push(this.contract(c));
        this.push(input.facts.length);
        this.facts(input.facts);
        break;
      case 'gap':
        this.push3(GAP, input.recv_us, this.string(input.stream));
        this.push3(input.from_us, input.to_us, this.string(input.reason));
        break;
    }
  }

  /** The batch so far; the next one starts empty. */
  take(): InputBatch {
    const batch: InputBatch = { nums: this.nums.slice(0, this.n), count: this.count, contracts: this.newContracts, strings: this.newStrings };
    this.n = 0;
    this.count = 0;
    this.newContracts = [];
    this.newStrings = [];
    return batch;
  }

  private facts(facts: readonly Fact[]): void {
    for (const f of facts) {
      if (f.kind === 'spot') {
        this.push3(SPOT, this.string(f.ticker), f.value);
        this.push(f.event_us);
        this.push(f.seq);
        continue;
      }
      // bid/ask matter only together (a quote mid's confidence): one without the other is a trade's
      const quote = f.bid !== undefined && f.ask !== undefined;
      this.push3(quote ? QUOTE : LEG, this.contract(f.contract), f.price);
      this.push3(f.event_us, f.seq, sourceCode(f.source));
      if (quote) {
        this.push(f.bid!);
        this.push(f.ask!);
      }
    }
  }

  private contract(c: OptionContract): number {
    const id = this.contractIds.get(c.ticker);
    if (id !== undefined) {
      const known = this.contractList[id]!;
      if (known === c || (known.root === c.root && known.expiration === c.expiration && known.right === c.right && Object.is(known.strike, c.strike))) return id;
    }
    const fresh = this.contractList.push(c) - 1;
    this.newContracts.push(c);
    if (id === undefined) this.contractIds.set(c.ticker, fresh);
    return fresh;
  }

  private string(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.stringCount++;
      this.stringIds.set(s, id);
      this.newStrings.push(s);
    }
    return id;
  }

  private push(x: number): void {
    if (this.n === this.nums.length) this.grow();
    this.nums[this.n++] = x;
  }

  private push3(a: number, b: number, c: number): void {
    if (this.n + 3 > this.nums.length) this.grow();
    this.nums[this.n++] = a;
    this.nums[this.n++] = b;
    this.nums[this.n++] = c;
  }

  private grow(): void {
    const bigger = new Float64Array(this.nums.length * 2);
    bigger.set(this.nums);
    this.nums = bigger;
  }
}

/** Rebuilds the inputs of an `InputEncoder`'s batches, in order (one decoder per run). */
export class InputDecoder {
  private readonly contracts: OptionContract[] = [];
  private readonly strings: string[] = [];

  /** The inputs of one batch (batches must be decoded in the order they were taken). */
  *inputs(batch: InputBatch): Generator<EngineInput> {
    for (const c of batch.contracts) this.contracts.push(c);
    for (const s of batch.strings) this.strings.push(s);
    const d = batch.nums;
    let i = 0;
    for (let k = 0; k < batch.count; k++) {
      const op = d[i]!;
      const recv_us = d[i + 1]!;
      if (op === FACTS) {
        const n = d[i + 2]!;
        i += 3;
        const facts: Fact[] = new Array<Fact>(n);
        i = this.facts(d, i, facts);
        yield { type: 'facts', recv_us, facts };
      } else if (op === CHAIN) {
        const snapshot = d[i + 2]!;
        const page = d[i + 3]!;
        const last = d[i + 4] === 1;
        const nc = d[i + 5]!;
        i += 6;
        const contracts: OptionContract[] = new Array<OptionContract>(nc);
        for (let j = 0; j < nc; j++) contracts[j] = this.contracts[d[i++]!]!;
        const facts: LegFact[] = new Array<LegFact>(d[i++]!);
        i = this.facts(d, i, facts);
        const ev: ChainPageEvent = { type: 'chain_page', recv_us, snapshot, page, last, contracts, facts };
        yield ev;
      } else if (op === GAP) {
        yield { type: 'gap', recv_us, stream: this.strings[d[i + 2]!]!, from_us: d[i + 3]!, to_us: d[i + 4]!, reason: this.strings[d[i + 5]!]! };
        i += 6;
      } else {
        throw new Error(`input batch: unknown op ${op} at ${i}`);
      }
    }
  }

  /** Fills `out` with the facts starting at `i`; returns the index after them. */
  private facts(d: Float64Array, i: number, out: Fact[]): number {
    for (let j = 0; j < out.length; j++) {
      const kind = d[i]!;
      if (kind === SPOT) {
        out[j] = { kind: 'spot', ticker: this.strings[d[i + 1]!]!, value: d[i + 2]!, event_us: d[i + 3]!, seq: d[i + 4]! };
        i += 5;
        continue;
      }
      const contract = this.contracts[d[i + 1]!]!;
      const source = sourceName(d[i + 5]!);
      if (kind === QUOTE) {
        out[j] = { kind: 'leg', contract, price: d[i + 2]!, event_us: d[i + 3]!, seq: d[i + 4]!, source, bid: d[i + 6]!, ask: d[i + 7]! };
        i += 8;
      } else {
        out[j] = { kind: 'leg', contract, price: d[i + 2]!, event_us: d[i + 3]!, seq: d[i + 4]!, source };
        i += 6;
      }
    }
    return i;
  }
}
