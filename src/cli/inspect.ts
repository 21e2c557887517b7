import { Command } from 'commander';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('show what a recording holds: streams, files, time span, counts by event type, snapshots, gaps, bad lines')
    .argument('<recording>', 'recording directory')
    .option('--json', 'print the report as one JSON object instead of text')
    .action(async (recording: string, opts: { json?: boolean }) => {
      const { inspectRecording, formatInspection } = await import('../recording/inspect.js');
      const report = await inspectRecording(recording);
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatInspection(report));
    });
}
