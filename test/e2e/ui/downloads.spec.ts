import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { ensureGeneratedModel } from '../../fixtures/models.ts';
import { failADownload, signIn, startUiServer, watchPageErrors, type UiServer } from './server.ts';

/**
 * A loopback file server that trickles a GGUF file out in small pieces, so a download lasts long
 * enough to watch (and to cancel). Every response ends: the trickle is bounded by the file's size.
 */
async function startTrickleServer(file: Buffer): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const delayMs = request.url?.includes('slow') ? 400 : 60;
    const chunk = 32 * 1024;
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length });
    let offset = 0;
    const timer = setInterval(() => {
      if (response.destroyed) return clearInterval(timer);
      response.write(file.subarray(offset, offset + chunk));
      offset += chunk;
      if (offset >= file.length) {
        clearInterval(timer);
        response.end();
      }
    }, delayMs);
    request.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let lmx: UiServer;
let files: { server: Server; url: string };
let page: Page;
let problems: string[];

test.describe.configure({ mode: 'serial' });
test.beforeAll(async ({ browser }) => {
  lmx = await startUiServer();
  files = await startTrickleServer(await readFile(await ensureGeneratedModel('tiny')));
  page = await browser.newPage();
  problems = watchPageErrors(page);
  await signIn(page, lmx);
});
test.afterAll(async () => {
  await page?.close();
  files?.server.closeAllConnections();
  await new Promise((resolve) => files?.server.close(resolve));
  await lmx?.close();
});

test('an address that is not a model link is explained, not sent', async () => {
  await page.getByLabel('Model URI or link').fill('not a link');
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('neither an hf: URI nor an http(s) link');
});

test('downloads a model from a loopback server, showing progress, into the library', async () => {
  await page.getByLabel('Model URI or link').fill(`${files.url}/models/downloaded-tiny.gguf`);
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  const job = page.getByRole('listitem', { name: 'Download of downloaded-tiny.gguf' });
  await expect(job).toBeVisible();
  const progress = job.getByRole('progressbar', { name: 'Progress of downloaded-tiny.gguf' });
  // Progress moves: some bytes arrive before the end.
  await expect
    .poll(async () => Number(await progress.getAttribute('value')), { timeout: 15_000 })
    .toBeGreaterThan(0);
  await expect(job).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(job).toContainText('Done');
  await expect(
    page.getByRole('list', { name: 'Model library' }).getByRole('listitem', { name: 'downloaded-tiny' }),
  ).toBeVisible();
});

test('cancels a running download', async () => {
  await page.getByLabel('Model URI or link').fill(`${files.url}/slow/cancelled-tiny.gguf`);
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  const job = page.getByRole('listitem', { name: 'Download of cancelled-tiny.gguf' });
  await expect(job).toHaveAttribute('data-state', 'running');
  await job.getByRole('button', { name: 'Cancel download of cancelled-tiny.gguf' }).click();
  await expect(job).toHaveAttribute('data-state', 'cancelled');
  await expect(job).toContainText('Cancelled');
  expect(problems).toEqual([]);
});

test('a failed download raises an alert, newest first, which can be dismissed', async () => {
  await failADownload(lmx);
  await page.getByRole('tab', { name: /^Alerts/ }).click();
  const alerts = page.getByRole('list', { name: 'Alerts, newest first' }).getByRole('listitem');
  await expect(alerts.first()).toContainText('missing-model.gguf');
  await failADownload(lmx);
  await expect(alerts).toHaveCount(2);
  const [newer, older] = await Promise.all([
    alerts.nth(0).locator('time').getAttribute('datetime'),
    alerts.nth(1).locator('time').getAttribute('datetime'),
  ]);
  expect(Date.parse(newer ?? '')).toBeGreaterThanOrEqual(Date.parse(older ?? ''));
  await alerts
    .first()
    .getByRole('button', { name: /^Dismiss alert/ })
    .click();
  await expect(alerts).toHaveCount(1);
  await page.getByRole('tab', { name: 'Models' }).click();
  expect(problems).toEqual([]);
});
