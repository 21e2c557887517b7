import { Command, CommanderError, Help, type Option } from 'commander';
import { exitCodeOf } from '../errors.js';
import { simCommand } from './sim.js';
import { replayCommand } from './replay.js';
import { verifyCommand } from './verify.js';
import { inspectCommand } from './inspect.js';
import { recordCommand } from './record.js';
import { serveCommand } from './serve.js';
import { liveCommand } from './live.js';
import { convertCommand } from './convert.js';
import { importCommand } from './import.js';
import { feedCommand } from './feed.js';
import { pipelineCommand } from './pipeline.js';
import { sseCommand } from './sse.js';

/** Builds the `heatmap` program. Each command lives in its own file and imports heavy modules lazily. */
export function buildProgram(): Command {
  const program = new Command('heatmap')
    .description('Record, replay and simulate the Massive (ex-Polygon.io) options market data plane as deterministic, versioned per-strategy heatmaps (NDJSON, SSE, terminal).')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  heatmap sim --out recordings/demo --duration 10m --seed 7\n' +
        '  heatmap replay recordings/demo --strategies fly,vertical --out versions.ndjson\n' +
        '  heatmap replay fixtures/open-3m --tui\n' +
        '  heatmap verify fixtures/open-3m --expect fixtures/open-3m.expect.json\n' +
        '\nExit codes: 0 success, 1 runtime failure, 2 bad usage or bad input.',
    );
  for (const make of [simCommand, replayCommand, verifyCommand, inspectCommand, recordCommand, serveCommand, liveCommand, convertCommand, importCommand, feedCommand, pipelineCommand, sseCommand]) {
    program.addCommand(make());
  }
  for (const cmd of [program, ...program.commands]) speakAsHeatmap(cmd);
  return program;
}

/**
 * One voice for every command (commands made with `new Command` inherit none of this from the
 * program): commander's usage errors say `heatmap: …` like ours, and point at the command's own
 * --help; --help names the required options in the usage line and marks them `(required)`; and
 * commander throws instead of exiting, so that `main` decides the exit code.
 */
function speakAsHeatmap(cmd: Command): void {
  const name = cmd.parent ? `heatmap ${cmd.name()}` : 'heatmap';
  cmd
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'heatmap: ')) })
    .showHelpAfterError(`(run ${name} --help for usage)`)
    .configureHelp({
      optionDescription(this: Help, option: Option): string {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    });
  const required = cmd.options.filter((o) => o.mandatory).map((o) => o.flags);
  if (required.length > 0) cmd.usage(`${required.join(' ')} ${cmd.usage()}`);
}

/** Entry point: runs the CLI and returns the exit code (only this function decides exit codes). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    // `heatmap` alone asks what there is: the help, on stdout, as a success (not commander's usage error).
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv as string[]);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; help shown for a mistake (`heatmap help nosuch`) and every usage
      // error (already printed, as `heatmap: …`) exit 2.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`heatmap: ${message}\n`);
    if (process.env.HEATMAP_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return exitCodeOf(err);
  }
}
