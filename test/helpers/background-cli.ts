/**
 * `heatmap …` as a background process a test can wait on, signal, or `kill -9`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, ROOT } from './cli.js';

export interface BackgroundCli {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves once stderr contains `text` (bounded). */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

export function startCli(args: readonly string[], env: Record<string, string> = {}): BackgroundCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    async waitForStderr(text, timeoutMs = 60_000) {
      const deadline = performance.now() + timeoutMs;
      const has = (): boolean => (typeof text === 'string' ? stderr.includes(text) : text.test(stderr));
      while (!has()) {
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before stderr had ${String(text)}:\n${stderr}`);
        if (performance.now() > deadline) throw new Error(`timed out waiting for stderr ${String(text)}:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
