/**
 * Where `--tui` draws, decided before the replay opens its NDJSON sink. Kept free of Ink and React
 * so the CLI can ask it without loading the UI.
 *
 * - stdout is a terminal: draw there. NDJSON that would go to stdout (no `--out`, or `--out -`)
 *   would scribble over the heatmap, so it is not written (the TUI says so when it ends; use
 *   `--out FILE` to keep it).
 * - else stderr is a terminal (`heatmap replay REC --tui > versions.ndjson`): draw on stderr, the
 *   NDJSON goes to stdout untouched.
 * - neither: there is no screen; say so, and the run goes on without the TUI.
 */

/** The terminal the TUI draws on. */
export interface TuiTerminal {
  readonly out: NodeJS.WriteStream;
  /** NDJSON bound for stdout is dropped, because stdout is the TUI's screen. */
  readonly dropsNdjson: boolean;
  /** stdin is a terminal: keys work, and the final frame stays until `q`. */
  readonly interactive: boolean;
}

/** The standard streams, injectable for tests. */
export interface StdStreams {
  readonly stdin: { readonly isTTY?: boolean };
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** The message when there is no terminal to draw on. */
export const NO_TERMINAL_NOTICE = 'heatmap: --tui needs a terminal, but stdout and stderr are not TTYs; replaying without it\n';

/**
 * Picks the TUI's terminal for NDJSON destination `out` (a path, `-` or undefined = stdout).
 * Returns undefined — after writing NO_TERMINAL_NOTICE to stderr — when there is none.
 */
export function chooseTuiTerminal(out: string | undefined, io: StdStreams = process, env: NodeJS.ProcessEnv = process.env): TuiTerminal | undefined {
  const interactive = io.stdin.isTTY === true;
  const term = io.stdout.isTTY
    ? { out: io.stdout, dropsNdjson: out === undefined || out === '-', interactive }
    : io.stderr.isTTY
      ? { out: io.stderr, dropsNdjson: false, interactive }
      : undefined;
  if (!term) io.stderr.write(NO_TERMINAL_NOTICE);
  else if (looksLikeCi(env)) io.stderr.write(CI_NOTICE);
  return term;
}

/** The message when a CI variable is set: Ink then draws only the final frame, and chalk no colours. */
export const CI_NOTICE = 'heatmap: --tui: a CI variable is set, so the terminal UI only draws its last frame; unset CI (env -u CI …) to watch live\n';

/** Ink's own test (package is-in-ci): CI, CONTINUOUS_INTEGRATION or any CI_* set, unless CI is 0/false. */
export function looksLikeCi(env: NodeJS.ProcessEnv): boolean {
  if (env.CI === '0' || env.CI === 'false') return false;
  return 'CI' in env || 'CONTINUOUS_INTEGRATION' in env || Object.keys(env).some((k) => k.startsWith('CI_'));
}
