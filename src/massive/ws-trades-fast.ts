import type { LegFact } from '../engine/types.js';
import { parseOptionTicker } from './ticker.js';
import { msToUs } from './timestamps.js';
import { isValidPrice, toSequence } from './values.js';
import { tradeLegFact } from './ws.js';

/**
 * The fast path for the bulk of a recording: an options line that holds nothing but good trades,
 * `{"recv_us":…,"frame":[{"ev":"T","sym":"O:…","x":…,"p":…,"s":…,"c":[…],"t":…,"q":…},…]}`,
 * read straight into leg facts — no `JSON.parse`, no event objects.
 *
 * It answers only when the answer is certain to be what the general path (`JSON.parse`, then
 * `parseWsFrame`) gives for the line: the line is in a strict subset of JSON (no whitespace, no
 * escapes, every event a `T` with its keys in Massive's order, none repeated, no other key), and
 * every trade is good (valid ticker, price, time and sequence), so nothing would be counted in the
 * tally. For anything else it returns undefined and the caller takes the general path, which says
 * what is wrong. The subset is read by two sticky regular expressions (native code: about twice
 * as fast as `JSON.parse` building the event objects, on the bench day's options lines); a
 * captured number goes through `Number`, which reads every JSON number text as `JSON.parse` does.
 */
const CLOSE_BRACKET = 93;
const CLOSE_BRACE = 125;
const COMMA = 44;

/** A JSON number, whole (what `JSON.parse` accepts as one). */
const NUM = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`;
/** The line up to its first event. */
const HEAD_RE = new RegExp(String.raw`\{"recv_us":${NUM},"frame":\[`, 'y');
/**
 * One trade with its keys in Massive's order (`x`, `s`, `c` and `q` may be absent): `sym` (no
 * escapes, no control characters), `p`, `t` and `q` captured.
 */
const TRADE_RE = new RegExp(
  String.raw`\{"ev":"T","sym":"([^"\\\u0000-\u001f]*)"(?:,"x":${NUM})?,"p":(${NUM})(?:,"s":${NUM})?(?:,"c":\[(?:${NUM}(?:,${NUM})*)?\])?,"t":(${NUM})(?:,"q":(${NUM}))?\}`,
  'y',
);

/** The facts of an options line of good trades, in frame order; undefined → the general path. */
export function readTradeLine(text: string): LegFact[] | undefined {
  HEAD_RE.lastIndex = 0;
  if (!HEAD_RE.test(text)) return undefined;
  let pos = HEAD_RE.lastIndex;
  const facts: LegFact[] = [];
  if (text.charCodeAt(pos) !== CLOSE_BRACKET) {
    for (;;) {
      TRADE_RE.lastIndex = pos;
      const m = TRADE_RE.exec(text);
      if (m === null) return undefined;
      const fact = tradeFact(m[1]!, Number(m[2]), Number(m[3]), m[4]);
      if (fact === undefined) return undefined;
      facts.push(fact);
      pos = TRADE_RE.lastIndex;
      if (text.charCodeAt(pos) !== COMMA) break;
      pos++;
    }
  }
  // `]}` and the end of the line
  return pos + 2 === text.length && text.charCodeAt(pos) === CLOSE_BRACKET && text.charCodeAt(pos + 1) === CLOSE_BRACE ? facts : undefined;
}

/** A trade's fact, as `parseWsFrame` makes it; undefined unless the trade is good (nothing to count). */
function tradeFact(sym: string, p: number, t: number, q: string | undefined): LegFact | undefined {
  const parsed = parseOptionTicker(sym);
  if (!parsed.ok || !isValidPrice(p)) return undefined;
  const event_us = msToUs(t);
  if (event_us === null) return undefined;
  const seq = q === undefined ? 0 : toSequence(Number(q));
  if (seq === null) return undefined;
  return tradeLegFact(parsed.contract, p, event_us, seq);
}
