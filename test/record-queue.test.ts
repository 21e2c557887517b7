/**
 * The bounded queue between the socket readers and the recording writer: it never blocks a
 * reader, and when the writer cannot keep up it drops, says so loudly, and records the lost window
 * as a gap. Real writer, real files.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { LineQueue } from '../src/recorder/line-queue.js';
import { wsLine } from '../src/recording/lines.js';
import { newReadReport, readRecording } from '../src/recording/reader.js';
import { RecordingWriter } from '../src/recording/writer.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

const frame = (i: number): string => `[{"ev":"T","sym":"O:SPXW251121C0590${i % 10}000","p":1.${i},"s":1,"t":${1763740800000 + i},"q":${i}}]`;

it('drops lines when full, warns, and writes a gap for the dropped window once there is room', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-queue-'));
  dirs.push(dir);
  const writer = await RecordingWriter.create(dir, { underlying: 'I:SPX', source: 'massive', created_us: 1, flushIntervalMs: 0 });
  const logs: string[] = [];
  let clock = 1_000_000;
  const q = new LineQueue({ maxBytes: 600, writerHighWater: 1 << 20, now: () => clock, log: (m) => logs.push(m) });
  const pumped = q.pump(writer);
  // A burst within one turn of the event loop: the pump cannot run, so the queue fills.
  const accepted: number[] = [];
  for (let i = 0; i < 20; i++) if (q.push('options', wsLine(1_000_000 + i, frame(i)), 1_000_000 + i)) accepted.push(i);
  expect(accepted.length).toBeGreaterThan(0);
  expect(accepted.length).toBeLessThan(20);
  expect(q.droppedTotal).toBe(20 - accepted.length);
  expect(logs.filter((m) => m.includes('cannot keep up'))).toHaveLength(1);
  // Wait (on a condition, not a clock) until the pump has moved everything to the writer.
  for (let spins = 0; q.queuedBytes > 0 && spins < 10_000; spins++) await new Promise((r) => setImmediate(r));
  expect(q.queuedBytes).toBe(0);
  const delivered: string[] = [];
  clock = 2_000_000;
  expect(q.push('options', wsLine(2_000_000, frame(99)), 2_000_000, (line) => delivered.push(line))).toBe(true);
  expect(delivered).toHaveLength(1);
  q.close();
  await pumped;
  await writer.close();

  const lines: Record<string, any>[] = [];
  for await (const l of readRecording(dir, {}, newReadReport())) lines.push(JSON.parse(l.text) as Record<string, any>);
  expect(lines).toHaveLength(accepted.length + 2);
  const gap = lines[accepted.length]!;
  expect(gap.gap).toEqual({ stream: 'options', from_us: 1_000_000 + accepted.length, to_us: 2_000_000, reason: 'writer_overflow' });
  expect(JSON.stringify(gap)).toBe(delivered[0]);
  expect(lines.at(-1)!.frame[0].q).toBe(99);
});

it('close() records a window still being dropped', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-queue-'));
  dirs.push(dir);
  const writer = await RecordingWriter.create(dir, { underlying: 'I:SPX', source: 'massive', created_us: 1, flushIntervalMs: 0 });
  const q = new LineQueue({ maxBytes: 200, writerHighWater: 1 << 20, now: () => 5_000_000, log: () => undefined });
  const pumped = q.pump(writer);
  for (let i = 0; i < 10; i++) q.push('indices', wsLine(3_000_000 + i, frame(i)), 3_000_000 + i);
  const gaps: string[] = [];
  q.close((_stream, line) => gaps.push(line));
  await pumped;
  await writer.close();
  expect(gaps).toHaveLength(1);
  const lines: string[] = [];
  for await (const l of readRecording(dir, {}, newReadReport())) lines.push(l.text);
  expect(lines.at(-1)).toBe(gaps[0]);
  expect(JSON.parse(gaps[0]!).gap.reason).toBe('writer_overflow');
});
