import { RuntimeError } from '../errors.js';
import { Format2Folder } from '../engine/format2-fold.js';
import type { MarkLike } from '../engine/format2.js';
import { withVersionLine } from '../engine/publisher.js';
import type { PublishedTile, VersionRecord } from '../engine/types.js';
import type { StrategyChannel } from '../sinks/sse-channel.js';
import type { SseServer } from '../sinks/sse.js';
import { reconnectDelayMs, type RedisClient } from './connection.js';
import { keysOf } from './target.js';

/**
 * Feeds an SSE server from the strategy streams (`heatmap sse --redis`, DESIGN §6): one blocking
 * reader connection for all strategies, fanned out in memory to every client of the process.
 *
 * Each strategy starts from its snapshot key (the state at version k), takes the version lines
 * before it as its `Last-Event-ID` history (up to the server's history bound) and the entries after
 * it as the versions since, then follows the stream. Everything a client receives is derived from
 * the stream's entries alone, so two SSE processes serve identical events: the same ids, the same
 * diff bytes (the pipeline's lines, unchanged), the same snapshots.
 */

export interface RedisSseOptions {
  readonly prefix: string;
  readonly format: 1 | 2;
  /** Diffs kept for `Last-Event-ID` (the server's history bound). */
  readonly historyVersions: number;
  /** Strategies to serve; undefined = every `<prefix>:heatmap:*` stream, found as pipelines create them. */
  readonly strategies: readonly string[] | undefined;
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

type Entry = { id: string; message: Record<string, string> };

interface Followed {
  readonly strategy: string;
  readonly key: string;
  readonly channel: StrategyChannel;
  readonly folder: Format2Folder | undefined;
  lastId: string;
}

/** How often the streams are listed again when no --strategies were given (ms). */
const RESCAN_MS = 2000;

/** Follows the strategy streams into `server` until `signal` aborts. */
export async function followHeatmapStreams(server: SseServer, reader: RedisClient, control: RedisClient, o: RedisSseOptions): Promise<void> {
  const keys = keysOf(o.prefix);
  const followed = new Map<string, Followed>();
  let lastScan = -Infinity;
  let failures = 0;
  const isAborted = (): boolean => o.signal.aborted;
  while (!isAborted()) {
    try {
      if (performance.now() - lastScan >= RESCAN_MS) {
        lastScan = performance.now();
        const names = o.strategies ?? (await listStrategies(control, o.prefix));
        for (const name of names) {
          if (followed.has(name)) continue;
          const f = await load(server, name, control, keys.heatmap(name), o);
          if (f) {
            followed.set(name, f);
            o.log(`sse: ${name} from ${f.key} at version ${f.channel.version}`);
          }
        }
      }
      if (followed.size === 0) {
        await sleep(Math.min(RESCAN_MS, 500));
        continue;
      }
      const list = [...followed.values()];
      const res = (await reader.xRead(list.map((f) => ({ key: f.key, id: f.lastId })), { COUNT: 1000, BLOCK: 1000 })) as { name: string; messages: Entry[] }[] | null;
      failures = 0;
      for (const stream of res ?? []) {
        const f = list.find((x) => x.key === stream.name);
        if (f === undefined) continue;
        for (const e of stream.messages) apply(f, e, true, o.format);
        const last = stream.messages[stream.messages.length - 1];
        if (last) f.lastId = last.id;
      }
    } catch (err) {
      if (isAborted()) return;
      if (err instanceof RuntimeError) throw err;
      await sleep(reconnectDelayMs(failures++));
    }
  }
}

/** The strategies with a stream under the prefix, sorted. */
async function listStrategies(control: RedisClient, prefix: string): Promise<string[]> {
  const head = `${prefix}:heatmap:`;
  const names = new Set<string>();
  for await (const batch of control.scanIterator({ MATCH: `${head}*`, TYPE: 'stream', COUNT: 200 })) {
    for (const key of batch as unknown as string[]) names.add(key.slice(head.length));
  }
  return [...names].sort();
}

/**
 * Loads one strategy: snapshot key → state; the versions before it → history; the entries after
 * it → the versions since. Undefined when the stream cannot be folded yet (its start was trimmed
 * and no snapshot is written yet): it is tried again at the next scan. Everything is read first;
 * the channel is created and filled afterwards in one synchronous step, so no client can attach to
 * a half-loaded channel.
 */
async function load(server: SseServer, strategy: string, control: RedisClient, key: string, o: RedisSseOptions): Promise<Followed | undefined> {
  const snapshotText = await control.get(`${key}:snapshot`);
  type Snap = { format?: number; version: number; at_us: number | null; hash: string; tiles: unknown[]; marks?: [string, number, number, string][] };
  let snap: Snap | undefined;
  let history: Entry[] = [];
  if (snapshotText !== null) {
    snap = JSON.parse(snapshotText) as Snap;
    if ((snap.format === 2 ? 2 : 1) !== o.format) throw wrongFormat(`${key}:snapshot`, o.format);
    const from = Math.max(1, snap.version - o.historyVersions + 1);
    history = snap.version === 0 ? [] : (((await control.xRange(key, `${from}-0`, `${snap.version}-0`)) ?? []) as Entry[]);
  } else {
    const first = ((await control.xRange(key, '-', '+', { COUNT: 1 })) ?? [])[0] as Entry | undefined;
    if (first !== undefined && Number(first.id.split('-')[0]) > 1) return undefined;
  }
  // The versions after the snapshot (and the gap/error lines between them: past, not re-announced).
  const since: Entry[] = [];
  let lastId = `${snap?.version ?? 0}-0`;
  for (;;) {
    const page = ((await control.xRange(key, `(${lastId}`, '+', { COUNT: 1000 })) ?? []) as Entry[];
    since.push(...page);
    if (page.length === 0) break;
    lastId = page[page.length - 1]!.id;
    if (page.length < 1000) break;
  }

  // The fold checks every version's number, prev_hash and hash. It starts from the snapshot, whose
  // format 1 hash it cannot know and does not need (only the tiles are used here).
  const folder = o.format === 2 ? new Format2Folder({ baseHashes: { [strategy]: '' } }) : undefined;
  const channel = server.channel(strategy);
  if (snap !== undefined) {
    let tiles: PublishedTile[];
    const marks: [string, MarkLike][] = [];
    if (folder) {
      folder.push({ type: 'snapshot', ...snap });
      tiles = folder.tiles(strategy);
      for (const [ticker, price, ts_us, source] of snap.marks ?? []) marks.push([ticker, { price, ts_us, source } as MarkLike]);
    } else {
      tiles = snap.tiles as PublishedTile[];
    }
    const lines = history.filter((e) => e.id.endsWith('-0')).map((e) => ({ version: Number(e.id.slice(0, -2)), line: String(e.message['line']) }));
    channel.seed({ version: snap.version, at_us: snap.at_us, hash: snap.hash }, tiles, marks, lines);
  }
  const f: Followed = { strategy, key, channel, folder, lastId };
  for (const e of since) apply(f, e, false, o.format);
  return f;
}

/** One stream entry into the channel: a version is published; a gap or error is announced when live. */
function apply(f: Followed, e: Entry, isLive: boolean, format: 1 | 2): void {
  const line = String(e.message['line']);
  const o = JSON.parse(line) as { type?: string; format?: number };
  if (o.type === 'version') {
    if ((o.format === 2 ? 2 : 1) !== format) throw wrongFormat(f.key, format);
    let rec: VersionRecord;
    if (f.folder) {
      const v1 = JSON.parse(f.folder.push(o)[0]!) as VersionRecord;
      const v2 = o as unknown as { prev_hash: string; hash: string };
      rec = { ...v1, format: 2, prev_hash: v2.prev_hash, hash: v2.hash };
    } else {
      rec = o as unknown as VersionRecord;
    }
    f.channel.publish(withVersionLine(rec, Buffer.from(line, 'utf8')));
  } else if (isLive && o.type === 'gap') {
    f.channel.notice('gap', line);
  } else if (isLive && o.type === 'error') {
    f.channel.notice('failed', line);
  }
}

function wrongFormat(key: string, format: 1 | 2): RuntimeError {
  const other = format === 2 ? 1 : 2;
  return new RuntimeError(`${key} holds format ${other} lines; serve them with heatmap sse --format ${other}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
