/**
 * Output lines packed for the trip from a worker thread to the main thread: one buffer of the
 * lines, each with its newline, and where each line ends. Made on the worker's core and
 * transferred (`bytes.buffer`, `ends.buffer`), never copied again.
 */
export function packLines(lines: readonly Uint8Array[]): { readonly bytes: Buffer; readonly ends: Uint32Array } {
  let size = lines.length; // the newlines
  for (const line of lines) size += line.length;
  const bytes = Buffer.allocUnsafeSlow(size);
  const ends = new Uint32Array(lines.length);
  let pos = 0;
  for (let i = 0; i < lines.length; i++) {
    bytes.set(lines[i]!, pos);
    pos += lines[i]!.length;
    bytes[pos++] = 0x0a;
    ends[i] = pos;
  }
  return { bytes, ends };
}
