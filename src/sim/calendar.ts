/**
 * The trading calendar the simulator needs: US Eastern time (with DST), NYSE business days,
 * session open/close, monthly expirations, and a *business clock* that measures time to expiry in
 * trading days. Pure date arithmetic on given instants — never the wall clock.
 */

const DAY_MS = 86_400_000;
const MINUTE_US = 60_000_000;

/**
 * NYSE full-day holidays 2024–2027 (early closes are ignored: the simulator treats every session as
 * 09:30–16:00 ET). Outside these years only weekends are skipped.
 */
const NYSE_HOLIDAYS = new Set([
  '2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19', '2024-07-04',
  '2024-09-02', '2024-11-28', '2024-12-25',
  '2025-01-01', '2025-01-09', '2025-01-20', '2025-02-17', '2025-04-18', '2025-05-26', '2025-06-19',
  '2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25',
  '2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19', '2026-07-03',
  '2026-09-07', '2026-11-26', '2026-12-25',
  '2027-01-01', '2027-01-18', '2027-02-15', '2027-03-26', '2027-05-31', '2027-06-18', '2027-07-05',
  '2027-09-06', '2027-11-25', '2027-12-24',
]);

/** `YYYY-MM-DD` → days since 1970-01-01. */
function dayNumber(ymd: string): number {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

/** Days since 1970-01-01 → `YYYY-MM-DD`. */
function ymdOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `ymd` shifted by `n` calendar days. */
export function addDays(ymd: string, n: number): string {
  return ymdOfDay(dayNumber(ymd) + n);
}

/** 0 = Sunday … 6 = Saturday. */
function weekday(ymd: string): number {
  return (dayNumber(ymd) + 4) % 7; // 1970-01-01 was a Thursday
}

/** The n-th (1-based) given weekday of a month, as `YYYY-MM-DD`. */
function nthWeekday(year: number, month: number, dow: number, n: number): string {
  const first = ymdOfDay(Date.UTC(year, month - 1, 1) / DAY_MS);
  const offset = (dow - weekday(first) + 7) % 7;
  return addDays(first, offset + 7 * (n - 1));
}

/**
 * Minutes to add to Eastern local time to get UTC for a local date: 240 (EDT) from the second
 * Sunday of March to the first Sunday of November, else 300 (EST). Session hours never straddle
 * the 02:00 switch, so the date alone decides.
 */
export function etOffsetMinutes(ymd: string): number {
  const year = Number(ymd.slice(0, 4));
  const start = nthWeekday(year, 3, 0, 2);
  const end = nthWeekday(year, 11, 0, 1);
  return ymd >= start && ymd < end ? 240 : 300;
}

/** µs since the epoch of Eastern local `hh:mm` on `ymd`. */
export function easternUs(ymd: string, hh: number, mm: number): number {
  return (dayNumber(ymd) * DAY_MS + ((hh * 60 + mm + etOffsetMinutes(ymd)) * 60_000)) * 1000;
}

/** The Eastern calendar date of an instant. */
export function easternDate(us: number): string {
  const asEdt = ymdOfDay(Math.floor((us - 240 * MINUTE_US) / 1000 / DAY_MS));
  if (etOffsetMinutes(asEdt) === 240) return asEdt;
  return ymdOfDay(Math.floor((us - 300 * MINUTE_US) / 1000 / DAY_MS));
}

/** A weekday that is not an NYSE holiday. */
export function isBusinessDay(ymd: string): boolean {
  const dow = weekday(ymd);
  return dow !== 0 && dow !== 6 && !NYSE_HOLIDAYS.has(ymd);
}

/** The first business day on or after `ymd`. */
export function businessDayOnOrAfter(ymd: string): string {
  let d = ymd;
  while (!isBusinessDay(d)) d = addDays(d, 1);
  return d;
}

/** The last business day strictly before `ymd`. */
export function previousBusinessDay(ymd: string): string {
  let d = addDays(ymd, -1);
  while (!isBusinessDay(d)) d = addDays(d, -1);
  return d;
}

/**
 * Standard monthly expiration of a month: the third Friday, or the business day before it when
 * that Friday is a holiday (Good Friday).
 */
export function monthlyExpiration(year: number, month: number): string {
  const friday = nthWeekday(year, month, 5, 3);
  return isBusinessDay(friday) ? friday : previousBusinessDay(friday);
}

/** Regular session open (09:30 ET) of a business day. */
export function sessionOpenUs(ymd: string): number {
  return easternUs(ymd, 9, 30);
}

/** Regular session close (16:00 ET) of a business day. */
export function sessionCloseUs(ymd: string): number {
  return easternUs(ymd, 16, 0);
}

/** Share of a trading day's variance that accrues during the session (the rest overnight). */
export const SESSION_SHARE = 0.8;

/**
 * Trading-day clock. Variance — and so option time value — accrues mostly while the market is
 * open: business day i runs from i at its open to i + SESSION_SHARE at its close, then rises
 * linearly to i + 1 at the next business day's open (weekends and holidays add nothing extra).
 * Time to expiry in years = Δclock / 252. With calendar time instead, a 0DTE straddle at the open
 * would be worth about half of what SPX really shows.
 */
export class BusinessClock {
  /** Business days covered, ascending, with their session bounds. */
  readonly days: readonly string[];
  private readonly opens: Float64Array;
  private readonly closes: Float64Array;

  /** Covers every business day in [fromYmd, toYmd]. */
  constructor(fromYmd: string, toYmd: string) {
    const days: string[] = [];
    for (let d = fromYmd; d <= toYmd; d = addDays(d, 1)) if (isBusinessDay(d)) days.push(d);
    if (days.length === 0) throw new RangeError(`no business day between ${fromYmd} and ${toYmd}`);
    this.days = days;
    this.opens = Float64Array.from(days, sessionOpenUs);
    this.closes = Float64Array.from(days, sessionCloseUs);
  }

  /** Index of a covered business day (−1 when not covered). */
  indexOf(ymd: string): number {
    return this.days.indexOf(ymd);
  }

  /** Index of the last covered business day whose open is ≤ us (−1 before the first open). */
  private locate(us: number): number {
    const opens = this.opens;
    if (us < opens[0]!) return -1;
    let lo = 0;
    let hi = opens.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (opens[mid]! <= us) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Clock value of an instant, in trading days. Flat before the first covered open. */
  at(us: number): number {
    const i = this.locate(us);
    if (i < 0) return 0;
    const open = this.opens[i]!;
    const close = this.closes[i]!;
    if (us < close) return i + (SESSION_SHARE * (us - open)) / (close - open);
    const nextOpen = i + 1 < this.opens.length ? this.opens[i + 1]! : close + 17.5 * 60 * MINUTE_US;
    const overnight = Math.min(1, (us - close) / (nextOpen - close));
    return i + SESSION_SHARE + (1 - SESSION_SHARE) * overnight;
  }

  /** True during a regular session (09:30 ≤ t < 16:00 ET on a covered business day). */
  isOpen(us: number): boolean {
    const i = this.locate(us);
    return i >= 0 && us < this.closes[i]!;
  }
}
