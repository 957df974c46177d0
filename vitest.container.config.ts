import { defineConfig } from 'vitest/config';

// `npm run test:container`: usher as the ENTRYPOINT of real podman containers, from images the
// global set-up builds once per run out of the host's files and the packed tarball (no
// registry). One file at a time (2-core machines), no retries.
export default defineConfig({
  test: {
    include: ['test/container/**/*.test.ts'],
    globalSetup: ['test/container/global-setup.ts'],
    // Each worker a child subreaper that fails a file leaving a process (conmon, tmux) running.
    setupFiles: ['test/helpers/teardown.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    retry: 0,
    reporters: ['default'],
  },
});
