/**
 * API-key redaction (DESIGN §4: the key never reaches a file, a log line or an error message).
 * Every message the recorder logs or throws passes through a redactor, and every payload it
 * records is checked too: a server that echoes the key (an error page quoting the request, a
 * `next_url` carrying `apiKey=`) must not smuggle it into the recording.
 */

/** The text that replaces the key. */
export const REDACTED = '***';

/** A function that replaces every occurrence of `apiKey` in a string by `***`. */
export type Redactor = (text: string) => string;

/**
 * Keys shorter than this are not redacted. Massive keys are 32 characters; a short placeholder
 * such as `any` (what `heatmap serve` accepts) is no secret, and replacing every `k` or `any` in
 * market data would corrupt the recording ("ticker" → "tic***er").
 */
export const MIN_REDACTED_KEY_LENGTH = 8;

/** Builds the redactor for one key (a key shorter than MIN_REDACTED_KEY_LENGTH redacts nothing). */
export function makeRedactor(apiKey: string): Redactor {
  if (apiKey.length < MIN_REDACTED_KEY_LENGTH) return (text) => text;
  return (text) => (text.includes(apiKey) ? text.split(apiKey).join(REDACTED) : text);
}

/** The message of any thrown value, redacted and on one line. */
export function redactError(err: unknown, redact: Redactor): string {
  const msg = err instanceof Error ? describeCause(err) : String(err);
  return redact(msg).replace(/\s*\n\s*/g, ' ');
}

/** `fetch failed (ECONNREFUSED)`: undici hides the useful part in `cause`. */
function describeCause(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message} (${typeof code === 'string' ? code : cause.message})`;
  }
  return err.message;
}
