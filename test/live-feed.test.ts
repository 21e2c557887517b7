import { resolveStrategies } from '../src/strategies/index.js';
/**
 * LiveFeed, the engine driver of `heatmap live`, on a scripted clock: lines arrive the way a live
 * session delivers them (ties across streams in the "wrong" stream order, some a few ms late), the
 * clock advances between them, and the versions must be exactly those of replaying the same lines
 * from a recording — ticks included.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/engine/config.js';
import { Engine } from '../src/engine/engine.js';
import { Tally } from '../src/engine/tally.js';
import type { VersionRecord } from '../src/engine/types.js';
import { LineDecoder } from '../src/replay/decode.js';
import { LiveFeed } from '../src/recorder/live-feed.js';
import { replayRecording } from '../src/replay/replay.js';
import { outputBytes } from '../src/engine/output-lines.js';
import { MS } from './helpers/engine-fixtures.js';
import { MARKET_CONFIG, writeMarket, type MarketLine } from './helpers/sse-market.js';

const config = validateConfig(MARKET_CONFIG);
const TICK_US = config.tick_ms * 1000;

interface Arrival {
  readonly line: MarketLine;
  /** Wall-clock µs at which the live session hands the line over (≥ its receive time). */
  readonly at: number;
}

/** Runs LiveFeed over `arrivals` (in arrival order) on a scripted clock; returns the version lines and the feed. */
function runLive(arrivals: readonly Arrival[]): { versions: string[]; feed: LiveFeed } {
  let clock = arrivals[0]!.at;
  const engine = new Engine({ config, underlying: 'I:SPX', strategies: resolveStrategies(config) });
  const versions: string[] = [];
  const feed = new LiveFeed({
    engine,
    decoder: new LineDecoder('I:SPX', new Tally()),
    emit: (out) => {
      if (out.type === 'version') versions.push(outputBytes(out).toString('utf8'));
    },
    now: () => clock,
    tickMs: config.tick_ms,
  });
  for (const a of arrivals) {
    // The timer fires at every tick boundary (of the window's edge) while the market is quiet…
    const edgeUs = 10 * MS;
    for (let t = (Math.floor((clock - edgeUs) / TICK_US) + 1) * TICK_US + edgeUs; t < a.at; t += TICK_US) {
      clock = t;
      feed.advance();
    }
    // …and the line arrives.
    clock = a.at;
    feed.onLine(a.line.stream, a.line.line, a.line.recv_us);
    feed.advance();
  }
  feed.stop();
  return { versions, feed };
}

describe('LiveFeed', () => {
  let dir: string;
  let lines: MarketLine[];
  let replayed: string[];

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-live-feed-'));
    const m = await writeMarket(dir, { seconds: 10, ties: true });
    lines = m.lines;
    replayed = [];
    await replayRecording({
      dir: m.rec,
      config,
      onOutput: (out) => {
        if (out.type === 'version') replayed.push(outputBytes(out).toString('utf8'));
      },
    });
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('the market has cross-stream ties and publishes on ticks as well as on inputs', () => {
    const recv = new Map<number, Set<string>>();
    for (const l of lines) recv.set(l.recv_us, (recv.get(l.recv_us) ?? new Set()).add(l.stream));
    expect([...recv.values()].filter((s) => s.size > 1).length).toBeGreaterThan(5);
    const byTick = replayed.filter((l) => (JSON.parse(l) as VersionRecord).at_us % TICK_US === 0);
    expect(byTick.length).toBeGreaterThan(0);
    expect(replayed.length).toBeGreaterThan(100);
  });

  it('publishes the replay\'s versions when ties arrive in reverse stream order and lines arrive up to 8 ms late', () => {
    // Arrival: receive time + a deterministic 0-8 ms delivery delay; ties reversed (options before indices).
    const arrivals = lines
      .map((line, i) => ({ line, at: line.recv_us + ((i * 7919) % 9) * MS, i }))
      .sort((a, b) => a.at - b.at || b.i - a.i);
    const { versions, feed } = runLive(arrivals);
    expect(feed.late).toBe(0);
    expect(feed.lines).toBe(lines.length);
    const last = lines.at(-1)!.recv_us;
    expect(versions.filter((l) => (JSON.parse(l) as VersionRecord).at_us <= last)).toEqual(replayed);
  });

  it('counts a line delivered later than the window instead of hiding it', () => {
    const arrivals = lines.map((line) => ({ line, at: line.recv_us }));
    // One option frame in the middle reaches the feed 500 ms after it was stamped.
    const k = arrivals.findIndex((a, i) => i > lines.length / 2 && a.line.stream === 'options');
    const [slow] = arrivals.splice(k, 1);
    const at = slow!.at + 500 * MS;
    const j = arrivals.findIndex((a) => a.at > at);
    arrivals.splice(j, 0, { line: slow!.line, at });
    const { feed } = runLive(arrivals);
    expect(feed.late).toBe(1);
  });
});
