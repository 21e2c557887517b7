#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('heatmap: dist/ is missing — run `npm ci` (or `npm run build`) in the heatmap checkout first\n');
  process.exit(1);
}
// A reader that goes away (`heatmap --help | head -3`) ends our output, not in a stack trace:
// with a listener, a failed stdout write is an event. The NDJSON sink watches stdout itself.
process.stdout.on('error', () => {});
// stdout carries the NDJSON stream: anything a strategy module prints with console.* goes to stderr.
// The methods are replaced, not the object: Ink (--tui) patches the same console and uses its
// other members (console.Console).
const { Console } = await import('node:console');
const toStderr = new Console({ stdout: process.stderr, stderr: process.stderr });
for (const [name, method] of Object.entries(toStderr)) if (typeof method === 'function') console[name] = method;
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
