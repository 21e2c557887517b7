import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/**
 * What the command line loads before it starts working. Loading the `redis` client package costs
 * ~170 ms (hundreds of CommonJS files) at every start — ~3 % of a day's replay at `--speed max` —
 * so it is loaded only by the commands and flags that talk to Redis.
 */
describe('startup imports', () => {
  // Runs heatmap's CLI module in a child process (as bin/heatmap.js does), then lists the package
  // files the CommonJS loader has read.
  const loadedPackages = (args: string[]): string[] => {
    const script = `
      import { createRequire } from 'node:module';
      const { main } = await import(${JSON.stringify(path.join(ROOT, 'dist/cli/main.js'))});
      process.exitCode = await main(['node', 'heatmap', ...${JSON.stringify(args)}]) ?? 0;
      const cache = createRequire(import.meta.url).cache;
      const pkgs = new Set(Object.keys(cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
      process.stderr.write('PKGS ' + JSON.stringify([...pkgs].sort()) + '\\n');
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const line = r.stderr.split('\n').find((l) => l.startsWith('PKGS '));
    expect(line, r.stderr).toBeDefined();
    return JSON.parse(line!.slice(5)) as string[];
  };

  it('a replay without Redis flags does not load the Redis client', () => {
    const pkgs = loadedPackages(['replay', path.join(ROOT, 'fixtures', 'open-3m'), '--speed', 'max', '--out', '/dev/null', '--no-progress', '--strategies', 'single']);
    expect(pkgs).toContain('commander'); // the check sees the packages the CLI does load
    expect(pkgs.filter((p) => p === 'redis' || p.startsWith('@redis/'))).toEqual([]);
  }, 60_000);
});
