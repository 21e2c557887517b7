import type { EngineView } from '../engine/engine.js';
import type { EngineOutput } from '../engine/types.js';
import type { Pacer } from './pacer.js';
import type { ReplayOutcome } from './replay.js';

/**
 * Something besides the NDJSON stream that consumes a replay's (or a live session's) outputs: the
 * terminal heatmap (`--tui`), the SSE server (`--sse`), the Parquet tile history (`--parquet`).
 * Consumers see every output record after the NDJSON sink, plus a read-only view of the engine's
 * clock and spot — never the engine — and must not block: they only read.
 */
export interface OutputConsumer {
  /**
   * True when the consumer needs every record in stream order across strategies (a tile history).
   * Otherwise it is a per-strategy view (SSE, the terminal): when the strategies run in worker
   * pipelines it gets each strategy's records, in that strategy's order, as soon as the strategy
   * publishes them — never held back by another strategy.
   */
  readonly ordered?: boolean;
  onOutput(out: EngineOutput, view: EngineView): void;
  /** Backpressure (e.g. Redis slower than the engine): a promise while the run should wait. */
  drain?(): Promise<void> | undefined;
  onProgress?(p: { lines: number; recv_us: number; versions: number }): void;
  /** Called once after the last input (also after an abort); undefined when the run failed. */
  close(result: ReplayOutcome | undefined): Promise<void>;
}

/** Context handed to consumer factories. */
export interface ConsumerContext {
  readonly underlying: string;
  readonly strategies: readonly string[];
  /** Present whenever the replay is paced (always with --tui, which may switch to max and back). */
  readonly pacer: Pacer | undefined;
  /** Aborting stops the replay after the current input (the TUI's quit key). */
  readonly abort: AbortController;
}
