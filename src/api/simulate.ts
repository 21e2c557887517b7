import { RecordingWriter } from '../recording/writer.js';
import { generateSim, type SimStats } from '../sim/generate.js';
import { checkSimParams, manifestSimParams, simParams, type SimParams } from '../sim/params.js';

/**
 * Writes a seeded synthetic market as a recording directory (what `heatmap sim` does): the same
 * parameters give the same bytes. Omitted parameters take `heatmap sim`'s defaults.
 */
export async function simulate(outDir: string, params: Partial<SimParams> = {}, options: { gzip?: boolean; overwrite?: boolean } = {}): Promise<SimStats> {
  const p = simParams(params);
  checkSimParams(p);
  const writer = await RecordingWriter.create(outDir, {
    underlying: p.underlying,
    source: 'sim',
    created_us: p.start_us,
    sim: { seed: p.seed, params: manifestSimParams(p) },
    gzip: options.gzip ?? true,
    flushIntervalMs: 0,
    overwrite: options.overwrite ?? false,
  });
  try {
    return await generateSim(p, writer);
  } finally {
    await writer.close();
  }
}
