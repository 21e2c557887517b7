import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Format2Folder } from '../engine/format2-fold.js';
import { InputError } from '../errors.js';
import { NdjsonSink } from '../sinks/ndjson.js';

/**
 * `heatmap convert FILE --to ndjson --format 1`: folds a format 2 versions file (plain or .gz)
 * into the format 1 stream, line for line (DESIGN §3.1: lossless). Format 1 lines pass through.
 * A line that does not fold (a missing version, an altered line) stops the run with its number:
 * every line after it would be wrong.
 */
export async function foldVersionsFile(input: string, out: string | undefined): Promise<void> {
  const st = await stat(input).catch(() => undefined);
  if (!st?.isFile()) throw new InputError(`${input} is not a file — give a versions .ndjson[.gz] written by heatmap replay`);
  let source: Readable = createReadStream(input);
  if (input.endsWith('.gz')) source = source.pipe(createGunzip());
  const sink = NdjsonSink.open(out);
  const folder = new Format2Folder();
  let lineNo = 0;
  let folded = 0;
  try {
    for await (const line of createInterface({ input: source, crlfDelay: Infinity })) {
      lineNo++;
      if (line.trim() === '') continue;
      let outLines: string[];
      try {
        outLines = folder.push(line);
      } catch (err) {
        throw new InputError(`${input}:${lineNo}: cannot fold this line into format 1: ${err instanceof Error ? err.message : String(err)}`);
      }
      for (const l of outLines) sink.write(l);
      folded++;
      const blocked = sink.drain();
      if (blocked) await blocked;
      if (sink.closedByReader) break;
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read ${input}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await sink.close();
  }
  process.stderr.write(`folded ${folded.toLocaleString('en-US')} lines of ${input} into format 1\n`);
}
