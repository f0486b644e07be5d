import { expect, test, type Page } from '@playwright/test';
import { MODEL_ID, signIn, startUiServer, watchPageErrors, withTraffic, type UiServer } from './server.ts';

let server: UiServer;
let page: Page;
let problems: string[];

test.describe.configure({ mode: 'serial' });
test.beforeAll(async ({ browser }) => {
  server = await startUiServer();
  page = await browser.newPage();
  problems = watchPageErrors(page);
  await signIn(page, server);
});
test.afterAll(async () => {
  await page?.close();
  await server?.close();
});

const modelRow = () =>
  page.getByRole('list', { name: 'Model library' }).getByRole('listitem', { name: MODEL_ID });

test('loads a model from the library and sees it become ready', async () => {
  await expect(modelRow()).toContainText('Not loaded');
  await page.getByRole('button', { name: `Load ${MODEL_ID}` }).click();
  await expect(modelRow()).toContainText('Loaded');
  await expect(modelRow()).toContainText('Memory');
  // The header follows the live feed's state events.
  await expect(page.getByRole('status').first()).toContainText('Ready');
});

test('the live feed shows a change made elsewhere without a reload', async () => {
  // Another admin unloads the model through the API: the window hears it on /admin/events.
  const unloaded = await server.admin('/admin/models/unload', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL_ID }),
  });
  expect(unloaded.status).toBe(200);
  await expect(modelRow()).toContainText('Not loaded');
  const loaded = await server.admin('/admin/models/load', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL_ID }),
  });
  expect(loaded.status).toBe(200);
  await expect(modelRow()).toContainText('Loaded');
});

test('Try it streams a reply from the loaded model', async () => {
  await page.getByRole('tab', { name: 'Try it' }).click();
  await expect(page.getByLabel('Model')).toHaveValue(MODEL_ID);
  await page.getByLabel('Prompt').fill('Say hello.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByText('Reply complete.')).toBeVisible({ timeout: 30_000 });
  const reply = await page.getByRole('log', { name: 'Reply' }).innerText();
  expect(reply.trim().length).toBeGreaterThan(0);
});

test('unloads the model', async () => {
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('button', { name: `Unload ${MODEL_ID}` }).click();
  await expect(modelRow()).toContainText('Not loaded');
  await page.getByRole('tab', { name: 'Try it' }).click();
  await expect(page.getByText('Load a model to try it here.')).toBeVisible();
  expect(problems).toEqual([]);
});

test('Health plots live tokens/s and TTFT from the stats feed while the model works', async () => {
  // Last in this file: it needs the model loaded again, and only the server's stats can fail it.
  const loaded = await server.admin('/admin/models/load', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL_ID }),
  });
  expect(loaded.status).toBe(200);
  await page.getByRole('tab', { name: 'Health' }).click();
  await expect(page.getByRole('list', { name: 'Components' })).toContainText(`model:${MODEL_ID}`);
  const chart = page.getByRole('img', { name: /tokens per second now/ });
  await withTraffic(server, () =>
    expect(chart).toHaveAccessibleName(/[1-9][\d.]* tokens per second now, time to first token \d+ ms/, {
      timeout: 20_000,
    }),
  );
});
