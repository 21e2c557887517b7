import { parseOptionTicker } from '../massive/ticker.js';
import type { ImportEvent } from './csv.js';
import { chainLine } from '../recording/lines.js';

/**
 * The state of the option chain during an import, rendered as REST chain-snapshot pages in Massive's
 * body shape (`GET /v3/snapshot/options/{underlying}`, massive-wire.md §2) so the normal decoder
 * and engine take them like recorded pages: ≤ 250 results per page sorted by ticker, `next_url`
 * while pages follow, ns timestamps as raw integer literals (copied digit for digit from the file).
 *
 * Per contract it keeps the last quote (quotes_v1), the last trade (trades_v1), and the last
 * aggregate bar (day_aggs_v1: `day` block; its close also stands in as `last_trade`, stamped at
 * `window_start`, until a later trade replaces it). Each contract's JSON is cached and rebuilt
 * only when it changed, so a snapshot costs a string join.
 */

type Trade = Extract<ImportEvent, { k: 'T' }>;
type Quote = Extract<ImportEvent, { k: 'Q' }>;
type Agg = Extract<ImportEvent, { k: 'A' }>;

interface ContractState {
  readonly details: string;
  quote?: Quote;
  trade?: { p: number; s: number | null; x: number | null; c: number[] | null; ns: string };
  day?: Agg;
  json?: string;
}

/** Massive's maximum page size (what a recorder uses). */
export const PAGE_LIMIT = 250;

const num = (n: number): string => JSON.stringify(n);

export class ChainBook {
  private readonly contracts = new Map<string, ContractState>();
  private sorted: string[] | null = [];
  private changed = false;

  constructor(private readonly underlying: string) {}

  /** True when something changed since the last rendered snapshot. */
  get isDirty(): boolean {
    return this.changed;
  }

  get size(): number {
    return this.contracts.size;
  }

  applyTrade(ev: Trade): void {
    const st = this.state(ev.sym);
    st.trade = { p: ev.p, s: ev.s, x: ev.x, c: ev.c, ns: ev.ns };
    this.touch(st);
  }

  applyQuote(ev: Quote): void {
    const st = this.state(ev.sym);
    st.quote = ev;
    this.touch(st);
  }

  applyAgg(ev: Agg): void {
    const st = this.state(ev.sym);
    st.day = ev;
    st.trade = { p: ev.c, s: null, x: null, c: null, ns: ev.ns };
    this.touch(st);
  }

  /**
   * The recording lines (chain stream) of one full snapshot at `recv_us`: every contract seen so
   * far, with its state as of now. Clears the dirty flag.
   */
  snapshotLines(snapshot: number, recv_us: number): string[] {
    this.changed = false;
    if (this.sorted === null) this.sorted = [...this.contracts.keys()].sort();
    const tickers = this.sorted;
    const pages = Math.max(1, Math.ceil(tickers.length / PAGE_LIMIT));
    const base = `/v3/snapshot/options/${this.underlying}`;
    const lines: string[] = [];
    for (let page = 0; page < pages; page++) {
      const items: string[] = [];
      for (const t of tickers.slice(page * PAGE_LIMIT, (page + 1) * PAGE_LIMIT)) items.push(this.render(this.contracts.get(t)!));
      const last = page === pages - 1;
      const next = last ? '' : `,"next_url":${JSON.stringify(`https://api.massive.com${base}?cursor=${cursorOf(snapshot, page + 1)}`)}`;
      const body = `{"request_id":"import-${snapshot}-${page}","results":[${items.join(',')}],"status":"OK"${next}}`;
      const url = page === 0 ? `${base}?limit=${PAGE_LIMIT}` : `${base}?cursor=${cursorOf(snapshot, page)}`;
      lines.push(chainLine({ recv_us, req_us: recv_us, snapshot, page, last, url, status: 200 }, body));
    }
    return lines;
  }

  private state(ticker: string): ContractState {
    let st = this.contracts.get(ticker);
    if (!st) {
      st = { details: detailsOf(ticker) };
      this.contracts.set(ticker, st);
      this.sorted = null;
    }
    return st;
  }

  private touch(st: ContractState): void {
    st.json = undefined;
    this.changed = true;
  }

  private render(st: ContractState): string {
    if (st.json !== undefined) return st.json;
    const parts: string[] = [];
    const d = st.day;
    if (d) {
      const f = (k: string, v: number | null): string => (v === null ? '' : `"${k}":${num(v)},`);
      parts.push(`"day":{"close":${num(d.c)},${f('high', d.h)}"last_updated":${d.ns},${f('low', d.l)}${f('open', d.o)}${f('volume', d.v)}`.replace(/,$/, '') + '}');
    }
    parts.push(st.details);
    const q = st.quote;
    if (q) {
      const f = (k: string, v: number | null): string => (v === null ? '' : `"${k}":${num(v)},`);
      parts.push(`"last_quote":{"ask":${num(q.ap)},${f('ask_exchange', q.ax)}${f('ask_size', q.as)}"bid":${num(q.bp)},${f('bid_exchange', q.bx)}${f('bid_size', q.bs)}"last_updated":${q.ns}}`);
    }
    const t = st.trade;
    if (t) {
      const conds = t.c === null ? '' : `"conditions":[${t.c.join(',')}],`;
      const x = t.x === null ? '' : `"exchange":${t.x},`;
      const size = t.s === null ? '' : `,"size":${num(t.s)}`;
      parts.push(`"last_trade":{${conds}${x}"price":${num(t.p)},"sip_timestamp":${t.ns}${size}}`);
    }
    parts.push(`"underlying_asset":{"ticker":${JSON.stringify(this.underlying)}}`);
    st.json = `{${parts.join(',')}}`;
    return st.json;
  }
}

/** `"details":{…}` from the ticker (the flat files carry no contract reference data). */
function detailsOf(ticker: string): string {
  const p = parseOptionTicker(ticker);
  if (!p.ok) return `"details":{"ticker":${JSON.stringify(ticker)}}`;
  const c = p.contract;
  return (
    `"details":{"contract_type":"${c.right === 'C' ? 'call' : 'put'}","expiration_date":"${c.expiration}",` +
    `"strike_price":${num(c.strike)},"ticker":${JSON.stringify(ticker)}}`
  );
}

/** An opaque cursor, base64url like Massive's (it only has to be stable). */
function cursorOf(snapshot: number, page: number): string {
  return Buffer.from(`import=1&snapshot=${snapshot}&page=${page}`).toString('base64url');
}
