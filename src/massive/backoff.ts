/**
 * Reconnect and retry timing shared by the REST poller and the WS clients: exponential backoff
 * with jitter, and the HTTP `Retry-After` header.
 */

/** Backoff settings (milliseconds). */
export interface BackoffOptions {
  /** First delay (default 1 s). */
  readonly baseMs: number;
  /** Largest delay (default 32 s). */
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 32_000 };

/**
 * Delay before retry number `attempt` (0-based): `min(cap, base × 2^attempt)`, scaled by a jitter
 * factor in [0.5, 1) so that many clients dropped at once do not reconnect in lockstep.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp * (0.5 + 0.5 * random()));
}

/**
 * `Retry-After` in milliseconds: delta-seconds (`120`) or an HTTP date, clamped to [0, capMs].
 * Undefined when absent or unparsable. `nowMs` is the wall clock in ms (for the date form).
 */
export function parseRetryAfter(value: string | null, nowMs: number, capMs: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+(?:\.\d+)?$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(capMs, Math.max(0, Math.round(ms)));
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
