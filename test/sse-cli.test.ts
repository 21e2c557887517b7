import { Format2Folder } from '../src/engine/format2-fold.js';
/**
 * `heatmap replay --sse`: the command's own action (runReplayCommand), a real client on loopback.
 * Without --sse-exit the server keeps serving the final state after the replay (the NDJSON,
 * summary included, is complete by then) until SIGINT, which closes every stream with `end`.
 */
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { runReplayCommand } from '../src/cli/replay-run.js';
import type { PublishedTile, VersionRecord } from '../src/engine/types.js';
import { parseSseFlags } from '../src/cli/sse-options.js';
import { runCli } from './helpers/cli.js';
import { SseTestClient, freePort, httpGet } from './helpers/sse-client.js';
import { writeMarket } from './helpers/sse-market.js';

/** Polls until nothing listens on `port` any more (bounded). */
async function untilClosed(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await httpGet(`http://127.0.0.1:${port}/health`);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} still serving`);
}

describe('replay --sse', () => {
  let dir: string;
  let rec: string;
  let config: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-sse-cli-'));
    ({ rec, config } = await writeMarket(dir, { seconds: 10 }));
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('keeps serving the final state after the replay, until SIGINT closes the streams with an end event', async () => {
    const port = await freePort();
    const out = path.join(dir, 'keep.ndjson');
    const before = process.listenerCount('SIGINT');
    await runReplayCommand(rec, { sse: String(port), out, config, progress: false });
    // The replay is over and its NDJSON complete, yet the server still answers.
    const lines = (await fsp.readFile(out, 'utf8')).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!).type).toBe('summary');
    // The default stream is format 2 (DESIGN §3.1); SSE snapshots are in the run's format too.
    const flyLines = lines.filter((l) => l.startsWith('{"type":"version","format":2,"strategy":"fly"'));
    const last = JSON.parse(flyLines.at(-1)!) as VersionRecord;
    const list = JSON.parse((await httpGet(`http://127.0.0.1:${port}/sse/heatmap`)).body) as { final: boolean; strategies: { name: string; version: number }[] };
    expect(list.final).toBe(true);
    expect(list.strategies.find((s) => s.name === 'fly')!.version).toBe(last.version);

    const c = await SseTestClient.connect(`http://127.0.0.1:${port}/sse/heatmap/fly`);
    await c.untilId(last.version);
    const snap = JSON.parse(c.events[0]!.data) as { format: number; version: number; hash: string; tiles: [string, number, number | null, number][] };
    expect(snap.format).toBe(2);
    expect(snap.version).toBe(last.version);
    expect(snap.hash).toBe(last.hash);
    // The snapshot's tile rows are the fold of the NDJSON stream's fly lines.
    const folder = new Format2Folder();
    for (const l of flyLines) folder.push(l);
    expect(snap.tiles.map((r) => r.slice(0, 4))).toEqual(folder.tiles('fly').map((t) => [t.key, t.value, t.score, t.confidence]));

    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    process.emit('SIGINT', 'SIGINT');
    await c.ended;
    expect(c.events.at(-1)!.event).toBe('end');
    expect(JSON.parse(c.events.at(-1)!.data)).toEqual({ reason: 'shutdown', strategy: 'fly', version: last.version });
    await untilClosed(port);
    expect(process.listenerCount('SIGINT')).toBe(before);
  }, 30_000);

  it('--sse-exit shuts the server down when the replay ends; the stream is the same as without --sse', async () => {
    const port = await freePort();
    const withSse = path.join(dir, 'exit.ndjson');
    const without = path.join(dir, 'plain.ndjson');
    const before = process.listenerCount('SIGINT');
    await runReplayCommand(rec, { sse: String(port), sseExit: true, out: withSse, config, progress: false });
    await untilClosed(port);
    expect(process.listenerCount('SIGINT')).toBe(before);
    // the plain replay through the built CLI, with worker threads (--sse runs in-process)
    const plain = await runCli(['replay', rec, '--out', without, '--config', config, '--no-progress', '--jobs', '2']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(await fsp.readFile(withSse, 'utf8')).toBe(await fsp.readFile(without, 'utf8'));
  }, 30_000);

  it('validates the SSE flags', () => {
    expect(parseSseFlags({})).toBeUndefined();
    expect(parseSseFlags({ sse: '8080' })).toEqual({ port: 8080, host: '127.0.0.1', slowClient: 'resync', maxBufferBytes: 16 * 1024 * 1024, exitAtEnd: false, gzip: true });
    expect(parseSseFlags({ sse: '8080', sseGzip: true })?.gzip).toBe(true); // commander's default for --no-sse-gzip
    expect(parseSseFlags({ sse: '0', sseSlow: 'drop', sseBuffer: '0.5', sseHost: '0.0.0.0', sseExit: true, sseGzip: false })).toEqual({
      port: 0,
      host: '0.0.0.0',
      slowClient: 'drop',
      maxBufferBytes: 512 * 1024,
      exitAtEnd: true,
      gzip: false,
    });
    expect(() => parseSseFlags({ sse: 'http' })).toThrow(UsageError);
    expect(() => parseSseFlags({ sse: '99999' })).toThrow(/--sse/);
    expect(() => parseSseFlags({ sse: '1', sseSlow: 'wait' })).toThrow(/resync or drop/);
    expect(() => parseSseFlags({ sseExit: true })).toThrow(/--sse-exit needs --sse/);
    expect(() => parseSseFlags({ sseGzip: false })).toThrow(/--no-sse-gzip needs --sse/);
    expect(parseSseFlags({ sseGzip: true })).toBeUndefined();
  });

  it('a busy port is a clear runtime error', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      await expect(runReplayCommand(rec, { sse: String(port), out: path.join(dir, 'busy.ndjson'), config, progress: false })).rejects.toThrow(/in use/);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
