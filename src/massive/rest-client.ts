/**
 * HTTP client for one page of the REST options chain snapshot, `GET /v3/snapshot/options/{u}`
 * (massive-wire.md §2). It never throws for what the server or the network does: every request
 * ends in a typed outcome the poller can record (a page, an HTTP failure, a network failure, or a
 * rejected key). The key travels only in the `Authorization: Bearer` header — never in a URL —
 * and `next_url` is followed against our own base URL, so the key is never sent to another host.
 */
import { parseRetryAfter } from './backoff.js';
import { parseJsonLossless } from './timestamps.js';
import { redactError, type Redactor } from './redact.js';

/** Server-side filter of a chain request (dotted keys on the wire: `strike_price.gte`, …). */
export interface ChainFilter {
  readonly expirationGte?: string;
  readonly expirationLte?: string;
  readonly strikeGte?: number;
  readonly strikeLte?: number;
}

/** Largest page Massive serves (`x-massive-paginate.limit.max`). */
export const CHAIN_PAGE_LIMIT = 250;

/**
 * Path + query of the first page: `/v3/snapshot/options/I:SPX?expiration_date.gte=…&limit=250`.
 * The Python client's `strike_price_gte` spelling is not translated inside `params` (client-python
 * #477), so we write the dotted keys ourselves.
 */
export function chainSnapshotPath(underlying: string, filter: ChainFilter, limit = CHAIN_PAGE_LIMIT): string {
  const q: string[] = [];
  if (filter.expirationGte !== undefined) q.push(`expiration_date.gte=${filter.expirationGte}`);
  if (filter.expirationLte !== undefined) q.push(`expiration_date.lte=${filter.expirationLte}`);
  if (filter.strikeGte !== undefined) q.push(`strike_price.gte=${formatStrike(filter.strikeGte)}`);
  if (filter.strikeLte !== undefined) q.push(`strike_price.lte=${formatStrike(filter.strikeLte)}`);
  q.push(`limit=${limit}`);
  // `I:SPX` is sent with its colon, as Massive's own docs show it.
  return `/v3/snapshot/options/${encodeURIComponent(underlying).replace(/%3A/gi, ':')}?${q.join('&')}`;
}

function formatStrike(k: number): string {
  return String(Math.round(k * 1000) / 1000);
}

/** Where the next page is: path + query on our base URL, and the identity used for loop detection. */
export interface NextLink {
  readonly pathQuery: string;
  /** The `cursor` parameter (or the whole path + query when there is none). */
  readonly cursorId: string;
}

interface Timing {
  readonly req_us: number;
  readonly recv_us: number;
  /** Path + query requested (never holds the key). */
  readonly url: string;
}

/** One request's outcome. */
export type ChainFetch =
  /** HTTP 200 with a JSON object body: recordable as a chain line. */
  | (Timing & { kind: 'page'; status: 200; body: string; json: Record<string, unknown>; next: NextLink | null })
  /** Any other HTTP answer that is worth retrying (429, 5xx, other 4xx, a 200 that is not JSON). */
  | (Timing & { kind: 'http'; status: number; reason: string; retryAfterMs: number | undefined; detail: string })
  /**
   * No complete HTTP answer: refused, reset, timed out, or torn in the middle of the body. `code`
   * is the system error code (`ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`…), `timeout` when the
   * request deadline passed, undefined when the error carries none.
   */
  | (Timing & { kind: 'network'; reason: 'network'; detail: string; code: string | undefined })
  /** 401/403: the key is unknown or not entitled. Not retried. */
  | (Timing & { kind: 'auth'; status: number; detail: string });

export interface FetchPageOptions {
  /** Base URL, e.g. `https://api.massive.com` (a path prefix is kept). */
  readonly baseUrl: string;
  readonly pathQuery: string;
  readonly apiKey: string;
  readonly now: () => number;
  readonly redact: Redactor;
  readonly timeoutMs: number;
  readonly retryAfterCapMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Fetches one page. The body is read completely before `recv_us` is stamped, so a torn response
 * (the socket closed mid-body) is a `network` outcome and never a half page. Payload text that
 * contains the key is redacted before it leaves this function.
 */
export async function fetchChainPage(o: FetchPageOptions): Promise<ChainFetch> {
  const url = o.pathQuery;
  const req_us = o.now();
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  let res: Response;
  let text: string;
  try {
    res = await fetch(joinUrl(o.baseUrl, o.pathQuery), {
      headers: { authorization: `Bearer ${o.apiKey}`, accept: 'application/json', 'user-agent': 'heatmap-recorder/0.1' },
      signal,
      redirect: 'error',
    });
    text = await res.text();
  } catch (err) {
    if (o.signal?.aborted) throw err; // the caller stopped: not a failure to record
    const detail = timeout.aborted ? `no complete answer within ${o.timeoutMs} ms` : redactError(err, o.redact);
    return { kind: 'network', reason: 'network', req_us, recv_us: o.now(), url, detail, code: timeout.aborted ? 'timeout' : errorCode(err) };
  }
  const recv_us = o.now();
  const body = o.redact(text);
  if (res.status === 401 || res.status === 403) {
    return { kind: 'auth', status: res.status, req_us, recv_us, url, detail: snippet(body) };
  }
  if (res.status !== 200) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now(), o.retryAfterCapMs);
    return { kind: 'http', status: res.status, reason: `http_${res.status}`, retryAfterMs, req_us, recv_us, url, detail: snippet(body) };
  }
  let json: unknown;
  try {
    json = parseJsonLossless(body);
  } catch {
    json = undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    // An HTML error page with status 200 (proxies do this): never embed it in a recording line.
    return { kind: 'http', status: 200, reason: 'http', retryAfterMs: undefined, req_us, recv_us, url, detail: `body is not a JSON object: ${snippet(body)}` };
  }
  const obj = json as Record<string, unknown>;
  return { kind: 'page', status: 200, req_us, recv_us, url, body, json: obj, next: nextLinkOf(obj['next_url']) };
}

/**
 * `next_url` → where to go next. Only its path and query are used (the official Python client does
 * the same), resolved on our base URL; an `apiKey` parameter, should a server echo one, is dropped.
 */
export function nextLinkOf(nextUrl: unknown): NextLink | null {
  if (typeof nextUrl !== 'string' || nextUrl === '') return null;
  let u: URL;
  try {
    u = new URL(nextUrl, 'http://next.invalid');
  } catch {
    return null;
  }
  u.searchParams.delete('apiKey');
  const pathQuery = u.pathname + u.search;
  return { pathQuery, cursorId: u.searchParams.get('cursor') ?? pathQuery };
}

/** The system error code of a failed fetch: undici keeps it on `cause` (or on the error itself). */
function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
  }
  return undefined;
}

function joinUrl(base: string, pathQuery: string): string {
  return base.replace(/\/+$/, '') + pathQuery;
}

/** A short one-line excerpt of a body for messages (already redacted). */
function snippet(body: string): string {
  const one = body.replace(/\s+/g, ' ').trim();
  return one.length > 160 ? `${one.slice(0, 157)}...` : one === '' ? '(empty body)' : one;
}
