/**
 * Files written "atomically" (temp file in the same directory + rename) leave nothing behind when
 * the write fails: no `.manifest.json.<pid>.<n>.tmp` in a recording after ENOSPC, no truncated expect
 * file, and `verify --write-expect FILE` names FILE when it cannot write it (exit 1).
 *
 * A full disk cannot be made on demand, so ENOSPC is simulated the way it happens: the temp file is
 * created (0 bytes) and then the write fails.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MANIFEST_FILE, formatManifest, writeFileAtomic, writeManifest, type Manifest } from '../src/recording/manifest.js';
import { runCli, tempDir } from './helpers/cli.js';

const MANIFEST: Manifest = { format: 'heatmap-recording', version: 1, underlying: 'I:SPX', source: 'sim', created_us: 1, streams: {} };

/** Makes the next fsp.writeFile behave like a write on a full disk: the file is created, then ENOSPC. */
function failNextWriteWithEnospc(): void {
  const real = fsp.writeFile.bind(fsp);
  vi.spyOn(fsp, 'writeFile').mockImplementationOnce(async (file) => {
    await real(file as string, ''); // open(O_CREAT|O_TRUNC) succeeded…
    throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28, syscall: 'write' }); // …the write did not
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('writeManifest on a full disk', () => {
  it('leaves no .manifest.json.*.tmp behind and keeps the previous manifest', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeManifest(dir, MANIFEST);
      failNextWriteWithEnospc();
      await expect(writeManifest(dir, { ...MANIFEST, created_us: 2 })).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(await fsp.readdir(dir)).toEqual([MANIFEST_FILE]);
      expect(await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8')).toBe(formatManifest(MANIFEST));
    } finally {
      await cleanup();
    }
  });
});

describe('writeFileAtomic', () => {
  it('writes the bytes and leaves only the target', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const target = path.join(dir, 'expect.json');
      await writeFileAtomic(target, '{"a":1}\n');
      await writeFileAtomic(target, '{"a":2}\n');
      expect(await fsp.readdir(dir)).toEqual(['expect.json']);
      expect(await fsp.readFile(target, 'utf8')).toBe('{"a":2}\n');
    } finally {
      await cleanup();
    }
  });

  it('a failed write removes its temp file and leaves the old target whole', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const target = path.join(dir, 'expect.json');
      await writeFileAtomic(target, '{"old":true}\n');
      failNextWriteWithEnospc();
      await expect(writeFileAtomic(target, '{"new":true}\n')).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(await fsp.readdir(dir)).toEqual(['expect.json']);
      expect(await fsp.readFile(target, 'utf8')).toBe('{"old":true}\n');
    } finally {
      await cleanup();
    }
  });

  it('a failed rename (the target is a non-empty directory) removes the temp file', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const target = path.join(dir, 'taken');
      await fsp.mkdir(target);
      await fsp.writeFile(path.join(target, 'x'), 'x');
      await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
      expect(await fsp.readdir(dir)).toEqual(['taken']);
    } finally {
      await cleanup();
    }
  });

  it('a directory that is a file: the error is thrown and nothing is created', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await fsp.writeFile(path.join(dir, 'file'), 'x');
      await expect(writeFileAtomic(path.join(dir, 'file', 'expect.json'), 'data')).rejects.toMatchObject({ code: 'ENOTDIR' });
      expect(await fsp.readdir(dir)).toEqual(['file']);
    } finally {
      await cleanup();
    }
  });
});

describe('verify --write-expect', () => {
  it('a path in a directory that does not exist: "cannot write FILE: …", exit 1', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'no-such-dir', 'expect.json');
      const r = await runCli(['verify', 'fixtures/closed-30m', '--strategies', 'single', '--format', '1', '--write-expect', file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot write ${file}: `);
      expect(r.stderr).toMatch(/no such file or directory/);
      expect(await fsp.readdir(dir)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('a path whose directory is a file: "cannot write FILE: …", exit 1, nothing left behind', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await fsp.writeFile(path.join(dir, 'plain'), 'x');
      const file = path.join(dir, 'plain', 'expect.json');
      const r = await runCli(['verify', 'fixtures/closed-30m', '--strategies', 'single', '--format', '1', '--write-expect', file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot write ${file}: `);
      expect(await fsp.readdir(dir)).toEqual(['plain']);
    } finally {
      await cleanup();
    }
  });

  it('a good path gets the expect file and no temp file', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'expect.json');
      const r = await runCli(['verify', 'fixtures/closed-30m', '--strategies', 'single', '--format', '1', '--write-expect', file]);
      expect(r.code).toBe(0);
      expect(await fsp.readdir(dir)).toEqual(['expect.json']);
      const e = JSON.parse(await fsp.readFile(file, 'utf8')) as { strategies: Record<string, { versions: number }> };
      expect(Object.keys(e.strategies)).toEqual(['single']);
    } finally {
      await cleanup();
    }
  });
});
