import { defineConfig } from 'vitest/config';

// Integration tests run real processes and signals on a 2-core machine: one file at a time,
// generous bounds on every wait, and no retries (a flaky test is a failing test).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Makes each worker a subreaper and fails a file that leaves a process running.
    setupFiles: ['test/helpers/teardown.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    retry: 0,
    reporters: ['default'],
  },
});
