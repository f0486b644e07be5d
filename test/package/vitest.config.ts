import { defineConfig } from 'vitest/config';

// `npm run test:package`: the packaged app, built from a darwin-installed copy of the tree (minutes,
// and npm registry traffic), apart from `npm test`; .ci/run runs both.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 1_200_000,
  },
});
