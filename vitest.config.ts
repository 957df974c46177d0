import { configDefaults, defineConfig } from 'vitest/config';

// Integration tests run real processes and signals on a 2-core machine: one file at a time,
// generous bounds on every wait, and no retries (a flaky test is a failing test).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real containers: their own run, `npm run test:container` (vitest.container.config.ts).
    exclude: [...configDefaults.exclude, 'test/container/**'],
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
