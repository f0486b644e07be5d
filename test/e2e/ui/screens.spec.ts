import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { repoRoot } from '../../helpers/server.ts';
import {
  failADownload,
  MODEL_ID,
  screenshot,
  seriousViolations,
  signIn,
  startUiServer,
  watchPageErrors,
  withTraffic,
  type UiServer,
} from './server.ts';

let server: UiServer;

test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  server = await startUiServer();
  // A loaded model and a little traffic, so the screens show figures rather than empty states.
  const loaded = await server.admin('/admin/models/load', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL_ID }),
  });
  expect(loaded.status, await loaded.text()).toBe(200);
  await server.openai.chat.completions.create({
    model: MODEL_ID,
    messages: [{ role: 'user', content: 'Hello' }],
    max_tokens: 16,
  });
});
test.afterAll(async () => {
  await server?.close();
});

/** Waits, under some traffic, until the live chart has samples to draw. */
async function showLiveFigures(page: Page): Promise<void> {
  await expect(page.getByRole('list', { name: 'Components' })).toBeVisible();
  await withTraffic(server, () =>
    expect(page.getByRole('img', { name: /tokens per second now/ })).toBeVisible({
      timeout: 20_000,
    }),
  );
}

const COMPACT_TABS = ['Models', 'Health', 'Alerts', 'Try it', 'Settings'] as const;

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} mode`, () => {
    test.use({ colorScheme: scheme });

    test(`sign-in screen (${scheme}): accessible, screenshot`, async ({ page }, testInfo) => {
      const problems = watchPageErrors(page);
      await page.goto(`${server.url}/ui/`);
      await expect(page.getByLabel('Admin key')).toBeVisible();
      await screenshot(page, testInfo, `login-${scheme}`);
      expect(await seriousViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    });

    test(`menu-bar window, every tab (${scheme}): accessible, screenshots`, async ({ page }, testInfo) => {
      const problems = watchPageErrors(page);
      await signIn(page, server);
      await expect(page.getByRole('listitem', { name: MODEL_ID })).toContainText('Loaded');
      await failADownload(server);
      await expect(page.getByRole('tab', { name: 'Alerts (1)' })).toBeVisible();
      for (const tab of COMPACT_TABS) {
        await page.getByRole('tab', { name: tab }).click();
        await expect(page.getByRole('tab', { name: tab })).toHaveAttribute('aria-selected', 'true');
        if (tab === 'Health') await showLiveFigures(page);
        if (tab === 'Try it') {
          await page.getByRole('button', { name: 'Send' }).click();
          await expect(page.getByText('Reply complete.')).toBeVisible({ timeout: 30_000 });
        }
        if (tab === 'Settings') await expect(page.getByLabel('Port')).toBeVisible();
        await screenshot(page, testInfo, `compact-${tab.toLowerCase().replace(' ', '-')}-${scheme}`);
        expect(await seriousViolations(page), `axe on the ${tab} tab`).toEqual([]);
      }
      expect(problems).toEqual([]);
    });

    test(`LAN dashboard (${scheme}): accessible, screenshot`, async ({ page }, testInfo) => {
      const problems = watchPageErrors(page);
      await page.setViewportSize({ width: 1280, height: 860 });
      await signIn(page, server);
      await expect(page.getByRole('tab', { name: 'Overview' })).toHaveAttribute('aria-selected', 'true');
      await expect(page.getByRole('listitem', { name: MODEL_ID })).toContainText('Loaded');
      await showLiveFigures(page);
      await screenshot(page, testInfo, `dashboard-${scheme}`);
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('tab', { name: 'Settings' }).click();
      await expect(page.getByLabel('Port')).toBeVisible();
      await screenshot(page, testInfo, `dashboard-settings-${scheme}`);
      expect(await seriousViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    });
  });
}

test('keyboard: tabs move with the arrow keys and focus is visible', async ({ page }) => {
  await signIn(page, server);
  await page.getByRole('tab', { name: 'Models' }).focus();
  await page.keyboard.press('ArrowRight');
  const health = page.getByRole('tab', { name: 'Health' });
  await expect(health).toBeFocused();
  await expect(health).toHaveAttribute('aria-selected', 'true');
  const outline = await health.evaluate((element) => getComputedStyle(element).outlineStyle);
  expect(outline).not.toBe('none');
});

test('first paint of the dashboard over loopback (figure for the report, not a test of speed)', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.addInitScript((key) => sessionStorage.setItem('lmx.adminKey', key), server.adminKey);
  await page.goto(`${server.url}/ui/`);
  await expect(page.getByRole('listitem', { name: MODEL_ID })).toBeVisible();
  const timing = await page.evaluate(() => {
    const paint = Object.fromEntries(
      performance.getEntriesByType('paint').map((entry) => [entry.name, entry.startTime]),
    );
    const navigation = performance.getEntriesByType('navigation')[0] as
      PerformanceNavigationTiming | undefined;
    return {
      firstPaintMs: paint['first-paint'] ?? null,
      firstContentfulPaintMs: paint['first-contentful-paint'] ?? null,
      domContentLoadedMs: navigation?.domContentLoadedEventEnd ?? null,
      loadMs: navigation?.loadEventEnd ?? null,
      // An upper bound: read after the test saw the list.
      modelListVisibleByMs: performance.now(),
      transferredBytes: performance
        .getEntriesByType('resource')
        .reduce(
          (sum, entry) => sum + (entry as PerformanceResourceTiming).transferSize,
          navigation?.transferSize ?? 0,
        ),
    };
  });
  const file = path.join(repoRoot, 'test-results', 'first-paint.json');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(timing, null, 2)}\n`);
  await testInfo.attach('first-paint', { path: file, contentType: 'application/json' });
  console.log(`dashboard timing over loopback: ${JSON.stringify(timing)}`);
});
