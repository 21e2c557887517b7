/**
 * Request targets (`req.url`, the raw text of the request line) as `heatmap serve` accepts them.
 * `new URL` throws on some targets a client can send (`//`, `*`, `http://[`) and
 * `decodeURIComponent` on malformed percent-encodings (`%ZZ`, a lone `%`, escapes that are not
 * UTF-8): checked here up front, they become a 400 instead of an exception.
 */

/** Longer targets are refused. Node's own parser stops at ~16 KiB for the request line + headers. */
export const MAX_TARGET_LENGTH = 8192;

export interface RequestTarget {
  readonly pathname: string;
  readonly searchParams: URLSearchParams;
}

/** Parses a raw request target; a string result is why it is refused (the HTTP 400 message). */
export function parseRequestTarget(raw: string): RequestTarget | string {
  if (raw.length > MAX_TARGET_LENGTH) return `Request URL too long (${raw.length} characters, at most ${MAX_TARGET_LENGTH})`;
  // URLSearchParams would quietly keep `%ZZ` or decode bad UTF-8 to U+FFFD: refuse the whole URL instead.
  if (safeDecode(raw) === undefined) return 'Malformed percent-encoding in the request URL';
  try {
    // Origin-form (`/path?query`) is joined to a fixed origin, so `//x/…` stays a path instead of naming a host.
    const url = raw.startsWith('/') ? new URL(`http://serve.invalid${raw}`) : new URL(raw);
    return { pathname: url.pathname, searchParams: url.searchParams };
  } catch {
    return 'Malformed request URL';
  }
}

/** `decodeURIComponent`, with undefined for a malformed percent-encoding instead of a URIError. */
export function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
