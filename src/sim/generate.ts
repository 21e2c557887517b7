/**
 * `generateSim`: a seeded synthetic session written as recording lines (DESIGN §4), each stream in
 * receive order — chain snapshots, WS option frames (trades, and quotes with `quotes` > 0), index
 * `V` values.
 *
 * Determinism: every random draw comes from a stream derived from the seed and a component label
 * ('spot', 'trades', 'chain'…), consumed in a fixed order, and no clock is read; so the same seed and
 * parameters give the same lines, and changing e.g. the snapshot cadence leaves the trades alone.
 */
import type { StreamName } from '../recording/lines.js';
import { wsLine } from '../recording/lines.js';
import { formatCents } from './format.js';
import { buildMarket, cellOf, spotOfCell, type SimMarket } from './market.js';
import type { SimParams } from './params.js';
import { deriveRng } from './rng.js';
import { buildChainStatics, buildSnapshot, seedPriorTrades } from './snapshot.js';
import { TradeTape } from './tape.js';
import { QuoteFeed } from './quote-feed.js';
import { FrameBatcher, OrderFlow } from './trades.js';

/** Where the lines go: a `RecordingWriter`, or anything with `writeLine` (tests). */
export interface SimSink {
  writeLine(stream: StreamName, line: string): void;
  /** Optional back-pressure: awaited when `pendingBytes` grows large. */
  drain?(): Promise<void>;
  readonly pendingBytes?: number;
}

/** Progress of a run, in simulated time. */
export interface SimProgress {
  readonly sim_us: number;
  readonly total_us: number;
  readonly trades: number;
  readonly lines: number;
}

/** What a run produced. */
export interface SimStats {
  readonly lines: { chain: number; indices: number; options: number };
  readonly trades: number;
  /** WS option quote events (`--quotes`). */
  readonly quotes: number;
  readonly frames: number;
  readonly snapshots: number;
  readonly pages: number;
  readonly contracts: number;
  readonly expirations: readonly string[];
  readonly start_us: number;
  readonly end_us: number;
}

/** A closed market's index feed is quiet: one unchanged value a minute. */
const CLOSED_INDEX_EVERY_MS = 60_000;
const CHECK_EVERY_LINES = 2000;
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

/**
 * Generates the session described by `params` into `sink`. `onProgress` is called now and then
 * (and once at the end) with the simulated time reached.
 * @throws UsageError when the parameters are out of range.
 */
export async function generateSim(
  params: SimParams,
  sink: SimSink,
  onProgress?: (p: SimProgress) => void,
): Promise<SimStats> {
  const market = buildMarket(params);
  const start = params.start_us;
  const end = start + params.duration_ms * 1000;
  const lines = { chain: 0, indices: 0, options: 0 };
  let sinceCheck = 0;
  const write = (stream: 'chain' | 'indices' | 'options', line: string): void => {
    sink.writeLine(stream, line);
    lines[stream]++;
    sinceCheck++;
  };

  const tape = new TradeTape(market.contracts.length);
  const statics = buildChainStatics(market, deriveRng(params.seed, 'open-interest'));
  seedPriorTrades(market, tape, deriveRng(params.seed, 'prior'));
  const chainRng = deriveRng(params.seed, 'chain');
  const indexRng = deriveRng(params.seed, 'indices');
  const frames = new FrameBatcher((line) => write('options', line));
  const flow = new OrderFlow(market, tape, deriveRng(params.seed, 'trades'), frames);
  const quotes = new QuoteFeed(market, deriveRng(params.seed, 'quotes'), frames);

  const snapshotEveryUs = params.snapshot_every_ms * 1000;
  const indexEveryUs = (params.closed ? CLOSED_INDEX_EVERY_MS : params.index_every_ms) * 1000;
  let nextSnap = start;
  let snapshots = 0;
  let pages = 0;
  let chainRecv = 0;
  let nextIndex = start;

  const report = (sim_us: number): void =>
    onProgress?.({ sim_us: Math.min(sim_us, end) - start, total_us: end - start, trades: flow.trades, lines: lines.chain + lines.indices + lines.options });

  for (;;) {
    const tOrder = flow.nextUs < end ? flow.nextUs : Infinity;
    const tSnap = nextSnap < end ? nextSnap : Infinity;
    const tIndex = nextIndex < end ? nextIndex : Infinity;
    const tQuote = quotes.nextUs < end ? quotes.nextUs : Infinity;
    const t = Math.min(tOrder, tSnap, tIndex, tQuote);
    if (t === Infinity) break;
    if (tSnap === t) {
      // A snapshot shows trades strictly before its request time: it goes before a trade at `t`.
      const out = buildSnapshot(market, statics, tape, chainRng, snapshots, tSnap, chainRecv);
      for (const line of out.lines) write('chain', line);
      chainRecv = out.lastRecvUs;
      pages += out.lines.length;
      snapshots++;
      nextSnap = params.closed ? Infinity : nextSnap + snapshotEveryUs;
    } else if (tIndex === t) {
      write('indices', indexLine(market, tIndex, indexRng.intBetween(1000, 30_000)));
      nextIndex += indexEveryUs;
    } else if (tQuote === t) {
      quotes.emitNext(); // a quote change at a boundary precedes the orders priced off it
    } else {
      flow.emitNext();
    }
    if (sinceCheck >= CHECK_EVERY_LINES) {
      sinceCheck = 0;
      report(t);
      if (sink.drain && (sink.pendingBytes ?? Infinity) > MAX_PENDING_BYTES) await sink.drain();
    }
  }
  frames.flush();
  report(end);
  return {
    lines,
    trades: flow.trades,
    quotes: quotes.quotes,
    frames: frames.frames,
    snapshots,
    pages,
    contracts: market.contracts.length,
    expirations: market.expiries.map((e) => `${e.root} ${e.date}`),
    start_us: start,
    end_us: end,
  };
}

/** One indices-cluster frame: `[{"ev":"V","val":…,"T":"I:SPX","t":<ms>}]`, value = spot of that cell. */
function indexLine(market: SimMarket, t_us: number, latencyUs: number): string {
  const cents = Math.round(spotOfCell(market, cellOf(market, t_us)) * 100);
  const frame = `[{"ev":"V","val":${formatCents(cents)},"T":"${market.params.underlying}","t":${Math.floor(t_us / 1000)}}]`;
  return wsLine(t_us + latencyUs, frame);
}
