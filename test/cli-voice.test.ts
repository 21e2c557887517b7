/**
 * The command line a user meets: `heatmap` alone prints the help (exit 0), every usage error —
 * commander's own (unknown command or flag, missing required option) and ours — speaks with one
 * `heatmap:` voice and exits 2 without a stack trace, and `--help` marks the required options.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/cli.js';

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests (npm test does)');
});

/** No commander prefix, no stack frame: one `heatmap:` voice. */
function expectOneVoice(stderr: string): void {
  expect(stderr).toMatch(/^heatmap: /);
  expect(stderr).not.toMatch(/^error:/m);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('heatmap with no arguments', () => {
  it('prints the help on stdout and exits 0', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: heatmap \[options\] \[command\]/);
    expect(r.stdout).toMatch(/Exit codes: 0 success/);
    expect(r.stderr).toBe('');
  });
});

describe('usage errors speak as heatmap: and exit 2', () => {
  it('an unknown command', async () => {
    const r = await runCli(['bogus']);
    expect(r.code).toBe(2);
    expectOneVoice(r.stderr);
    expect(r.stderr).toMatch(/^heatmap: unknown command 'bogus'/);
    expect(r.stderr).toMatch(/heatmap --help/);
  });

  it('an unknown flag', async () => {
    const r = await runCli(['inspect', 'fixtures/open-3m', '--bogus']);
    expect(r.code).toBe(2);
    expectOneVoice(r.stderr);
    expect(r.stderr).toMatch(/^heatmap: unknown option '--bogus'/);
    expect(r.stderr).toMatch(/heatmap inspect --help/);
  });

  it('a missing required option (serve --port)', async () => {
    const r = await runCli(['serve', 'fixtures/open-3m']);
    expect(r.code).toBe(2);
    expectOneVoice(r.stderr);
    expect(r.stderr).toMatch(/^heatmap: required option '--port <port>' not specified/);
    expect(r.stderr).toMatch(/heatmap serve --help/);
  });

  it('a missing required option (record --out, import --out)', async () => {
    for (const args of [['record'], ['import', 'x.csv']]) {
      const r = await runCli(args, { env: { MASSIVE_API_KEY: 'k' } });
      expect(r.code, args.join(' ')).toBe(2);
      expectOneVoice(r.stderr);
      expect(r.stderr).toMatch(/^heatmap: required option '--out <dir>' not specified/);
    }
  });

  it('a missing argument and a bad value of ours share the voice', async () => {
    const missing = await runCli(['inspect']);
    expect(missing.code).toBe(2);
    expectOneVoice(missing.stderr);
    expect(missing.stderr).toMatch(/^heatmap: missing required argument 'recording'/);
    const bad = await runCli(['serve', 'fixtures/open-3m', '--port', 'eighty']);
    expect(bad.code).toBe(2);
    expectOneVoice(bad.stderr);
  });

  it('--help and --version still exit 0 on stdout', async () => {
    const help = await runCli(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: heatmap serve/);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('--help marks the required options', () => {
  const optionLine = (help: string, flag: string): string => help.split('\n').find((l) => l.trimStart().startsWith(flag)) ?? '';

  it('serve --port, record --out, import --out', async () => {
    for (const [cmd, flag] of [['serve', '--port <port>'], ['record', '--out <dir>'], ['import', '--out <dir>']] as const) {
      const r = await runCli([cmd, '--help']);
      expect(r.code).toBe(0);
      // The usage line names the required option, and its description says so.
      expect(r.stdout.split('\n')[0], cmd).toContain(flag);
      const line = optionLine(r.stdout, flag);
      const block = r.stdout.slice(r.stdout.indexOf(line)).split(/\n  --/)[0]!;
      expect(block, `${cmd} ${flag}`).toMatch(/\(required\)/);
    }
  });

  it('optional flags are not marked', async () => {
    const r = await runCli(['serve', '--help']);
    const line = optionLine(r.stdout, '--speed <n>');
    const block = r.stdout.slice(r.stdout.indexOf(line)).split(/\n  --/)[0]!;
    expect(block).not.toMatch(/required/);
  });
});
