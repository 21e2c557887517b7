import { Command } from 'commander';
import { FORMAT_FLAG, MAX_LINE_FLAG, STRATEGY_MODULE_FLAG } from './parse-options.js';

export interface VerifyCliOptions {
  /** `--strategy-module FILE`, repeatable. */
  strategyModule?: string[];
  expect?: string;
  writeExpect?: string;
  config?: string;
  strategies?: string;
  speed?: string;
  format?: string;
  maxLineMib?: string;
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description('replay a recording twice (flat out, in worker threads when there are cores for them; then paced, in one thread) and check that the outputs and version hash chains are identical')
    .argument('<recording>', 'recording directory')
    .option('--expect <file>', 'also compare the final hashes and version counts with this expect file')
    .option('--write-expect <file>', 'write the expect file from this run (after the two runs agree)')
    .option('--config <file>', 'engine configuration JSON')
    .option('--strategies <list>', 'comma-separated strategies to run (default: all enabled)')
    .option(...STRATEGY_MODULE_FLAG)
    .option(...FORMAT_FLAG)
    .option(...MAX_LINE_FLAG)
    .option('--speed <N>', 'speed of the paced second run (default: chosen so that it takes about 2 s)')
    .addHelpText(
      'after',
      '\nExit codes: 0 when both runs agree (and match --expect), 1 on any difference (the first diverging\n' +
        'version is printed), 2 on bad usage or input.\n' +
        'Expect file: {"strategies": {"fly": {"versions": 12, "final_hash": "…", "hashes": […]}, …},\n' +
        '              "format2": {"strategies": {…the same for the format 2 chain…}}}\n' +
        '--expect checks the section of the run\'s --format; --write-expect writes that section and keeps the other.',
    )
    .action(async (recording: string, opts: VerifyCliOptions) => {
      const { runVerify } = await import('./verify-run.js');
      await runVerify(recording, opts);
    });
}
