/**
 * Builders for recording lines (DESIGN §4). Payloads are embedded verbatim as raw text — never
 * re-serialized — so 19-digit nanosecond integers survive byte for byte.
 */

/**
 * The streams of recording format v1, in replay tie-break order (by name). `clock` is optional:
 * a live session's clock lines (`{"recv_us":…}`, time as an input, DESIGN §6).
 */
export const STREAM_NAMES = ['chain', 'clock', 'indices', 'options', 'stocks'] as const;
export type StreamName = (typeof STREAM_NAMES)[number];

export function isStreamName(name: string): name is StreamName {
  return (STREAM_NAMES as readonly string[]).includes(name);
}

export interface ChainLineMeta {
  readonly recv_us: number;
  readonly req_us: number;
  readonly snapshot: number;
  readonly page: number;
  readonly last: boolean;
  /** Path + query only; never the API key. */
  readonly url: string;
  readonly status: number;
}

/** A REST chain-page line; `rawBody` is the HTTP body exactly as received. */
export function chainLine(meta: ChainLineMeta, rawBody: string): string {
  return (
    `{"recv_us":${meta.recv_us},"req_us":${meta.req_us},"snapshot":${meta.snapshot},"page":${meta.page},` +
    `"last":${meta.last},"url":${JSON.stringify(meta.url)},"status":${meta.status},"body":${rawBody}}`
  );
}

/** A WS frame line; `rawFrame` is the frame text exactly as received (a JSON array of events). */
export function wsLine(recv_us: number, rawFrame: string): string {
  return `{"recv_us":${recv_us},"frame":${rawFrame}}`;
}

export interface GapInfo {
  readonly stream: string;
  readonly from_us: number;
  readonly to_us: number;
  readonly reason: string;
}

/** A gap line: a window of one stream without data. */
export function gapLine(recv_us: number, gap: GapInfo): string {
  return (
    `{"recv_us":${recv_us},"gap":{"stream":${JSON.stringify(gap.stream)},"from_us":${gap.from_us},` +
    `"to_us":${gap.to_us},"reason":${JSON.stringify(gap.reason)}}}`
  );
}

/**
 * A clock line: the receive clock passed a tick boundary with no other input in the tick before it
 * (DESIGN §6, time is an input). It carries nothing else; the engine only advances its clock.
 */
export function clockLine(recv_us: number): string {
  return `{"recv_us":${recv_us}}`;
}
