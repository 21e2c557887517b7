/**
 * The library API (DESIGN §7): what the CLI uses, typed. `import { … } from 'heatmap'`.
 *
 * - Recordings: open, read and merge a recording as an async iterable of raw lines.
 * - `replay(dir, options)`: an async iterable of output records (versions, gaps, errors, summary).
 * - `Engine`: push inputs (decoded by `LineDecoder`) and receive outputs, for your own drivers.
 * - `simulate(dir, params)`: a seeded synthetic market as a recording.
 * - Format 2 ↔ format 1: `Format2Folder`, `fold2to1`.
 * - The strategy interface (`Strategy`, `makeTileDef`), the built-in registry and strategy modules
 *   (`loadStrategyModules`; a module's factory receives `StrategyModuleApi`).
 */
export { replay, type ApiReplayOptions, type SummaryRecordOut } from './api/replay.js';
export { simulate } from './api/simulate.js';
export { InputError, RuntimeError, UsageError, exitCodeOf } from './errors.js';

export { readRecording, readRecordingBatches, readStreamLines, listStreamFiles, newReadReport, type RawLine, type ReadReport, type ReadWindow, type ReaderOptions } from './recording/reader.js';
export { mergeStreams } from './recording/merge.js';
export { readManifest, type Manifest } from './recording/manifest.js';
export { replayRecording, type ReplayOptions, type ReplayOutcome } from './replay/replay.js';
export { LineDecoder } from './replay/decode.js';

export { Engine, type EngineOptions, type EngineSummary, type EngineView } from './engine/engine.js';
export { defaultConfig, validateConfig, type EngineConfig, type PublishConfig, type StrategyConfig, type CustomStrategyConfig, type ModuleStrategyConfig } from './engine/config.js';
export { outputBytes, summaryRecord } from './engine/output-lines.js';
export { versionLine } from './engine/publisher.js';
export { Tally } from './engine/tally.js';
export type { EngineInput, EngineOutput, VersionRecord, GapRecord, PipelineErrorRecord, PublishedTile, PublishedLeg, TileDef, LegDef, OptionContract, Fact, LegFact, SpotFact } from './engine/types.js';
export { Format2Folder, fold2to1, type Format2FolderOptions } from './engine/format2-fold.js';

export { makeTileDef, formatStrike, type Strategy, type StrategyExport, type StrategyModuleApi } from './engine/strategy.js';
export type { ContractUniverse, Group } from './engine/universe.js';
export type { Right } from './engine/types.js';
export { createStrategy, resolveStrategies, loadStrategyModules } from './strategies/index.js';
export type { SimParams } from './sim/params.js';
