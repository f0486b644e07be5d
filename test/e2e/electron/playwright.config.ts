import { defineConfig } from '@playwright/test';

/**
 * The Electron end-to-end test: the real menu-bar app through Playwright's `_electron.launch`. It skips
 * (saying why) where no Electron binary exists, e.g. this offline Linux machine; it runs on a Mac or in
 * CI with network. `npm run test:e2e:electron` builds the UI bundle first.
 */
export default defineConfig({
  testDir: '.',
  testMatch: 'app.spec.ts',
  outputDir: '../../../test-results/electron',
  workers: 1,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
});
