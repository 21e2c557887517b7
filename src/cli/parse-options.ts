import { UsageError } from '../errors.js';

const DURATION_RE = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Parses `90s`, `10m`, `2h`, `6h30m`, `250ms` into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m || text.trim() === '' || m.slice(1).every((g) => g === undefined)) {
    throw new UsageError(`${flag} "${text}" is not a duration — use forms like 90s, 10m, 2h, 6h30m`);
  }
  const [, h, mi, s, ms] = m;
  return ((Number(h ?? 0) * 60 + Number(mi ?? 0)) * 60 + Number(s ?? 0)) * 1000 + Number(ms ?? 0);
}

/** Parses a strictly positive integer flag. */
export function parsePositiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} "${text}" must be a positive integer`);
  }
  return Number(text);
}

/** Parses a non-negative integer flag (seeds, counts). */
export function parseNonNegativeInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} "${text}" must be a non-negative integer`);
  }
  return Number(text);
}

/** Parses a finite positive number flag. */
export function parsePositiveNumber(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} "${text}" must be a positive number`);
  }
  return n;
}

/** Parses a TCP port (1..65535; 0 = pick a free one). */
export function parsePort(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`${flag} "${text}" must be a TCP port (0-65535)`);
  }
  return Number(text);
}

/** Parses an ISO-8601 instant (`2025-11-21T15:00:00Z`) into µs since the epoch. */
export function parseIsoToUs(text: string, flag: string): number {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    throw new UsageError(`${flag} "${text}" is not an ISO-8601 time — e.g. 2025-11-21T15:00:00Z`);
  }
  return ms * 1000;
}

/** Formats µs since the epoch as ISO-8601 with millisecond precision (for humans). */
export function formatUs(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** The `--format 1|2` flag (DESIGN §3.1): format 2 is the default. */
export const FORMAT_FLAG = ['--format <1|2>', 'published-version stream format: 2 (default; compact: slots, marks, tile rows) or 1 (every upsert in full)'] as const;

/** Validates `--format`; undefined means the default, 2. */
export function parseFormat(text: string | undefined): 1 | 2 {
  if (text === undefined || text === '2') return 2;
  if (text === '1') return 1;
  throw new UsageError(`--format "${text}" must be 1 or 2`);
}

/** The `--max-line-mib N` flag: the reader's bound on one line (default 64 MiB). */
export const MAX_LINE_FLAG = ['--max-line-mib <N>', 'skip (and count as line_too_long) recording lines longer than N MiB (default 64)'] as const;

/** Validates `--max-line-mib`; undefined keeps the reader's default. */
export function parseMaxLineBytes(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Math.round(parsePositiveNumber(text, '--max-line-mib') * 1024 * 1024);
}

/** Collects a repeatable flag's values in order. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--strategy-module FILE` (repeatable): a user's strategy module (src/strategies/modules.ts). */
export const STRATEGY_MODULE_FLAG = [
  '--strategy-module <file>',
  'run the strategy an ES module exports (repeatable; path relative to the working directory; --strategies selects it by its name). See the README, "Strategy modules"',
  collect,
] as const;
