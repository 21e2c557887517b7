/**
 * The recorder's receive clock. Receive times (`recv_us`) decide replay order, so every stream of a
 * recording must be non-decreasing in them: the clock never goes back, even when the wall clock
 * is stepped (NTP), and all streams share one clock so their order across files is the order in
 * which the process received them.
 */

/** Wall-clock µs since the epoch with sub-ms resolution (monotonic within the process). */
export function wallClockUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** Wraps `now` so that it never returns less than it returned before. */
export function monotonicClock(now: () => number): () => number {
  let last = -Infinity;
  return () => {
    const t = Math.floor(now());
    if (t > last) last = t;
    return last;
  };
}
