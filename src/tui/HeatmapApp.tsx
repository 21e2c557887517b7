import { useApp, useInput, useStdin } from 'ink';
import { useReducer, useState, type ReactElement } from 'react';
import type { Pacer } from '../replay/pacer.js';
import { applyUiAction, INITIAL_UI, keysToActions, nextSpeed, type UiState } from './controls.js';
import { listSeries } from './grid-model.js';
import { HeatmapView, type ControlState } from './HeatmapView.js';
import { useStoreSnapshot, useTerminalSize } from './hooks.js';
import type { TileStore } from './tile-store.js';

/** The replay controls the keys act on: the pacer's speed and pause (absent: keys do nothing to pace). */
export type PaceControl = Pick<Pacer, 'speed' | 'paused' | 'lagMs'>;

export interface HeatmapAppProps {
  readonly store: TileStore;
  readonly underlying: string;
  readonly pacer?: PaceControl;
  /** Called on q / Ctrl-C before the app exits: stops the replay. */
  readonly onQuit: () => void;
  /** Frame rate cap for store-driven renders. */
  readonly fps?: number;
  readonly initialUi?: UiState;
}

/**
 * The live terminal heatmap: samples the store on a timer, lays out to the terminal size, and
 * maps keys to the UI state, the pacer and quitting. Rendering is `HeatmapView`'s job.
 */
export function HeatmapApp(props: HeatmapAppProps): ReactElement {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const snapshot = useStoreSnapshot(props.store, props.fps);
  const { columns, rows } = useTerminalSize();
  const [ui, setUi] = useState<UiState>(props.initialUi ?? INITIAL_UI);
  // the pacer is mutable and outside React: re-render after changing it
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const pacer = props.pacer;

  useInput(
    (input, key) => {
      for (const action of keysToActions(input, key)) {
        switch (action.type) {
          case 'quit':
            props.onQuit();
            exit();
            return;
          case 'speed':
            if (pacer && !snapshot.finished) pacer.speed = nextSpeed(pacer.speed, action.delta);
            bump();
            break;
          case 'pause':
            if (pacer && !snapshot.finished) pacer.paused = !pacer.paused;
            bump();
            break;
          default:
            // ↑/↓ walk the series of the strategy selected when the key is applied
            setUi((s) => {
              const view = snapshot.strategies[s.strategyIndex];
              const seriesKeys = view ? listSeries(view.tiles.values()).map((t) => t.key) : [];
              return applyUiAction(s, action, snapshot.strategies.length, seriesKeys);
            });
        }
      }
    },
    { isActive: isRawModeSupported === true },
  );

  const control: ControlState = pacer ? { speed: pacer.speed, paused: pacer.paused, lagMs: pacer.lagMs } : { speed: 'max', paused: false, lagMs: 0 };
  return <HeatmapView snapshot={snapshot} ui={ui} underlying={props.underlying} control={control} columns={columns} rows={rows} />;
}
