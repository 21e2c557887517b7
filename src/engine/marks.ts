import { grown } from './columns.js';
import { legConfidence } from './confidence.js';
import type { LegFact, LegSource, SpotFact } from './types.js';

/**
 * Staged facts: one last-writer-wins register per fact slot (a leg's ticker, or the spot ticker),
 * ordered by the newness key `(event_us, seq)`.
 *
 * Admission (DESIGN §2.2): A — nothing staged → admit; B — strictly newer key → admit;
 * C — older or equal → discard. Because B needs *strictly* newer, the first of two facts with
 * equal keys wins, and the register's final content is independent of arrival order whenever
 * keys are distinct.
 */

export interface LegMark {
  readonly price: number;
  readonly event_us: number;
  readonly seq: number;
  readonly source: LegSource;
  readonly bid?: number;
  readonly ask?: number;
}

/** True when key (a_us, a_seq) is strictly newer than (b_us, b_seq). */
export function isNewer(aUs: number, aSeq: number, bUs: number, bSeq: number): boolean {
  return aUs > bUs || (aUs === bUs && aSeq > bSeq);
}

const SOURCES: string[] = ['rest_quote', 'rest_trade', 'ws', 'ws_quote'];

/** A leg source as a small integer (for typed columns); the same code in every engine. */
export function sourceCode(source: string): number {
  let c = SOURCES.indexOf(source);
  if (c < 0) c = SOURCES.push(source) - 1; // not a LegSource: kept, never mistaken for one
  return c;
}

/** The leg source of a `sourceCode`. */
export function sourceName(code: number): LegSource {
  return SOURCES[code] as LegSource;
}

export interface AdmissionCounts {
  admitted: number;
  discarded: number;
}

/**
 * The leg registers: ticker → newest admitted mark. Every ticker seen (by a fact or by a tile's
 * leg) gets a dense id, in order of first sight; the current marks are also kept in columns by id,
 * which is what staging reads when it recomputes tiles.
 */
export class LegMarks {
  private readonly ids = new Map<string, number>();
  private readonly tickers: string[] = [];
  private readonly marks: (LegMark | undefined)[] = [];
  readonly counts: AdmissionCounts = { admitted: 0, discarded: 0 };
  /** 1 once the ticker has a mark (marks are never removed). */
  has = new Uint8Array(0);
  price = new Float64Array(0);
  eventUs = new Float64Array(0);
  seq = new Float64Array(0);
  /** `sourceCode` of the mark's source. */
  source = new Uint8Array(0);
  /** `legConfidence` of the mark. */
  confidence = new Float64Array(0);

  /** The ticker's id (assigned on first sight). */
  idOf(ticker: string): number {
    let id = this.ids.get(ticker);
    if (id === undefined) {
      id = this.tickers.push(ticker) - 1;
      this.ids.set(ticker, id);
      this.marks.push(undefined);
      const n = id + 1;
      this.has = grown(this.has, n);
      this.price = grown(this.price, n);
      this.eventUs = grown(this.eventUs, n);
      this.seq = grown(this.seq, n);
      this.source = grown(this.source, n);
      this.confidence = grown(this.confidence, n);
    }
    return id;
  }

  /** The ticker's id, undefined when it was never seen. */
  findId(ticker: string): number | undefined {
    return this.ids.get(ticker);
  }

  /** Number of tickers seen (ids are 0 … count − 1). */
  get count(): number {
    return this.tickers.length;
  }

  /** The ticker of an id. */
  tickerOf(id: number): string {
    return this.tickers[id]!;
  }

  /** Applies Rules A/B/C; returns true when the fact was admitted (the slot changed). */
  admit(fact: LegFact): boolean {
    return this.admitAt(this.idOf(fact.contract.ticker), fact);
  }

  /** `admit` for a fact whose ticker has id `id`. */
  admitAt(id: number, fact: LegFact): boolean {
    if (this.has[id] === 1 && !isNewer(fact.event_us, fact.seq, this.eventUs[id]!, this.seq[id]!)) {
      this.counts.discarded++;
      return false;
    }
    const mark: LegMark =
      fact.bid !== undefined && fact.ask !== undefined
        ? { price: fact.price, event_us: fact.event_us, seq: fact.seq, source: fact.source, bid: fact.bid, ask: fact.ask }
        : { price: fact.price, event_us: fact.event_us, seq: fact.seq, source: fact.source };
    this.marks[id] = mark;
    this.has[id] = 1;
    this.price[id] = mark.price;
    this.eventUs[id] = mark.event_us;
    this.seq[id] = mark.seq;
    this.source[id] = sourceCode(mark.source);
    this.confidence[id] = legConfidence(mark);
    this.counts.admitted++;
    return true;
  }

  get(ticker: string): LegMark | undefined {
    const id = this.ids.get(ticker);
    return id === undefined ? undefined : this.marks[id];
  }
}

/** The spot register for the underlying (one slot). */
export class SpotMark {
  private current: SpotFact | undefined;
  readonly counts: AdmissionCounts = { admitted: 0, discarded: 0 };

  admit(fact: SpotFact): boolean {
    const cur = this.current;
    if (cur !== undefined && !isNewer(fact.event_us, fact.seq, cur.event_us, cur.seq)) {
      this.counts.discarded++;
      return false;
    }
    this.current = fact;
    this.counts.admitted++;
    return true;
  }

  get value(): number | undefined {
    return this.current?.value;
  }
}
