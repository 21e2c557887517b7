/**
 * `heatmap live` against a Massive-compatible server on loopback (`heatmap serve` over a small
 * recording): versions arrive over SSE while the session runs, the SSE diffs are the NDJSON lines,
 * and replaying the session's own recording reproduces its published versions.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLiveCommand } from '../src/cli/live-run.js';
import { validateConfig } from '../src/engine/config.js';
import type { VersionRecord } from '../src/engine/types.js';
import { replayRecording } from '../src/replay/replay.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { outputBytes } from '../src/engine/output-lines.js';
import { SseTestClient, freePort, httpGet } from './helpers/sse-client.js';
import { MARKET_CONFIG, writeMarket } from './helpers/sse-market.js';

/** Waits (bounded) until the SSE server answers /health. */
async function untilServing(base: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await httpGet(`${base}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${base} never served /health`);
}

const versionLines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('{"type":"version"'));

describe('heatmap live (against heatmap serve on loopback)', () => {
  let dir: string;
  let massive: RunningServer;
  let liveOut: string;
  let liveRec: string;
  let client: SseTestClient;
  let duringSession = 0;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-live-'));
    // The chain snapshot comes first, so the recorder's first REST poll finds it complete.
    const { rec, config } = await writeMarket(dir, { seconds: 12, chainAtMs: -100 });
    marketRec = rec;
    massive = await startServer({ dir: rec, port: 0, speed: 4, hold: 'client', log: () => undefined });
    const ssePort = await freePort();
    liveOut = path.join(dir, 'live.ndjson');
    liveRec = path.join(dir, 'live-rec');
    const session = runLiveCommand({
      underlying: 'I:SPX',
      restUrl: massive.restUrl,
      wsUrl: massive.wsUrl,
      apiKey: 'loopback-key',
      config,
      record: liveRec,
      out: liveOut,
      sse: String(ssePort),
      duration: '4s',
      statusInterval: '0s',
    });
    const base = `http://127.0.0.1:${ssePort}`;
    await untilServing(base);
    client = await SseTestClient.connect(`${base}/sse/heatmap/single`);
    // Versions arrive over SSE while the session is still running.
    await client.until((c) => c.named('diff').length >= 5, 'five single diffs during the session', 15_000);
    duringSession = client.named('diff').length;
    await session;
    await client.ended;
  }, 60_000);

  let marketRec: string;
  afterAll(async () => {
    await massive?.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('streams versions over SSE during the session, each diff being the NDJSON line, then ends cleanly', async () => {
    expect(duringSession).toBeGreaterThanOrEqual(5);
    const lines = versionLines(await fsp.readFile(liveOut, 'utf8')).filter((l) => l.startsWith('{"type":"version","format":2,"strategy":"single"'));
    expect(client.events[0]!.event).toBe('snapshot');
    const diffs = client.named('diff');
    const first = Number(diffs[0]!.id);
    const snapVersion = Number(client.events[0]!.id);
    expect(first).toBe(snapVersion + 1);
    expect(diffs.map((d) => d.data)).toEqual(lines.slice(snapVersion));
    const end = client.events.at(-1)!;
    expect(end.event).toBe('end');
    expect(JSON.parse(end.data)).toMatchObject({ strategy: 'single', version: lines.length });
  });

  it('replaying the session\'s recording reproduces its published versions', async () => {
    const live = versionLines(await fsp.readFile(liveOut, 'utf8'));
    const summary = JSON.parse((await fsp.readFile(liveOut, 'utf8')).trim().split('\n').at(-1)!) as { type: string; span_us: [number, number] };
    expect(summary.type).toBe('summary');
    const lastRecv = summary.span_us[1];
    const replayed: string[] = [];
    const result = await replayRecording({
      dir: liveRec,
      config: validateConfig(MARKET_CONFIG),
      format: 2, // live's default, like replay's
      onOutput: (out) => {
        if (out.type === 'version') replayed.push(outputBytes(out).toString('utf8'));
      },
    });
    expect(result.last_recv_us).toBe(lastRecv);
    expect(replayed.length).toBeGreaterThan(20);
    // Every version, byte for byte — including those the live clock's ticks published after the
    // last market-data line: the recording's clock lines (time as an input, DESIGN §6) carry them.
    expect(replayed).toEqual(live);
    const byTick = live.filter((l) => (JSON.parse(l) as VersionRecord).at_us % (MARKET_CONFIG.tick_ms * 1000) === 0);
    expect(byTick.length).toBeGreaterThan(0);
    // The recording has clock lines, each on a tick boundary.
    const clock = await readClockLines(liveRec);
    expect(clock.length).toBeGreaterThan(0);
    for (const t of clock) expect(t % (MARKET_CONFIG.tick_ms * 1000)).toBe(0);
  });

  it('a session that cannot start fails with the recorder\'s error, closes its SSE server and leaves no signal handlers', async () => {
    const ssePort = await freePort();
    const before = process.listenerCount('SIGINT');
    const run = runLiveCommand({
      underlying: 'I:SPX',
      restUrl: massive.restUrl,
      wsUrl: massive.wsUrl,
      apiKey: 'loopback-key',
      record: marketRec, // already holds a recording
      out: path.join(dir, 'fail.ndjson'),
      sse: String(ssePort),
      statusInterval: '0s',
    });
    await expect(run).rejects.toThrow(/already holds a recording/);
    await expect(httpGet(`http://127.0.0.1:${ssePort}/health`)).rejects.toThrow();
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(await fsp.readFile(path.join(dir, 'fail.ndjson'), 'utf8')).toBe('');
  });
});

/** The receive times of a recording's clock lines (clock.ndjson.gz). */
async function readClockLines(dir: string): Promise<number[]> {
  const text = gunzipSync(await fsp.readFile(path.join(dir, 'clock.ndjson.gz'))).toString('utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { recv_us: number }).recv_us);
}
