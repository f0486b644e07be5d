import { expect, test } from '@playwright/test';
import { MODEL_ID, signIn, startUiServer, watchPageErrors, type UiServer } from './server.ts';

let server: UiServer;
test.beforeAll(async () => {
  server = await startUiServer();
});
test.afterAll(async () => {
  await server?.close();
});

test('a wrong admin key is refused and nothing of the server is shown', async ({ page }) => {
  const problems = watchPageErrors(page);
  await page.goto(`${server.url}/ui/`);
  await page.getByLabel('Admin key').fill('lmx-this-is-not-the-admin-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText(/admin key was refused/i);
  await expect(page.getByRole('tab', { name: 'Models' })).toHaveCount(0);
  expect(await page.evaluate(() => sessionStorage.getItem('lmx.adminKey'))).toBeNull();
  expect(problems).toEqual([]);
});

test('the right admin key opens the dashboard with the model library', async ({ page }) => {
  const problems = watchPageErrors(page);
  await signIn(page, server);
  const library = page.getByRole('list', { name: 'Model library' });
  await expect(library.getByRole('listitem', { name: MODEL_ID })).toContainText('Not loaded');
  await expect(page.getByRole('status').first()).toContainText('No model loaded');
  await expect(page.getByText(`${server.url}/v1`)).toBeVisible();
  // The key lasts for the session: a reload stays signed in.
  await page.reload();
  await expect(library.getByRole('listitem', { name: MODEL_ID })).toBeVisible();
  expect(problems).toEqual([]);
});

test('a rotated admin key signs other sessions out', async ({ page }) => {
  await signIn(page, server);
  await expect(page.getByRole('list', { name: 'Model library' })).toBeVisible();
  // Another admin rotates the key: this window's live feed and calls are refused from then on.
  const rotated = await server.admin('/admin/keys/rotate', { method: 'POST' });
  expect(rotated.status).toBe(200);
  // The next call this window makes is refused: back to the sign-in. That call is the Health tab's deep
  // health read, unless the live feed was refused first and the window is already at the sign-in: the click
  // happens in the page, at once, only while the tab is there (a Playwright click would wait for the
  // signed-out tab until its timeout).
  await page.evaluate(() => document.getElementById('tab-health')?.click());
  await expect(page.getByLabel('Admin key')).toBeVisible();
  await expect(page.getByRole('status')).toContainText(/no longer accepted/i);
  // A reload still says why, until the next sign-in.
  await page.reload();
  await expect(page.getByLabel('Admin key')).toBeVisible();
  await expect(page.getByRole('status')).toContainText(/no longer accepted/i);
  expect(await page.evaluate(() => sessionStorage.getItem('lmx.adminKey'))).toBeNull();
});
