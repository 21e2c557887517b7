import { defineConfig } from 'vitest/config';

// End-to-end tests start real servers, child processes and worker threads. On a busy 2-core
// machine (CI, or a developer running other work) they can take many times their idle duration,
// so the timeouts are generous: a test fails on a wrong answer, not on a slow machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    // Both cores: most test files wait on child processes, servers and worker threads, so two
    // files at a time keep the machine busy without starving either (vitest's default is cores − 1).
    maxWorkers: 2,
  },
});
