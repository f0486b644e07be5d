import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

const chromium = process.env.LMX_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromium);
if (!haveChromium) {
  console.log(
    `skipping the browser tests: no Chromium at ${chromium} (apt-get install -y chromium, or set LMX_CHROMIUM)`,
  );
}

/**
 * End-to-end tests of the dashboard at /ui in Debian's Chromium (Playwright cannot download browsers
 * here). Each spec file starts its own real server on a free loopback port (test/e2e/ui/server.ts).
 * `npm run test:e2e` builds the bundle first.
 */
export default defineConfig({
  testDir: 'test/e2e/ui',
  // Without a browser nothing can run here: skip them all (with the line above saying why).
  testIgnore: haveChromium ? [] : ['**/*'],
  outputDir: 'test-results',
  // Two shared cores: one browser at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    // The menu-bar window's size; the dashboard tests set their own.
    viewport: { width: 380, height: 560 },
    screenshot: 'only-on-failure',
    trace: 'off',
  },
});
