import { expect, test } from '@playwright/test';
import { freePort } from '../../helpers/cluster.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { ensureGeneratedModel } from '../../fixtures/models.ts';
import { signIn, startUiServer, watchPageErrors, type UiServer } from './server.ts';

let peer: TestServer;
let server: UiServer;
let deadPeer: string;

test.beforeAll(async () => {
  peer = await startTestServer({ startupModels: [await ensureGeneratedModel('tiny')] });
  // A port nothing listens on: a peer that is down.
  deadPeer = `http://127.0.0.1:${await freePort()}`;
  server = await startUiServer({ cluster: { peers: [peer.url, deadPeer] } });
});
test.afterAll(async () => {
  await server?.close();
  await peer?.stop();
});

test('the Health tab shows the other nodes of the pool from their public routes', async ({ page }) => {
  const problems = watchPageErrors(page);
  await signIn(page, server);
  await page.getByRole('tab', { name: 'Health' }).click();
  const pool = page.getByRole('region', { name: 'Pool' });
  const live = pool.getByRole('listitem', { name: peer.url });
  await expect(live).toContainText('ready');
  await expect(live).toContainText(new URL(peer.url).host);
  const model = (await peer.openai.models.list()).data[0]!.id;
  await expect(live).toContainText(model);
  await expect(pool.getByRole('listitem', { name: deadPeer })).toContainText('unreachable');
  expect(problems).toEqual([]);
});
