import type { PublishedTile } from '../engine/types.js';

/**
 * The SSE wire format of the heatmap streams (DESIGN §3, SSE paragraph). One stream per strategy:
 *
 * ```
 * retry: 2000
 *
 * event: snapshot
 * id: 41
 * data: {"strategy":"fly","version":41,"at_us":…,"hash":"…","tiles":[…sorted by key…]}
 *
 * event: diff
 * id: 42
 * data: {"type":"version","strategy":"fly","version":42,…}      ← the NDJSON line, byte for byte
 *
 * : hb 1763740812000
 *
 * event: end
 * data: {"reason":"shutdown","strategy":"fly","version":42}
 * ```
 *
 * Every event with an `id:` carries the strategy's version at that point, so `Last-Event-ID` is
 * always "the version I hold". Events without `id:` (`gap`, `failed`, `resync`, `end`) leave the
 * browser's last event id unchanged. Payloads are single-line JSON, so each event has exactly one
 * `data:` line.
 */

/** Milliseconds a browser EventSource waits before reconnecting (sent once per connection). */
export const RETRY_MS = 2000;

/** The first bytes of every stream: the reconnect delay. */
export function retryField(ms: number = RETRY_MS): string {
  return `retry: ${ms}\n\n`;
}

/** One SSE event. `data` must not contain a line break (ours is always one-line JSON). */
export function sseEvent(event: string, data: string, id?: number): string {
  return id === undefined ? `event: ${event}\ndata: ${data}\n\n` : `event: ${event}\nid: ${id}\ndata: ${data}\n\n`;
}

/** A comment line: ignored by clients, keeps proxies and idle timeouts from closing the stream. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}

/**
 * Parses a `Last-Event-ID` (header or `?last_event_id=`): a non-negative integer version, else
 * undefined (a missing or foreign id means "start with a snapshot").
 */
export function parseLastEventId(value: string | readonly string[] | null | undefined): number | undefined {
  const text = typeof value === 'string' ? value : value?.[0];
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^\d{1,15}$/.test(t)) return undefined;
  return Number(t);
}
