import { Command } from 'commander';
import { MAX_LINE_FLAG, parseMaxLineBytes } from './parse-options.js';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('show what a recording holds: streams, files, time span, counts by event type, snapshots, gaps, bad lines')
    .argument('<recording>', 'recording directory')
    .option('--json', 'print the report as one JSON object instead of text')
    .option(...MAX_LINE_FLAG)
    .action(async (recording: string, opts: { json?: boolean; maxLineMib?: string }) => {
      const maxLineBytes = parseMaxLineBytes(opts.maxLineMib);
      const { inspectRecording, formatInspection } = await import('../recording/inspect.js');
      const report = await inspectRecording(recording, { maxLineBytes });
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatInspection(report));
    });
}
