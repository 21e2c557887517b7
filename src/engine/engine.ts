import type { EngineConfig } from './config.js';
import { strategyConfigOf } from './config.js';
import { LegMarks, SpotMark } from './marks.js';
import { Pipeline } from './pipeline.js';
import type { EngineInput, EngineOutput, Fact, OptionContract, PublishedTile, SnapshotBody } from './types.js';
import { buildScope, isInScope, noSlotsReason, SnapshotAssembler } from './topology.js';
import { ContractUniverse, type Scope } from './universe.js';
import { Tally } from './tally.js';
import type { Strategy } from './strategy.js';

/**
 * The engine: a pure state machine from inputs (recording lines) to published versions.
 *
 * Clock: the receive time of the current input, plus ticks at every multiple of `tick_ms` between
 * inputs (a tick at the same µs as an input comes first). No wall clock anywhere: the same inputs
 * give the same outputs. Ticks at which no publisher can fire are skipped — the output is the same
 * as evaluating every tick, because between inputs only the time conditions can change.
 */

export interface EngineOptions {
  readonly config: EngineConfig;
  /** Spot ticker: `I:SPX` (index values) or an ETF symbol (stock trades). */
  readonly underlying: string;
  /**
   * The strategies to run, in evaluation order, each with its settings in `config` (built-in
   * section or custom entry). `resolveStrategies(config)` in src/strategies gives the enabled ones.
   */
  readonly strategies: readonly Strategy[];
  /**
   * The format of the version lines (DESIGN §3.1): 1 (default) or 2. Format 2 records carry
   * `format: 2` and the format 2 hash chain (so do the summary's final hashes); their `upserts`
   * are the same tiles as in format 1.
   */
  readonly format?: 1 | 2;
  /**
   * Output lines only: a version's upsert rows are written over by the next version's, so its
   * record's `upserts` can be read only until the strategy publishes again (later, the getter
   * throws). For runs that only write the lines (parallel replay workers, a replay whose only
   * output is NDJSON): the rows then stay in the caches instead of streaming through memory.
   */
  readonly linesOnly?: boolean;
}

export type Emit = (out: EngineOutput) => void;

/**
 * Where in the engine's schedule an output is being emitted: `input` counts the inputs pushed so far
 * (the current one included); `phase` is 0 for the ticks run before that input (`step` = the tick's
 * time), 1 while it is applied (`step` = index of the fact; MAX_SAFE_INTEGER for the topology update
 * after a chain page) and 2 for the evaluation after it. With the strategy's position in evaluation
 * order this is a total order of the outputs that is the same in every engine fed the same inputs,
 * whichever strategies it runs: a parallel replay merges the streams of several engines by it.
 */
export interface EmitPosition {
  input: number;
  phase: 0 | 1 | 2;
  step: number;
}

/**
 * What consumers of the outputs may read of the engine besides the outputs themselves: the clock,
 * the spot the tiles were scored with and the position of the output being emitted. Read-only; it
 * is all a view (the terminal heatmap) or a merger (parallel replay) needs, and it can be rebuilt
 * from output records in another thread.
 */
export interface EngineView {
  /** The engine clock (µs), undefined before the first input. */
  readonly now: number | undefined;
  /** The newest index/ETF value, else the parity estimate the topology was built with. */
  readonly spot: number | undefined;
  readonly position: Readonly<EmitPosition>;
}

export interface PipelineSummary {
  readonly versions: number;
  readonly final_hash: string;
  readonly slots: number;
  readonly populated: number;
  readonly pending: number;
  readonly error?: string;
  /**
   * Present only when the topology is built and the strategy has no slot (and did not fail): why,
   * from the facts (no expiration of the chain in scope, no strike in the band, no strike pair at
   * the widths, no contract fitting the custom legs). Absent in normal runs.
   */
  readonly no_slots_reason?: string;
}

export interface EngineSummary {
  readonly inputs: { readonly chain_page: number; readonly facts: number; readonly gap: number };
  readonly facts: {
    readonly legs: { readonly admitted: number; readonly discarded: number };
    readonly spot: { readonly admitted: number; readonly discarded: number };
  };
  readonly snapshots: { readonly complete: number; readonly incomplete: number };
  readonly topology: null | {
    readonly built_at_us: number;
    readonly session_date: string;
    readonly spot: number;
    readonly spot_source: string;
    readonly band: readonly [number, number];
    readonly expirations: readonly string[];
    readonly contracts: number;
  };
  readonly skipped: Record<string, number>;
  readonly strategies: Record<string, PipelineSummary>;
}

export class Engine {
  readonly marks = new LegMarks();
  readonly spot = new SpotMark();
  readonly universe = new ContractUniverse();
  readonly pipelines: readonly Pipeline[];
  /** Inputs the engine skipped, by reason (other-ticker spot, incomplete snapshots…). */
  readonly skipped = new Tally();
  /** The roots chain pages listed: for `leg_unknown_root` (the marks count leg facts by root). */
  private readonly chainRoots = new Set<string>();
  private scope: Scope | undefined;
  private topologyBuiltAt = 0;
  /** Expirations listed by the snapshot that fixed the scope (sorted): facts for `no_slots_reason`. */
  private chainExpirations: readonly string[] = [];
  private clock: number | undefined;
  private readonly tickUs: number;
  private readonly assembler = new SnapshotAssembler();
  private readonly inputs = { chain_page: 0, facts: 0, gap: 0 };
  /** Position of the output being emitted (read it inside `emit`). */
  readonly position: EmitPosition = { input: 0, phase: 0, step: 0 };
  /** The read-only view handed to output consumers (never the engine itself). */
  readonly view: EngineView;

  constructor(private readonly opts: EngineOptions) {
    const cfg = opts.config;
    const engine = this;
    this.view = {
      get now() {
        return engine.clock;
      },
      get spot() {
        return engine.spotValue;
      },
      position: this.position,
    };
    this.tickUs = cfg.tick_ms * 1000;
    this.pipelines = opts.strategies.map((strategy) => {
      const sc = strategyConfigOf(cfg, strategy.name);
      if (!sc) throw new Error(`strategy "${strategy.name}" has no settings in the config`);
      return new Pipeline(strategy, sc, cfg.topology.widths, this.marks, opts.format ?? 1, opts.linesOnly ?? false);
    });
  }

  /** The engine clock (µs), undefined before the first input. */
  get now(): number | undefined {
    return this.clock;
  }

  /** Current spot: the newest index/ETF value, else the parity estimate the topology was built with. */
  get spotValue(): number | undefined {
    return this.spot.value ?? this.scope?.spot;
  }

  /** Feeds one input: runs the ticks due before it, applies it, evaluates every publisher. */
  push(input: EngineInput, emit: Emit): void {
    let at = input.recv_us;
    if (this.clock === undefined) {
      this.clock = at;
      for (const p of this.pipelines) p.publisher.start(at);
    } else if (at < this.clock) {
      // Receive times from the merge never go back; a stream that does is clamped, not reordered.
      this.skipped.add('recv_time_went_back');
      at = this.clock;
    }
    this.position.input++;
    this.runTicksUntil(at, emit);
    this.clock = at;
    this.position.phase = 1;
    this.position.step = 0;
    switch (input.type) {
      case 'chain_page':
        this.inputs.chain_page++;
        for (const c of input.contracts) this.chainRoots.add(c.root);
        this.applyFacts(input.facts, emit);
        {
          const complete = this.assembler.add(input);
          if (complete) this.onCompleteSnapshot(complete, emit);
        }
        break;
      case 'facts':
        this.inputs.facts++;
        this.applyFacts(input.facts, emit);
        break;
      case 'gap':
        this.inputs.gap++;
        emit({ type: 'gap', at_us: at, stream: input.stream, from_us: input.from_us, to_us: input.to_us, reason: input.reason });
        break;
    }
    this.position.phase = 2;
    this.position.step = 0;
    this.evaluateAll(at, emit);
  }

  /**
   * Live mode: runs the ticks due up to `us` without an input (the wall clock reached `us`).
   * The same ticks would run before the next input anyway, so a live session and the replay of
   * its recording publish the same versions.
   */
  advanceTo(us: number, emit: Emit): void {
    if (this.clock === undefined || us <= this.clock) return;
    this.runTicksUntil(us, emit);
  }

  /** Runs the ticks in (clock, untilUs], skipping those at which no publisher can fire. */
  private runTicksUntil(untilUs: number, emit: Emit): void {
    for (;;) {
      let due = Infinity;
      for (const p of this.pipelines) if (!p.failure) due = Math.min(due, p.nextDue());
      if (due === Infinity) return;
      const after = Math.max(due, this.clock! + 1);
      const tick = Math.ceil(after / this.tickUs) * this.tickUs;
      if (tick > untilUs) return;
      this.clock = tick;
      this.position.phase = 0;
      this.position.step = tick;
      this.evaluateAll(tick, emit);
    }
  }

  private evaluateAll(nowUs: number, emit: Emit): void {
    const pipelines = this.pipelines;
    // once per input and pipeline: a plain try/catch, no closure (as in `applyFacts`)
    for (let k = 0; k < pipelines.length; k++) {
      const p = pipelines[k]!;
      if (p.failure !== undefined) continue;
      let rec;
      try {
        rec = p.evaluate(nowUs);
      } catch (err) {
        this.fail(p, nowUs, emit, err);
        continue;
      }
      if (rec) emit(rec);
    }
  }

  private guard<T>(p: Pipeline, nowUs: number, emit: Emit, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.fail(p, nowUs, emit, err);
      return undefined;
    }
  }

  /** A pipeline's code threw: it stops, and says so in the stream. */
  private fail(p: Pipeline, nowUs: number, emit: Emit, err: unknown): void {
    p.failure = err instanceof Error ? err.message : String(err);
    emit({ type: 'error', strategy: p.name, at_us: nowUs, reason: 'threw', message: p.failure });
  }

  private applyFacts(facts: readonly Fact[], emit: Emit): void {
    const pipelines = this.pipelines;
    // read once, again only after a spot fact moved it: reading it per fact boxed a new heap number each time
    let spot = this.spotValue;
    for (let i = 0; i < facts.length; i++) {
      const f = facts[i]!;
      this.position.step = i;
      if (f.kind === 'leg') {
        const id = this.marks.idOf(f.contract.ticker);
        this.marks.countFact(id, f.contract.root);
        const first = !this.marks.hasMark(id);
        if (!this.marks.admitAt(id, f)) continue;
        // per fact and pipeline: a plain try/catch, no closure (this is the engine's hottest loop)
        for (let k = 0; k < pipelines.length; k++) {
          const p = pipelines[k]!;
          if (p.failure !== undefined) continue;
          try {
            p.staging.onLeg(id, spot, first);
          } catch (err) {
            this.fail(p, this.clock!, emit, err);
          }
        }
      } else {
        if (f.ticker !== this.opts.underlying) {
          this.skipped.add('spot_other_ticker');
          continue;
        }
        const before = this.spot.value;
        if (!this.spot.admit(f) || this.spot.value === before) continue;
        spot = this.spotValue;
        for (const p of pipelines) {
          if (!p.failure) this.guard(p, this.clock!, emit, () => p.staging.onSpot(spot));
        }
      }
    }
  }

  private onCompleteSnapshot(contracts: readonly OptionContract[], emit: Emit): void {
    const now = this.clock!;
    if (!this.scope) {
      this.scope = buildScope(this.opts.config.topology, contracts, this.marks, this.spot.value, now);
      if (!this.scope) {
        this.skipped.add('topology_waiting_for_spot');
        return;
      }
      this.topologyBuiltAt = now;
      this.chainExpirations = [...new Set(contracts.map((c) => c.expiration))].sort();
    }
    let added = false;
    for (const c of contracts) if (isInScope(this.scope, c) && this.universe.add(c)) added = true;
    if (!added) return;
    this.position.step = Number.MAX_SAFE_INTEGER; // after every fact of the page
    for (const p of this.pipelines) {
      if (!p.failure) this.guard(p, now, emit, () => p.extendTopology(this.universe, this.spotValue));
    }
  }

  /** The canonical tiles of one strategy (sorted by key), for snapshots and views. */
  canonicalTiles(strategy: string): PublishedTile[] {
    return this.pipelines.find((p) => p.name === strategy)?.snapshotTiles() ?? [];
  }

  /**
   * The full published state of one strategy (the last version) in the engine's format, for
   * keyframes and SSE snapshots: format 2 carries the slots and the stream's mark register.
   * Undefined for a strategy the engine does not run.
   */
  snapshot(strategy: string): SnapshotBody | undefined {
    return this.pipelines.find((p) => p.name === strategy)?.publisher.snapshot();
  }

  /** `{no_slots_reason}` for a strategy the built topology left without a slot, else nothing. */
  private noSlots(p: Pipeline): { no_slots_reason?: string } {
    if (!this.scope || p.failure !== undefined || p.staging.slots > 0) return {};
    const custom = this.opts.config.strategies.custom.find((c) => c.name === p.name);
    return { no_slots_reason: noSlotsReason({ name: p.name, custom }, this.opts.config.topology, this.scope, this.chainExpirations, this.universe) };
  }

  /**
   * The skipped-input counts, plus `leg_unknown_root`: leg facts (admitted or not) for contracts
   * whose root no chain page listed — another underlying's trades, which can never price a tile.
   * Counted at the end, so a trade that arrived before the first snapshot is judged by it too.
   */
  private skippedCounts(): Record<string, number> {
    let unknown = 0;
    if (this.chainRoots.size > 0) for (const [root, n] of this.marks.factsByRoot()) if (!this.chainRoots.has(root)) unknown += n;
    if (unknown === 0) return this.skipped.toJSON();
    const counts: Record<string, number> = { ...this.skipped.toJSON(), leg_unknown_root: unknown };
    return Object.fromEntries(Object.keys(counts).sort().map((k) => [k, counts[k]!]));
  }

  /** Counts and final hashes; deterministic (no timings, no paths). */
  summary(): EngineSummary {
    const strategies: Record<string, PipelineSummary> = {};
    for (const p of this.pipelines) {
      strategies[p.name] = {
        versions: p.publisher.version,
        final_hash: p.publisher.hash,
        slots: p.staging.slots,
        populated: p.staging.populated,
        pending: p.staging.changedCount,
        ...(p.failure !== undefined ? { error: p.failure } : {}),
        ...this.noSlots(p),
      };
    }
    const s = this.scope;
    return {
      inputs: { ...this.inputs },
      facts: { legs: { ...this.marks.counts }, spot: { ...this.spot.counts } },
      snapshots: { ...this.assembler.counts },
      topology: s
        ? {
            built_at_us: this.topologyBuiltAt,
            session_date: s.sessionDate,
            spot: s.spot,
            spot_source: s.spotSource,
            band: [s.lo, s.hi],
            expirations: s.expirations,
            contracts: this.universe.size,
          }
        : null,
      skipped: this.skippedCounts(),
      strategies,
    };
  }
}
