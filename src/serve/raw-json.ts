/**
 * A tiny scanner over JSON text that finds value boundaries without parsing values, so recorded
 * payloads can be cut apart and served again byte for byte (19-digit ns integers included — a
 * `JSON.parse` + `JSON.stringify` round trip would round them). Input is assumed to be valid JSON
 * (it comes from recording lines written by our writer); on malformed input the functions return
 * undefined rather than throwing.
 */

/** Index just past the value starting at `i` (after whitespace), or -1 when malformed. */
function skipValue(s: string, i: number): number {
  i = skipWs(s, i);
  const c = s.charCodeAt(i);
  if (c === 34 /* " */) return skipString(s, i);
  if (c === 123 /* { */ || c === 91 /* [ */) {
    let depth = 0;
    for (; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      if (ch === 34) {
        i = skipString(s, i) - 1;
        if (i < 0) return -1;
      } else if (ch === 123 || ch === 91) depth++;
      else if (ch === 125 || ch === 93) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // number, true, false, null: up to the next delimiter
  const start = i;
  while (i < s.length) {
    const ch = s.charCodeAt(i);
    if (ch === 44 || ch === 93 || ch === 125 || ch === 32 || ch === 10 || ch === 13 || ch === 9) break;
    i++;
  }
  return i > start ? i : -1;
}

function skipString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const ch = s.charCodeAt(j);
    if (ch === 92 /* \ */) j++;
    else if (ch === 34) return j + 1;
  }
  return -1;
}

function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const ch = s.charCodeAt(i);
    if (ch !== 32 && ch !== 10 && ch !== 13 && ch !== 9) break;
    i++;
  }
  return i;
}

/** The raw elements of a top-level JSON array (`[a, b]` → `['a', 'b']`), or undefined. */
export function splitJsonArray(text: string): string[] | undefined {
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 91) return undefined;
  i = skipWs(text, i + 1);
  const out: string[] = [];
  if (text.charCodeAt(i) === 93) return out;
  for (;;) {
    const start = skipWs(text, i);
    const end = skipValue(text, start);
    if (end < 0) return undefined;
    out.push(text.slice(start, end));
    i = skipWs(text, end);
    const ch = text.charCodeAt(i);
    if (ch === 93) return out;
    if (ch !== 44) return undefined;
    i++;
  }
}

/** The raw value of member `key` of a top-level JSON object, or undefined when absent/malformed. */
export function rawMember(text: string, key: string): string | undefined {
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 123) return undefined;
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === 125) return undefined;
  for (;;) {
    const kStart = skipWs(text, i);
    const kEnd = skipString(text, kStart);
    if (kEnd < 0 || text.charCodeAt(kStart) !== 34) return undefined;
    i = skipWs(text, kEnd);
    if (text.charCodeAt(i) !== 58 /* : */) return undefined;
    const vStart = skipWs(text, i + 1);
    const vEnd = skipValue(text, vStart);
    if (vEnd < 0) return undefined;
    let name: unknown;
    try {
      name = JSON.parse(text.slice(kStart, kEnd));
    } catch {
      return undefined;
    }
    if (name === key) return text.slice(vStart, vEnd);
    i = skipWs(text, vEnd);
    const ch = text.charCodeAt(i);
    if (ch === 125) return undefined;
    if (ch !== 44) return undefined;
    i++;
  }
}
