/**
 * Typed errors. Only the entry point (`main`) turns them into exit codes and messages:
 * 2 = bad usage or bad input that stops the run, 1 = runtime failure.
 */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Bad input that stops the run (not a recording, missing file, unreadable config…). */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** A failure while running (network, auth, disk). */
export class RuntimeError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** Exit code for any thrown value: typed errors carry theirs, anything else is a runtime failure. */
export function exitCodeOf(err: unknown): number {
  if (err && typeof err === 'object' && 'exitCode' in err && typeof (err as { exitCode: unknown }).exitCode === 'number') {
    return (err as { exitCode: number }).exitCode;
  }
  return 1;
}
