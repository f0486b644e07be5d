import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // node-llama-cpp's native addon is not safe in worker threads: one process per test file.
    pool: 'forks',
    include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx', 'test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
