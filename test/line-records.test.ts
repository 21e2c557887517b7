import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../src/api/replay.js';
import { defaultConfig } from '../src/engine/config.js';
import { versionBytes } from '../src/engine/publisher.js';
import { rowTilesOf } from '../src/engine/row-tile.js';
import type { VersionRecord } from '../src/engine/types.js';
import { VersionFold } from '../src/engine/version-fold.js';
import { LineRecords } from '../src/replay/line-records.js';
import { ROOT } from './helpers/cli.js';

/**
 * The records a worker pipeline's lines are rebuilt into (`LineRecords`) must be the engine's own
 * records, and a stream's state folded from their rows — tiles made only for a snapshot — must be
 * the state folded from the engine's tiles.
 */

const FIXTURE = path.join(ROOT, 'fixtures/open-3m');

describe('LineRecords and VersionFold over rows', () => {
  it('rebuild every version of the fixture, and fold to the same snapshots as the engine’s records', async () => {
    const strategies = ['single', 'vertical', 'fly'];
    const records = new Map(strategies.map((s) => [s, new LineRecords(2)]));
    const fromEngine = new Map(strategies.map((s) => [s, new VersionFold(s, 2)]));
    const fromRows = new Map(strategies.map((s) => [s, new VersionFold(s, 2)]));
    let versions = 0;
    let compared = 0;
    for await (const out of replay(FIXTURE, { config: defaultConfig(), format: 2 })) {
      if (out.type !== 'version') continue;
      const rec = out as VersionRecord;
      const line = versionBytes(rec);
      const rebuilt = records.get(rec.strategy)!.record(Buffer.from(line)) as VersionRecord;
      expect(rowTilesOf(rebuilt)).toHaveLength(rec.upserts.length);
      fromEngine.get(rec.strategy)!.apply(rec);
      fromRows.get(rec.strategy)!.apply(rebuilt);
      // every 7th version: the rebuilt tiles, and the two folds' snapshots (tiles made from rows)
      if (++versions % 7 === 0) {
        expect(rebuilt.upserts).toEqual(rec.upserts);
        expect(versionBytes(rebuilt).equals(line)).toBe(true);
        const a = fromEngine.get(rec.strategy)!;
        const b = fromRows.get(rec.strategy)!;
        expect(JSON.stringify(b.snapshot())).toBe(JSON.stringify(a.snapshot()));
        compared++;
      }
    }
    expect(versions).toBeGreaterThan(100);
    expect(compared).toBeGreaterThan(10);
    for (const s of strategies) expect(JSON.stringify(fromRows.get(s)!.snapshot())).toBe(JSON.stringify(fromEngine.get(s)!.snapshot()));
  }, 120_000);
});
