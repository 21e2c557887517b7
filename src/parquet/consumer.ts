import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { ConsumerContext, OutputConsumer } from '../replay/consumer.js';
import type { EngineOutput } from '../engine/types.js';
import { TileHistoryWriter } from './tiles.js';

/**
 * `heatmap replay … --parquet DIR`: writes the tile history of the run to `DIR/tiles.parquet` as the
 * versions are published (constant memory: one row group buffered). The same rows as
 * `heatmap convert versions.ndjson`. Replaces an existing `tiles.parquet`, as `--out` replaces its file.
 * On a failed run the partial file is removed; on an aborted one (TUI quit) what was published is kept.
 */
export async function createParquetConsumer(dir: string, ctx: Pick<ConsumerContext, 'underlying' | 'strategies'>): Promise<OutputConsumer> {
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new InputError(`--parquet ${dir}: cannot create the directory (${err instanceof Error ? err.message : String(err)})`);
  }
  const file = path.join(dir, 'tiles.parquet');
  const writer = TileHistoryWriter.open(file, {
    metadata: { 'heatmap.underlying': ctx.underlying, 'heatmap.strategies': ctx.strategies.join(',') },
  });
  return {
    ordered: true, // rows in stream order: the same file whether the strategies run in threads or not
    onOutput(out: EngineOutput): void {
      if (out.type === 'version') writer.addVersion(out);
    },
    async close(result): Promise<void> {
      if (result === undefined) {
        writer.abort();
        return;
      }
      const t = writer.close();
      process.stderr.write(`  wrote ${t.rows.toLocaleString('en-US')} tile rows (${writer.versions} versions) to ${t.file}\n`);
    },
  };
}
