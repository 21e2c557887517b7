/**
 * Imported first by `consumer.ts`, before Ink and React load: selects React's production build
 * unless NODE_ENV says otherwise. The development build of React 19 records a `performance.measure`
 * entry for every component render and never clears them — at 20 frames a second that is ~2
 * million entries and hundreds of MB an hour for a session left running — and costs ~30 % more
 * CPU per frame (bench/tui-frame.mjs). A CLI user never needs React's development checks.
 */
process.env.NODE_ENV ??= 'production';

export {};
