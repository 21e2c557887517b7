import { useStdout } from 'ink';
import { useEffect, useState } from 'react';
import type { StoreSnapshot, TileStore } from './tile-store.js';

/** Default UI frame rate: the store is sampled at most this often, whatever the replay speed. */
export const DEFAULT_FPS = 20;

/** Even with no new versions the header (rates, lag, clock) refreshes this often. */
const IDLE_REFRESH_MS = 500;

/**
 * The store's snapshot, refreshed on a timer at `fps` when the store changed (and every 500 ms
 * regardless, for the rates) — never per version, so a replay at `--speed max` costs at most `fps`
 * renders a second.
 */
export function useStoreSnapshot(store: TileStore, fps = DEFAULT_FPS): StoreSnapshot {
  const [snapshot, setSnapshot] = useState(() => store.snapshot());
  useEffect(() => {
    let lastRevision = store.revision;
    let lastAt = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      if (store.revision === lastRevision && now - lastAt < IDLE_REFRESH_MS) return;
      lastRevision = store.revision;
      lastAt = now;
      setSnapshot(store.snapshot());
    }, Math.max(1, Math.round(1000 / fps)));
    return () => clearInterval(timer);
  }, [store, fps]);
  return snapshot;
}

/** Terminal size in characters, updated on `resize` (80×24 when the stream does not know). */
export function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = (): { columns: number; rows: number } => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
