import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamName } from '../src/recording/lines.js';
import fc from 'fast-check';
import { MinHeap, mergeStreamBatches } from '../src/recording/merge.js';
import { mergeStreams, newReadReport, readRecording, scanRecordingSpan, type RawLine } from '../src/recording/reader.js';
import { RecordingWriter } from '../src/recording/writer.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-rec-merge-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A source over fixed (recv_us, tag) pairs that records how far it was pulled and whether it was closed. */
function source(stream: StreamName, items: [number, string][]): { it: AsyncIterable<RawLine>; pulled: () => number; closed: () => boolean } {
  let pulled = 0;
  let closed = false;
  async function* gen(): AsyncGenerator<RawLine> {
    try {
      for (const [i, [recv_us, tag]] of items.entries()) {
        pulled++;
        yield { stream, file: `${stream}.ndjson`, line_no: i + 1, recv_us, text: tag };
      }
    } finally {
      closed = true;
    }
  }
  return { it: gen(), pulled: () => pulled, closed: () => closed };
}

const tags = (lines: RawLine[]): string[] => lines.map((l) => l.text);

describe('mergeStreams', () => {
  it('orders by recv_us, ties by stream name, then by order within the stream', async () => {
    // sources deliberately passed in reverse name order: the tie-break must not depend on it
    const stocks = source('stocks', [[1, 's1'], [5, 's5']]);
    const options = source('options', [[1, 'o1a'], [1, 'o1b'], [3, 'o3'], [5, 'o5']]);
    const indices = source('indices', [[0, 'i0'], [1, 'i1'], [5, 'i5']]);
    const chain = source('chain', [[1, 'c1'], [5, 'c5'], [9, 'c9']]);
    const got = await collect(mergeStreams([stocks.it, options.it, indices.it, chain.it]));
    expect(tags(got)).toEqual(['i0', 'c1', 'i1', 'o1a', 'o1b', 's1', 'o3', 'c5', 'i5', 'o5', 's5', 'c9']);
  });

  it('handles no sources, empty sources and a single source', async () => {
    expect(await collect(mergeStreams([]))).toEqual([]);
    const empty = source('chain', []);
    const one = source('options', [[2, 'a'], [2, 'b']]);
    expect(tags(await collect(mergeStreams([empty.it, one.it])))).toEqual(['a', 'b']);
    expect(empty.closed()).toBe(true);
  });

  it('pulls lazily and closes every source when the consumer breaks', async () => {
    const n = 1000;
    const a = source('options', Array.from({ length: n }, (_, i) => [2 * i, `a${i}`] as [number, string]));
    const b = source('indices', Array.from({ length: n }, (_, i) => [2 * i + 1, `b${i}`] as [number, string]));
    const c = source('chain', [[5000, 'late']]);
    const got: string[] = [];
    for await (const line of mergeStreams([a.it, b.it, c.it])) {
      got.push(line.text);
      if (got.length === 10) break;
    }
    expect(got).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4', 'b4']);
    // one line of look-ahead per source at most
    expect(a.pulled()).toBeLessThanOrEqual(6);
    expect(b.pulled()).toBeLessThanOrEqual(6);
    expect([a.closed(), b.closed(), c.closed()]).toEqual([true, true, true]);
  });

  it('closes the other sources when one of them throws', async () => {
    const good = source('options', [[1, 'a'], [2, 'b'], [3, 'c']]);
    async function* bad(): AsyncGenerator<RawLine> {
      yield { stream: 'chain', file: 'chain.ndjson', line_no: 1, recv_us: 1, text: 'x' };
      throw new Error('disk on fire');
    }
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const l of mergeStreams([good.it, bad()])) seen.push(l.text);
      })(),
    ).rejects.toThrow('disk on fire');
    expect(seen).toEqual(['x']);
    expect(good.closed()).toBe(true);
  });

  it('in batches (what replay reads): the same lines in the same order, for any batching of any sources (property)', async () => {
    const names: StreamName[] = ['stocks', 'options', 'indices', 'chain', 'options'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ stream: fc.integer({ min: 0, max: names.length - 1 }), gaps: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }), cuts: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }) }), { maxLength: 5 }),
        async (specs) => {
          // each source: non-decreasing times (gaps of 0 make ties), tagged by source and position
          const lines = specs.map((sp, s) => {
            let t = 0;
            return sp.gaps.map((g, i): RawLine => ({ stream: names[sp.stream]!, file: `${s}`, line_no: i + 1, recv_us: (t += g), text: `${s}:${i}` }));
          });
          // …cut into batches of the drawn sizes (0: an empty batch, which the merge must skip)
          const batched = lines.map((ls, s) => {
            const out: RawLine[][] = [];
            let at = 0;
            for (const c of specs[s]!.cuts) {
              out.push(ls.slice(at, at + c));
              at += c;
            }
            if (at < ls.length) out.push(ls.slice(at));
            return out;
          });
          async function* lineSource(ls: RawLine[]): AsyncGenerator<RawLine> {
            yield* ls;
          }
          async function* batchSource(bs: RawLine[][]): AsyncGenerator<RawLine[]> {
            yield* bs;
          }
          const byLine = tags(await collect(mergeStreams(lines.map(lineSource))));
          const byBatch = (await collect(mergeStreamBatches(batched.map(batchSource)))).flatMap(tags);
          expect(byBatch).toEqual(byLine);
          expect(byBatch.length).toBe(lines.flat().length);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('in batches: a break closes every source, and a failing source closes the others', async () => {
    let closed = 0;
    async function* src(stream: StreamName, base: number): AsyncGenerator<RawLine[]> {
      try {
        for (let b = 0; b < 100; b++) yield Array.from({ length: 10 }, (_, i): RawLine => ({ stream, file: stream, line_no: b * 10 + i + 1, recv_us: base + b * 10 + i, text: `${stream}${b * 10 + i}` }));
      } finally {
        closed++;
      }
    }
    for await (const batch of mergeStreamBatches([src('options', 0), src('indices', 0)])) {
      expect(batch.length).toBeGreaterThan(0);
      break;
    }
    expect(closed).toBe(2);
    closed = 0;
    async function* failing(): AsyncGenerator<RawLine[]> {
      yield [{ stream: 'chain', file: 'chain', line_no: 1, recv_us: 0, text: 'x' }];
      throw new Error('disk on fire');
    }
    await expect(collect(mergeStreamBatches([src('options', 0), failing()]))).rejects.toThrow('disk on fire');
    expect(closed).toBe(1);
  });

  it('MinHeap sorts like Array.sort (generic, any k)', () => {
    let x = 42;
    const values = Array.from({ length: 500 }, () => (x = (x * 48271) % 2147483647) % 1000);
    const heap = new MinHeap<number>((p, q) => p < q);
    for (const v of values) heap.push(v);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!);
    expect(out).toEqual([...values].sort((p, q) => p - q));
    expect(heap.pop()).toBeUndefined();
  });
});

describe('readRecording (files)', () => {
  async function fixture(): Promise<string> {
    const dir = await tmp();
    const w = await RecordingWriter.create(dir, { underlying: 'I:SPX', source: 'sim', created_us: 0, flushIntervalMs: 0 });
    const line = (recv: number, tag: string): string => `{"recv_us":${recv},"tag":"${tag}"}`;
    // written interleaved and out of stream-name order; ties at 100 and 300 across streams
    w.writeLine('stocks', line(100, 's100'));
    w.writeLine('options', line(100, 'o100a'));
    w.writeLine('options', line(100, 'o100b'));
    w.writeLine('indices', line(100, 'i100'));
    w.writeLine('chain', line(100, 'c100'));
    w.writeLine('options', line(200, 'o200'));
    w.writeLine('chain', line(300, 'c300'));
    w.writeLine('indices', line(300, 'i300'));
    w.writeLine('options', line(300, 'o300'));
    w.writeLine('indices', line(400, 'i400'));
    await w.close();
    return dir;
  }
  const tagOf = (l: RawLine): string => (JSON.parse(l.text) as { tag: string }).tag;

  it('merges the stream files into replay order', async () => {
    const dir = await fixture();
    const got = await collect(readRecording(dir, {}, newReadReport()));
    expect(got.map(tagOf)).toEqual(['c100', 'i100', 'o100a', 'o100b', 's100', 'o200', 'c300', 'i300', 'o300', 'i400']);
    expect(got.map((l) => l.stream)).toEqual(['chain', 'indices', 'options', 'options', 'stocks', 'options', 'chain', 'indices', 'options', 'indices']);
  });

  it('cuts by receive time: from_us inclusive, to_us exclusive', async () => {
    const dir = await fixture();
    expect((await collect(readRecording(dir, { from_us: 200, to_us: 400 }, newReadReport()))).map(tagOf)).toEqual(['o200', 'c300', 'i300', 'o300']);
    expect((await collect(readRecording(dir, { from_us: 300 }, newReadReport()))).map(tagOf)).toEqual(['c300', 'i300', 'o300', 'i400']);
    expect((await collect(readRecording(dir, { to_us: 100 }, newReadReport()))).map(tagOf)).toEqual([]);
    expect((await collect(readRecording(dir, { from_us: 101, to_us: 300 }, newReadReport()))).map(tagOf)).toEqual(['o200']);
  });

  it('scanRecordingSpan gives first/last recv_us per stream and overall', async () => {
    const dir = await fixture();
    const span = await scanRecordingSpan(dir);
    expect(span.first_us).toBe(100);
    expect(span.last_us).toBe(400);
    expect(Object.fromEntries(span.streams)).toEqual({
      chain: { lines: 2, first_us: 100, last_us: 300, regressions: 0 },
      indices: { lines: 3, first_us: 100, last_us: 400, regressions: 0 },
      options: { lines: 4, first_us: 100, last_us: 300, regressions: 0 },
      stocks: { lines: 1, first_us: 100, last_us: 100, regressions: 0 },
    });
  });
});
