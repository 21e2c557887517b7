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

export interface AdmissionCounts {
  admitted: number;
  discarded: number;
}

/** The leg registers: ticker → newest admitted mark. */
export class LegMarks {
  private readonly marks = new Map<string, LegMark>();
  readonly counts: AdmissionCounts = { admitted: 0, discarded: 0 };

  /** Applies Rules A/B/C; returns true when the fact was admitted (the slot changed). */
  admit(fact: LegFact): boolean {
    const cur = this.marks.get(fact.contract.ticker);
    if (cur !== undefined && !isNewer(fact.event_us, fact.seq, cur.event_us, cur.seq)) {
      this.counts.discarded++;
      return false;
    }
    const mark: LegMark =
      fact.bid !== undefined && fact.ask !== undefined
        ? { price: fact.price, event_us: fact.event_us, seq: fact.seq, source: fact.source, bid: fact.bid, ask: fact.ask }
        : { price: fact.price, event_us: fact.event_us, seq: fact.seq, source: fact.source };
    this.marks.set(fact.contract.ticker, mark);
    this.counts.admitted++;
    return true;
  }

  get(ticker: string): LegMark | undefined {
    return this.marks.get(ticker);
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
