/**
 * NDJSON on stdout arrives as it is published: a paced replay (and `live`, which writes through the
 * same sink) must not hold a quiet stream's versions back until some buffer fills. The sink used to
 * write only in 64 KB chunks: on this recording the first version reached a pipe ~50 s late, in a
 * chunk with the next hundred.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from './helpers/background-cli.js';
import { NdjsonSink } from '../src/sinks/ndjson.js';
import { runCli, tempDir } from './helpers/cli.js';

describe('NDJSON delivery', () => {
  it('a paced replay of a quiet market writes its first version while it is still running', async () => {
    const { dir, cleanup } = await tempDir('heatmap-delivery-');
    try {
      const rec = path.join(dir, 'quiet');
      // 10 minutes, one trade every few seconds, a handful of strikes: a few KB of output in all
      const sim = await runCli(['sim', '--out', rec, '--duration', '10m', '--trade-rate', '0.3', '--chain-range', '15', '--max-dte', '0', '--seed', '5', '--no-progress']);
      expect(sim.code, sim.stderr).toBe(0);
      const replay = startCli(['replay', rec, '--speed', '1', '--strategies', 'single', '--no-progress']);
      // What the first read from the pipe gets: before the fix, one 64 KB chunk of many versions,
      // ~50 s into the replay; now version 1 alone, when it is published.
      const firstChunk = new Promise<string>((resolve) => replay.child.stdout!.once('data', (d: Buffer | string) => resolve(String(d))));
      try {
        const first = await Promise.race([
          firstChunk,
          replay.exited.then((code) => {
            throw new Error(`replay ended (${code}) before any version reached stdout:\n${replay.stderr()}`);
          }),
        ]);
        const lines = first.split('\n').filter((l) => l !== '');
        expect(first.length).toBeLessThan(16 * 1024);
        expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'version', version: 1, strategy: 'single' });
        // …and the replay is still running: nothing was held for the end
        expect(replay.child.exitCode).toBeNull();
      } finally {
        replay.child.kill('SIGKILL');
        await replay.exited;
      }
    } finally {
      await cleanup();
    }
  }, 180_000);

  it('a file gets every line and piece in order, whether a turn buffered one part, a few or many', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'out.ndjson');
      const sink = NdjsonSink.open(file);
      const expected: string[] = [];
      const piece = (i: number, size: number) => `{"n":${i},"pad":"${'x'.repeat(size)}"}\n`;
      let n = 0;
      // turn 1: one piece; turn 2: a few pieces (gathered); turn 3: hundreds of lines (copied into one
      // buffer); turn 4: pieces past the 1 MiB flush, written while the turn is still buffering
      const turns = [[1, 10], [5, 3000], [300, 40], [40, 60_000]] as const;
      for (const [count, size] of turns) {
        for (let i = 0; i < count; i++) {
          const text = piece(n++, size + (i % 7));
          expected.push(text);
          if (count === 300) sink.write(text.slice(0, -1));
          else sink.writeBytes(Buffer.from(text));
        }
        await new Promise((r) => setImmediate(r));
      }
      await sink.close();
      expect(await readFile(file, 'utf8')).toBe(expected.join(''));
    } finally {
      await cleanup();
    }
  });
});
