/**
 * The chain snapshots `heatmap serve` answers from: recorded pages are collected per snapshot, and
 * a snapshot becomes servable once all its pages (0..last) were replayed — "as of the current
 * replay time". Its contracts are kept as their raw recorded JSON (served verbatim, ns integers
 * intact), deduplicated by ticker, and can be filtered, sorted and paginated like Massive does
 * (`limit` ≤ 250, `next_url` with an opaque cursor that carries the query).
 */
import { parseOptionTicker } from '../massive/ticker.js';
import { rawMember, splitJsonArray } from './raw-json.js';

/** One contract of a served snapshot. */
export interface ServedItem {
  readonly raw: string;
  readonly ticker: string;
  readonly expiration: string;
  readonly strike: number;
  readonly type: 'call' | 'put';
}

export interface ServedSnapshot {
  /** Serving id (increasing; loops of the recording keep counting). */
  readonly id: number;
  /** Receive time of its last page in the recording. */
  readonly recv_us: number;
  /** Sorted by ticker. */
  readonly items: readonly ServedItem[];
}

/** How many completed snapshots stay available for cursors. */
const RETAINED = 16;

export class ChainStore {
  private building: { snapshot: number; pages: Map<number, string[]>; last: number | undefined } | undefined;
  private readonly completed: ServedSnapshot[] = [];
  private nextId = 1;

  /** The newest complete snapshot, if any. */
  get current(): ServedSnapshot | undefined {
    return this.completed[this.completed.length - 1];
  }

  get(id: number): ServedSnapshot | undefined {
    return this.completed.find((s) => s.id === id);
  }

  /**
   * Adds one recorded page (a chain line with status 200). Returns true when it completed a
   * snapshot. A page of another snapshot number abandons an unfinished one (as the engine does).
   */
  addPage(snapshot: number, page: number, last: boolean, body: string, recv_us: number): boolean {
    if (this.building && this.building.snapshot !== snapshot) this.building = undefined;
    this.building ??= { snapshot, pages: new Map(), last: undefined };
    const b = this.building;
    const results = rawMember(body, 'results');
    b.pages.set(page, (results !== undefined ? splitJsonArray(results) : undefined) ?? []);
    if (last) b.last = page;
    if (b.last === undefined || b.pages.size !== b.last + 1) return false;
    this.building = undefined;
    const byTicker = new Map<string, ServedItem>();
    for (let p = 0; p <= b.last; p++) {
      for (const raw of b.pages.get(p) ?? []) {
        const item = describeItem(raw);
        if (item && !byTicker.has(item.ticker)) byTicker.set(item.ticker, item);
      }
    }
    const items = [...byTicker.values()].sort((x, y) => (x.ticker < y.ticker ? -1 : x.ticker > y.ticker ? 1 : 0));
    this.completed.push({ id: this.nextId++, recv_us, items });
    if (this.completed.length > RETAINED) this.completed.shift();
    return true;
  }
}

function describeItem(raw: string): ServedItem | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const details = (obj as { details?: unknown } | null)?.details;
  const ticker = typeof details === 'object' && details !== null ? (details as { ticker?: unknown }).ticker : undefined;
  if (typeof ticker !== 'string') return undefined;
  const parsed = parseOptionTicker(ticker);
  if (!parsed.ok) return undefined;
  const c = parsed.contract;
  return { raw, ticker, expiration: c.expiration, strike: c.strike, type: c.right === 'C' ? 'call' : 'put' };
}

/** The contract `ticker` of `snap` (binary search: items are sorted by ticker), if it has it. */
export function findItem(snap: ServedSnapshot, ticker: string): ServedItem | undefined {
  const items = snap.items;
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const t = items[mid]!.ticker;
    if (t === ticker) return items[mid];
    if (t < ticker) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** A chain query: filters, sort, page size — what the cursor carries from page to page. */
export interface ChainQuery {
  readonly exp: { readonly eq?: string; readonly gte?: string; readonly gt?: string; readonly lte?: string; readonly lt?: string };
  readonly strike: { readonly eq?: number; readonly gte?: number; readonly gt?: number; readonly lte?: number; readonly lt?: number };
  readonly type?: 'call' | 'put';
  readonly sort: 'ticker' | 'expiration_date' | 'strike_price';
  readonly order: 'asc' | 'desc';
  readonly limit: number;
}

/** Parses the query string of a first page; a string result is the error message (HTTP 400). */
export function parseChainQuery(params: URLSearchParams): ChainQuery | string {
  const limitText = params.get('limit');
  const limit = limitText === null ? 10 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) return `limit must be an integer between 1 and 250, got ${JSON.stringify(limitText)}`;
  const exp: Record<string, string> = {};
  const strike: Record<string, number> = {};
  for (const [suffix, op] of [['', 'eq'], ['.gte', 'gte'], ['.gt', 'gt'], ['.lte', 'lte'], ['.lt', 'lt']] as const) {
    const e = params.get(`expiration_date${suffix}`);
    if (e !== null) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(e)) return `expiration_date${suffix} must be YYYY-MM-DD, got ${JSON.stringify(e)}`;
      exp[op] = e;
    }
    const k = params.get(`strike_price${suffix}`);
    if (k !== null) {
      const n = Number(k);
      if (k.trim() === '' || !Number.isFinite(n)) return `strike_price${suffix} must be a number, got ${JSON.stringify(k)}`;
      strike[op] = n;
    }
  }
  const type = params.get('contract_type');
  if (type !== null && type !== 'call' && type !== 'put') return `contract_type must be call or put, got ${JSON.stringify(type)}`;
  const sort = params.get('sort') ?? 'ticker';
  if (sort !== 'ticker' && sort !== 'expiration_date' && sort !== 'strike_price') return `sort must be ticker, expiration_date or strike_price`;
  const order = params.get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') return 'order must be asc or desc';
  return { exp, strike, ...(type !== null ? { type } : {}), sort, order, limit: Math.min(limit, 250) };
}

/** The contracts of `snap` matching `q`, in the query's order. */
export function selectItems(snap: ServedSnapshot, q: ChainQuery): ServedItem[] {
  const e = q.exp;
  const k = q.strike;
  const out = snap.items.filter(
    (it) =>
      (e.eq === undefined || it.expiration === e.eq) &&
      (e.gte === undefined || it.expiration >= e.gte) &&
      (e.gt === undefined || it.expiration > e.gt) &&
      (e.lte === undefined || it.expiration <= e.lte) &&
      (e.lt === undefined || it.expiration < e.lt) &&
      (k.eq === undefined || it.strike === k.eq) &&
      (k.gte === undefined || it.strike >= k.gte) &&
      (k.gt === undefined || it.strike > k.gt) &&
      (k.lte === undefined || it.strike <= k.lte) &&
      (k.lt === undefined || it.strike < k.lt) &&
      (q.type === undefined || it.type === q.type),
  );
  if (q.sort !== 'ticker') {
    const key = q.sort === 'expiration_date' ? (it: ServedItem) => it.expiration : (it: ServedItem) => it.strike;
    out.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      return x < y ? -1 : x > y ? 1 : a.ticker < b.ticker ? -1 : 1;
    });
  }
  if (q.order === 'desc') out.reverse();
  return out;
}

/** Cursor = base64url of the snapshot id, the offset and the query (opaque to clients, as Massive's). */
export function encodeCursor(id: number, offset: number, q: ChainQuery): string {
  return Buffer.from(JSON.stringify({ s: id, o: offset, q }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { id: number; offset: number; q: ChainQuery } | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s?: unknown; o?: unknown; q?: unknown };
    if (!Number.isSafeInteger(v.s) || !Number.isSafeInteger(v.o) || (v.o as number) < 0 || !isChainQuery(v.q)) return undefined;
    return { id: v.s as number, offset: v.o as number, q: v.q };
  } catch {
    return undefined;
  }
}

function isChainQuery(v: unknown): v is ChainQuery {
  if (typeof v !== 'object' || v === null) return false;
  const q = v as Record<string, unknown>;
  return (
    typeof q.exp === 'object' && q.exp !== null && typeof q.strike === 'object' && q.strike !== null &&
    (q.sort === 'ticker' || q.sort === 'expiration_date' || q.sort === 'strike_price') &&
    (q.order === 'asc' || q.order === 'desc') &&
    Number.isInteger(q.limit) && (q.limit as number) >= 1 && (q.limit as number) <= 250
  );
}
