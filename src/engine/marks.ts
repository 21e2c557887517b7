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

/** Layout of `LegMarks.cols`: numbers per ticker, and each one's offset. */
export const MARK_STRIDE = 8;
export const M_HAS = 0;
export const M_PRICE = 1;
export const M_EVENT_US = 2;
export const M_SEQ = 3;
export const M_SOURCE = 4;
export const M_CONFIDENCE = 5;
/** A quote mid's bid and ask (NaN for a trade). */
export const M_BID = 6;
export const M_ASK = 7;

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
  readonly counts: AdmissionCounts = { admitted: 0, discarded: 0 };
  /**
   * The current marks as numbers, `MARK_STRIDE` per ticker id side by side (a tile recompute reads
   * one cache line per leg): `M_HAS` (1 once the ticker has a mark; marks are never removed),
   * `M_PRICE`, `M_EVENT_US`, `M_SEQ`, `M_SOURCE` (`sourceCode`), `M_CONFIDENCE` (`legConfidence`),
   * `M_BID`/`M_ASK` (NaN unless a quote mid). They are the only copy: `get` makes a `LegMark` from
   * them when asked (an object per admitted fact was garbage for the young generation).
   */
  cols = new Float64Array(0);
  /** Leg facts seen per ticker, admitted or not (`countFact`), and each ticker's contract root. */
  private facts = new Float64Array(0);
  private readonly roots: string[] = [];

  /** The ticker's id (assigned on first sight). */
  idOf(ticker: string): number {
    let id = this.ids.get(ticker);
    if (id === undefined) {
      id = this.tickers.push(ticker) - 1;
      this.ids.set(ticker, id);
      const n = id + 1;
      this.cols = grown(this.cols, n * MARK_STRIDE);
      this.facts = grown(this.facts, n);
      this.roots.push('');
    }
    return id;
  }

  /** Counts a leg fact for ticker `id` (admitted or not) under its contract root. */
  countFact(id: number, root: string): void {
    if (this.facts[id]!++ === 0) this.roots[id] = root;
  }

  /** Leg facts counted by `countFact`, by contract root. */
  factsByRoot(): Map<string, number> {
    const out = new Map<string, number>();
    for (let id = 0; id < this.tickers.length; id++) {
      const n = this.facts[id]!;
      if (n > 0) out.set(this.roots[id]!, (out.get(this.roots[id]!) ?? 0) + n);
    }
    return out;
  }

  /** The ticker's id, undefined when it was never seen. */
  findId(ticker: string): number | undefined {
    return this.ids.get(ticker);
  }

  /** Number of tickers seen (ids are 0 … count − 1). */
  get count(): number {
    return this.tickers.length;
  }

  /** True once the ticker has a mark. */
  hasMark(id: number): boolean {
    return this.cols[id * MARK_STRIDE + M_HAS] === 1;
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
    const c = this.cols;
    const o = id * MARK_STRIDE;
    if (c[o + M_HAS] === 1 && !isNewer(fact.event_us, fact.seq, c[o + M_EVENT_US]!, c[o + M_SEQ]!)) {
      this.counts.discarded++;
      return false;
    }
    const quote = fact.bid !== undefined && fact.ask !== undefined;
    c[o + M_HAS] = 1;
    c[o + M_PRICE] = fact.price;
    c[o + M_EVENT_US] = fact.event_us;
    c[o + M_SEQ] = fact.seq;
    c[o + M_SOURCE] = sourceCode(fact.source);
    c[o + M_CONFIDENCE] = quote ? legConfidence(fact) : 1;
    c[o + M_BID] = quote ? fact.bid! : NaN;
    c[o + M_ASK] = quote ? fact.ask! : NaN;
    this.counts.admitted++;
    return true;
  }

  get(ticker: string): LegMark | undefined {
    const id = this.ids.get(ticker);
    if (id === undefined || !this.hasMark(id)) return undefined;
    const c = this.cols;
    const o = id * MARK_STRIDE;
    const mark = { price: c[o + M_PRICE]!, event_us: c[o + M_EVENT_US]!, seq: c[o + M_SEQ]!, source: sourceName(c[o + M_SOURCE]!) };
    const bid = c[o + M_BID]!;
    return bid === bid ? { ...mark, bid, ask: c[o + M_ASK]! } : mark;
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
