/**
 * Time as an input (DESIGN §6): the recorder's clock lines, on a scripted clock. A clock line is
 * written at a tick boundary B when nothing was stamped in (B − tick, B], and once more when the
 * session stops (the latest boundary, unless something was stamped at or after it).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClockLines } from '../src/recorder/clock.js';

const T0 = 1_763_735_400_000_000; // µs, on a 100 ms boundary
const MS = 1000;

describe('ClockLines (tick 100 ms)', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());
  const now = (): number => T0 + Date.now() * MS;

  it('writes a line at each boundary whose tick had no input, and a last one when stopped', () => {
    const written: number[] = [];
    const clock = new ClockLines(100, now, (t) => written.push(t));
    clock.start();
    vi.advanceTimersByTime(50);
    clock.noteStamp(now()); // a trade at 50 ms: the tick (0, 100] had input
    vi.advanceTimersByTime(80);
    clock.noteStamp(now()); // 130 ms: (100, 200] had input
    vi.advanceTimersByTime(320); // to 450 ms: (200, 300] and (300, 400] were empty
    expect(written.map((t) => (t - T0) / MS)).toEqual([300, 400]);
    vi.advanceTimersByTime(30);
    clock.noteStamp(now()); // 480 ms
    vi.advanceTimersByTime(50); // 530 ms: the boundary 500 had input, so no line yet…
    expect(written.map((t) => (t - T0) / MS)).toEqual([300, 400]);
    clock.stop(); // …but the session ends after it: a replay must run the tick at 500 too
    expect(written.map((t) => (t - T0) / MS)).toEqual([300, 400, 500]);
    vi.advanceTimersByTime(1000);
    expect(written.length).toBe(3); // stopped: no more lines
  });

  it('stopping right after a line adds nothing; a late timer writes only the latest boundary', () => {
    const written: number[] = [];
    const clock = new ClockLines(100, now, (t) => written.push(t));
    clock.start();
    vi.advanceTimersByTime(101); // the 100 ms boundary, empty
    expect(written.map((t) => (t - T0) / MS)).toEqual([100]);
    clock.stop();
    expect(written.length).toBe(1);
    // A busy event loop: the clock jumps 350 ms between two timer runs.
    const late: number[] = [];
    const jumpy = new ClockLines(100, now, (t) => late.push(t));
    jumpy.start();
    vi.setSystemTime(Date.now() + 350); // 451 ms while its timer waits for the 200 ms boundary
    vi.advanceTimersByTime(100); // it fires at 551 ms
    expect(late.map((t) => (t - T0) / MS)).toEqual([500]);
    jumpy.stop();
  });
});
