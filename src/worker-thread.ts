import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts one of our worker threads: `file` is its built module, relative to `dist/` (e.g.
 * `replay/pipeline-worker.js`; under vitest the sources are .ts and the worker is still the built
 * file). Whatever the thread prints — a strategy module's console output included — goes to our
 * stderr: stdout carries the NDJSON stream.
 */
export function startWorker(file: string, options: Omit<WorkerOptions, 'stdout' | 'stderr'>): Worker {
  const url = import.meta.url.endsWith('.ts') ? new URL(`../dist/${file}`, import.meta.url) : new URL(`./${file}`, import.meta.url);
  const worker = new Worker(url, { ...options, stdout: true, stderr: true });
  worker.stdout.pipe(process.stderr, { end: false });
  worker.stderr.pipe(process.stderr, { end: false });
  return worker;
}
