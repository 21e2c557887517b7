import type { EngineInput } from '../engine/types.js';
import type { Tally } from '../engine/tally.js';
import { parseChainBody } from '../massive/chain.js';
import { parseJsonLossless } from '../massive/timestamps.js';
import { parseWsFrame, type WsCluster } from '../massive/ws.js';
import { readTradeLine } from '../massive/ws-trades-fast.js';
import type { RawLine } from '../recording/reader.js';

/**
 * Turns recording lines into engine inputs: one line (a WS frame, a REST page or a gap) is one
 * input. Bad lines are counted in the tally with a reason and skipped; nothing here throws on data.
 */

const CLUSTER: Record<string, WsCluster> = { options: 'options', indices: 'indices', stocks: 'stocks' };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export class LineDecoder {
  constructor(
    /** Spot ticker of the recording's underlying (`I:SPX`, or an ETF like `SPY`). */
    private readonly spotTicker: string,
    /** Where bad lines and rejected payload values are counted. */
    readonly bad: Tally,
  ) {}

  /** Decodes one line; undefined when the line is bad (counted). */
  decode(line: RawLine): EngineInput | undefined {
    if (line.stream === 'options') {
      // most lines: good trades only, read without JSON.parse (the same facts; anything else → below)
      const facts = readTradeLine(line.text);
      if (facts !== undefined) return { type: 'facts', recv_us: line.recv_us, facts };
    }
    let obj: unknown;
    try {
      // Chain bodies carry 19-digit ns integers: parse those losslessly. WS frames are ms only.
      obj = line.stream === 'chain' ? parseJsonLossless(line.text) : JSON.parse(line.text);
    } catch {
      this.bad.add('bad_json', `${line.file}:${line.line_no}`);
      return undefined;
    }
    if (!isObj(obj)) {
      this.bad.add('line_not_object', `${line.file}:${line.line_no}`);
      return undefined;
    }
    if ('gap' in obj) return this.decodeGap(obj.gap, line);
    if (line.stream === 'chain') return this.decodeChain(obj, line);
    if (line.stream === 'clock') return this.decodeClock(obj, line);
    const cluster = CLUSTER[line.stream];
    if (!cluster || !('frame' in obj)) {
      this.bad.add('line_without_frame', `${line.file}:${line.line_no}`);
      return undefined;
    }
    const parsed = parseWsFrame(obj.frame, cluster, this.bad, this.spotTicker);
    return { type: 'facts', recv_us: line.recv_us, facts: parsed.facts };
  }

  /** A clock line advances the engine clock and nothing else: an input without facts. */
  private decodeClock(obj: Obj, line: RawLine): EngineInput | undefined {
    if (Object.keys(obj).length !== 1) {
      this.bad.add('clock_bad_line', `${line.file}:${line.line_no}`);
      return undefined;
    }
    return { type: 'facts', recv_us: line.recv_us, facts: [] };
  }

  private decodeGap(gap: unknown, line: RawLine): EngineInput | undefined {
    // A gap ends after it starts; a reversed one is damage, not a window (counted, not passed on).
    if (!isObj(gap) || !isInt(gap.from_us) || !isInt(gap.to_us) || gap.from_us > gap.to_us || typeof gap.reason !== 'string') {
      this.bad.add('bad_gap', `${line.file}:${line.line_no}`);
      return undefined;
    }
    const stream = typeof gap.stream === 'string' ? gap.stream : line.stream;
    return { type: 'gap', recv_us: line.recv_us, stream, from_us: gap.from_us, to_us: gap.to_us, reason: gap.reason };
  }

  private decodeChain(obj: Obj, line: RawLine): EngineInput | undefined {
    const { snapshot, page, last, status } = obj;
    if (!isInt(snapshot) || !isInt(page) || typeof last !== 'boolean' || !('body' in obj)) {
      this.bad.add('chain_bad_envelope', `${line.file}:${line.line_no}`);
      return undefined;
    }
    if (status !== undefined && status !== 200) {
      // The reason key is part of the summary: an HTTP status code, or one fixed key for anything
      // else (a recorded `status` could be any JSON value, of any size).
      const isCode = typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599;
      this.bad.add(isCode ? `chain_http_${status}` : 'chain_bad_status', `${line.file}:${line.line_no}`);
      return undefined;
    }
    return parseChainBody(obj.body, { recv_us: line.recv_us, snapshot, page, last }, this.bad);
  }
}
