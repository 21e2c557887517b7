/**
 * The worker pipelines' bounds (src/replay/pipeline-pool.ts), driven as `live` drives them — lines
 * pushed from a recording, real worker threads — and the ordered merge they write through:
 * - a pipeline that cannot keep up with a live feed is stopped once its input queue passes the
 *   bound (`overrun`); the other keeps publishing everything;
 * - an ordered stream nobody takes: `live` drops its lines and counts them, the per-strategy views
 *   still get every version; a replay (`wait`) holds the reader instead and loses nothing;
 * - the merge writes lines in the engine's order whatever the sources' timing (property test).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig, selectStrategies, validateConfig, type EngineConfig } from '../src/engine/config.js';
import type { EngineOutput } from '../src/engine/types.js';
import { outputBytes } from '../src/engine/output-lines.js';
import { newReadReport, readRecording } from '../src/recording/reader.js';
import { OrderedMerge, type MergeBatch } from '../src/replay/ordered-merge.js';
import { PipelinePool, type PipelinePoolOptions } from '../src/replay/pipeline-pool.js';
import { replayRecording } from '../src/replay/replay.js';
import { loadStrategyModules } from '../src/strategies/modules.js';
import { ROOT, tempDirsPerTest } from './helpers/cli.js';
import { singleLike } from './helpers/modules.js';

const tmp = tempDirsPerTest('heatmap-pool-');
const OPEN = path.join(ROOT, 'fixtures', 'open-3m');

/** The version lines each strategy publishes in one thread: what every pipeline must deliver. */
async function inProcess(config: EngineConfig): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await replayRecording({
    dir: OPEN,
    config,
    format: 2,
    onOutput: (o) => {
      if (o.type === 'version') out.set(o.strategy, [...(out.get(o.strategy) ?? []), outputBytes(o).toString('utf8')]);
    },
  });
  return out;
}

/** Collects what a pool delivers per strategy (records) and in order (lines). */
function collector(): { records: Map<string, EngineOutput[]>; onRecord: PipelinePoolOptions['onRecord'] } {
  const records = new Map<string, EngineOutput[]>();
  return {
    records,
    onRecord: (o) => {
      const key = o.type === 'gap' ? '(gap)' : o.strategy;
      records.set(key, [...(records.get(key) ?? []), o]);
    },
  };
}

const versionLines = (recs: readonly EngineOutput[] | undefined): string[] => (recs ?? []).filter((o) => o.type === 'version').map((o) => outputBytes(o).toString('utf8'));

describe('a pipeline that cannot keep up with a live feed', () => {
  it('is stopped when its input queue passes the bound (reason "overrun"); the other strategy publishes every version', async () => {
    const dir = await tmp();
    const slow = path.join(dir, 'slow.mjs');
    // 5 ms per score: working all the time, never stalled for long, but far slower than the feed.
    await writeFile(slow, singleLike('slow', 'Atomics.wait(nap, 0, 0, 5); return value;', 'const nap = new Int32Array(new SharedArrayBuffer(4));'));
    const config = selectStrategies(await loadStrategyModules(validateConfig({ strategies: { modules: [slow] } })), ['single', 'slow']);
    const c = collector();
    const pool = new PipelinePool({
      config,
      underlying: 'I:SPX',
      format: 2,
      stallTimeoutMs: 60_000,
      heapMb: 256,
      whenBehind: 'fail',
      maxQueuedBytes: 1024 * 1024,
      records: true,
      onRecord: c.onRecord,
      output: { write: () => undefined, drain: () => undefined },
    });
    let n = 0;
    // a feed: lines keep coming whether or not a pipeline keeps up
    for await (const line of readRecording(OPEN, {}, newReadReport())) {
      pool.push(line);
      if (++n % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const outcome = await pool.finish();
    const errors = c.records.get('slow')!.filter((o) => o.type === 'error');
    expect(errors).toEqual([expect.objectContaining({ type: 'error', strategy: 'slow', reason: 'overrun', message: 'fell more than 1 MiB of input behind the live feed and was stopped' })]);
    expect(outcome.summary.strategies.slow!.error).toMatch(/^overrun: /);
    const want = await inProcess(selectStrategies(defaultConfig(), ['single']));
    expect(versionLines(c.records.get('single'))).toEqual(want.get('single'));
    expect(outcome.summary.strategies.single!.error).toBeUndefined();
  });
});

describe('an ordered stream nobody takes', () => {
  const config = selectStrategies(defaultConfig(), ['single', 'fly']);

  it('live: its lines are dropped and counted beyond the bound; the per-strategy views get every version', async () => {
    const c = collector();
    let written = 0;
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const pool = new PipelinePool({
      config,
      underlying: 'I:SPX',
      format: 2,
      stallTimeoutMs: 60_000,
      heapMb: 256,
      whenBehind: 'fail',
      maxMergeBytes: 128 * 1024,
      records: true,
      onRecord: c.onRecord,
      // a reader that took one batch, then stopped reading
      output: { write: () => void written++, drain: () => stuck },
    });
    let n = 0;
    for await (const line of readRecording(OPEN, {}, newReadReport())) {
      pool.push(line);
      if (++n % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    release(); // the reader comes back: what was kept is written
    const outcome = await pool.finish();
    const want = await inProcess(config);
    for (const s of ['single', 'fly']) expect(versionLines(c.records.get(s)), s).toEqual(want.get(s));
    const total = want.get('single')!.length + want.get('fly')!.length;
    expect(outcome.droppedLines).toBeGreaterThan(0);
    expect(written + outcome.droppedLines).toBe(total);
  });

  it('replay: the reader is held (ready() waits) and nothing is lost', async () => {
    const written: string[] = [];
    let reading = false;
    let release: (() => void) | undefined;
    const pool = new PipelinePool({
      config,
      underlying: 'I:SPX',
      format: 2,
      stallTimeoutMs: 60_000,
      heapMb: 256,
      whenBehind: 'wait',
      maxMergeBytes: 128 * 1024,
      records: false,
      output: {
        write: (line) => void written.push(Buffer.from(line).toString('utf8')),
        // a reader that does not read until the replay has had to wait for it
        drain: () => (reading ? undefined : new Promise<void>((resolve) => (release = resolve))),
      },
    });
    let waits = 0;
    let n = 0;
    for await (const line of readRecording(OPEN, {}, newReadReport())) {
      pool.push(line);
      const wait = pool.ready();
      if (wait) {
        waits++;
        reading = true;
        release?.();
        await wait;
      } else if (++n % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    // On a loaded machine the workers may still be behind when the input ends: the reader is held
    // as soon as their unread output passes the bound, which it must (the fixture's output is MBs).
    for (let i = 0; waits === 0 && i < 6000; i++) {
      const wait = pool.ready();
      if (wait) {
        waits++;
        reading = true;
        release?.();
        await wait;
      } else await new Promise((r) => setTimeout(r, 10));
    }
    reading = true;
    release?.();
    const outcome = await pool.finish();
    expect(waits).toBeGreaterThan(0);
    expect(outcome.droppedLines).toBe(0);
    // every line, in the order one engine running both strategies writes them
    const merged: string[] = [];
    await replayRecording({ dir: OPEN, config, format: 2, onOutput: (o) => void merged.push(`${outputBytes(o).toString('utf8')}\n`) });
    expect(written).toEqual(merged);
  });
});

describe('the ordered merge', () => {
  it('writes every line in (input, phase, step, strategy) order, whatever the order sources deliver in and report progress', () => {
    const key = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }));
    const source = fc.array(key, { maxLength: 12 }).map((ks) => ks.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]));
    fc.assert(
      fc.property(fc.array(source, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { minLength: 60, maxLength: 60 }), (sources, choices) => {
        const written: string[] = [];
        const merge = new OrderedMerge(sources.length, { write: (line) => void written.push(Buffer.from(line).toString('utf8')), drain: () => undefined }, () => undefined);
        const next = sources.map(() => 0);
        const drained = sources.map(() => false);
        let c = 0;
        const pick = (): number => choices[c++ % choices.length]!;
        const open = new Set(sources.map((_, s) => s));
        while (open.size > 0) {
          const s = [...open][pick() % open.size]!;
          const ks = sources[s]!;
          const take = Math.min(ks.length - next[s]!, 1 + (pick() % 3));
          const chunk = ks.slice(next[s], next[s]! + take);
          next[s]! += take;
          if (chunk.length > 0) {
            const lines = chunk.map((k) => `${k.join('.')}/${s}\n`);
            const bytes = Buffer.from(lines.join(''));
            const ends = Uint32Array.from(lines.map((_, i) => Buffer.byteLength(lines.slice(0, i + 1).join(''))));
            const batch: MergeBatch = { keys: Float64Array.from(chunk.flat()), strategy: s, bytes, ends };
            merge.add(s, batch);
          }
          if (next[s] === ks.length && (drained[s] || pick() % 3 === 0)) {
            merge.close(s); // (every step delivers, or closes a drained source: the loop ends)
            open.delete(s);
          } else if (next[s] === ks.length) drained[s] = true;
          else if (next[s]! > 0 && pick() % 2 === 0) {
            // progress: every line up to the last delivered key is in (none with that key may follow)
            const last = ks[next[s]! - 1]!;
            const upcoming = ks[next[s]!];
            if (!upcoming || upcoming.join() !== last.join()) merge.advance(s, [last[0], last[1], last[2]]);
          }
          void merge.pump();
        }
        void merge.pump();
        const all = sources.flatMap((ks, s) => ks.map((k) => ({ k, s })));
        all.sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.k[2] - b.k[2] || a.s - b.s);
        expect(written).toEqual(all.map(({ k, s }) => `${k.join('.')}/${s}\n`));
      }),
      { numRuns: 300 },
    );
  });
});
