// first: decides which React build the imports below load
import './react-mode.js';
import { render, type Instance } from 'ink';
import { createElement } from 'react';
import type { ConsumerContext, OutputConsumer } from '../replay/consumer.js';
import { HeatmapApp } from './HeatmapApp.js';
import { DEFAULT_FPS } from './hooks.js';
import type { TuiTerminal } from './terminal.js';
import { TileStore } from './tile-store.js';

/**
 * `--tui` as a replay output consumer: folds every published version into the UI's store and runs
 * the Ink app on the chosen terminal. Interactive sessions use the alternate screen, so quitting
 * leaves the terminal as it was; when the replay ends the final heatmap stays until `q`. Without
 * a keyboard (stdin not a TTY) the last frame is left on the normal screen and the run ends.
 */

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
// Clear the alternate screen before leaving it: tmux, when the window grew meanwhile, otherwise
// carries a line of it over to the normal screen.
const LEAVE_ALT_SCREEN = '\x1b[2J\x1b[H\x1b[?1049l';

/** Mounts the terminal heatmap for a replay and returns the consumer that feeds it. */
export function createTuiConsumer(ctx: ConsumerContext, term: TuiTerminal, stdin: NodeJS.ReadStream = process.stdin): OutputConsumer {
  const store = new TileStore(ctx.strategies);
  const quit = (): void => {
    ctx.abort.abort();
    // a paused replay is waiting on the pacer: release it so it sees the abort
    if (ctx.pacer) ctx.pacer.paused = false;
  };

  let altScreen = false;
  const leaveAltScreen = (): void => {
    if (!altScreen) return;
    altScreen = false;
    term.out.write(LEAVE_ALT_SCREEN);
  };
  if (term.interactive) {
    term.out.write(ENTER_ALT_SCREEN);
    altScreen = true;
    process.once('exit', leaveAltScreen); // a crash must not leave the user on the alternate screen
  }

  const app = createElement(HeatmapApp, { store, underlying: ctx.underlying, pacer: ctx.pacer, onQuit: quit });
  const instance: Instance = render(app, {
    stdout: term.out,
    stdin,
    stderr: process.stderr,
    exitOnCtrlC: false, // Ctrl-C is a key like q: stop the replay, then unmount
    patchConsole: true,
    maxFps: 30,
  });
  // Outside raw mode (no keyboard) Ctrl-C is a signal; `kill` may send one too. Stop gracefully.
  const onSignal = (): void => {
    quit();
    instance.unmount();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let uiError: unknown;
  let closing = false;
  const exited = instance
    .waitUntilExit()
    .then(
      () => undefined,
      (err: unknown) => {
        uiError = err;
        quit();
      },
    )
    .then(() => {
      // The UI is gone: give the terminal back now, not when the replay loop notices the abort
      // (the pacer may be sleeping through a quiet stretch of the recording). A second Ctrl-C
      // gets Node's default again and ends the process at once.
      leaveAltScreen();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (!closing) {
        setTimeout(() => {
          if (!closing) process.stderr.write('heatmap: stopping after the replay\'s current wait (Ctrl-C to stop at once)\n');
        }, 500).unref();
      }
    });

  return {
    onOutput(out, view) {
      store.onOutput(out, out.type === 'version' ? view.spot : undefined, view.now);
    },
    onProgress(p) {
      store.onProgress(p);
    },
    async close(result) {
      closing = true;
      store.finish(result && !result.aborted ? 'end' : 'aborted');
      if (!term.interactive || ctx.abort.signal.aborted) {
        // let the frame timer pick up the final state, then unmount (a no-op after `q`)
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(2000 / DEFAULT_FPS)));
        instance.unmount();
      }
      await exited;
      process.off('exit', leaveAltScreen);
      if (term.dropsNdjson) {
        process.stderr.write('heatmap: the NDJSON stream was not written (stdout was the TUI\'s screen); add --out FILE to keep it\n');
      }
      if (uiError !== undefined) throw uiError;
    },
  };
}
