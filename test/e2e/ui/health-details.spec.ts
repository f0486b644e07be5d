import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { ensureGeneratedModel } from '../../fixtures/models.ts';
import { adminHeavyEnv } from '../../helpers/model-library.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../../helpers/server.ts';
import { seriousViolations, signIn, startUiServer, watchPageErrors, type UiServer } from './server.ts';

const FAILURE_THRESHOLD = 2;

// The dashboard's server has a helper node that is a second LMX process with the embedding model
// `remote-embed`; the breaker stays open for ten minutes once the helper is killed (no half-open
// trial during the test). The server's own library has the embedding model `embed` for the RAG store.
let helperDir: string;
let helper: ServerProcess;
let server: UiServer;

test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  const embedding = await ensureGeneratedModel('tiny', { poolingType: 1 });
  helperDir = await makeDataDir();
  await mkdir(path.join(helperDir, 'models'), { recursive: true });
  await copyFile(embedding, path.join(helperDir, 'models', 'remote-embed.gguf'));
  helper = await spawnServer(smallServerArgs(helperDir, 'lmx-test-admin-key-0123456789'), adminHeavyEnv);
  server = await startUiServer({
    helpers: [{ name: 'h1', url: helper.url, roles: ['embed'], models: ['remote-embed'], timeoutMs: 5000 }],
    helperBreaker: { failureThreshold: FAILURE_THRESHOLD, resetTimeoutMs: 600_000 },
  });
  await copyFile(embedding, path.join(server.modelsDir, 'embed.gguf'));
});
test.afterAll(async () => {
  await server?.close();
  helper?.child.kill('SIGKILL');
  await helper?.exited;
  if (helperDir) await rm(helperDir, { recursive: true, force: true });
});

const embed = () =>
  server.openai.embeddings
    .create({ model: 'remote-embed', input: ['one', 'two'] })
    .catch((error: unknown) => error);

test('the Health tab shows a helper’s circuit closed, then open after it is killed', async ({ page }) => {
  const problems = watchPageErrors(page);
  expect(await embed()).toMatchObject({ data: [{ index: 0 }, { index: 1 }] });
  await signIn(page, server);
  await page.getByRole('tab', { name: 'Health' }).click();
  const helpers = page.getByRole('region', { name: 'Helper nodes' });
  const h1 = helpers.getByRole('listitem', { name: 'Helper h1' });
  await expect(h1).toContainText('circuit closed');
  await expect(h1).toContainText(new URL(helper.url).host);
  await expect(h1).toContainText(`0 of ${FAILURE_THRESHOLD}`);
  // Nothing has used the RAG store yet: it is not open (no LanceDB loaded), and the tab says so.
  await expect(page.getByRole('region', { name: 'RAG store' })).toContainText('Not opened yet');
  expect(await seriousViolations(page), 'axe with the circuit closed').toEqual([]);

  helper.child.kill('SIGKILL');
  await helper.exited;
  for (let attempt = 0; attempt < FAILURE_THRESHOLD; attempt++) {
    expect(await embed()).toMatchObject({ status: 503, code: 'helpers_unavailable' });
  }
  await expect(h1).toContainText('circuit open');
  await expect(h1).toContainText(`${FAILURE_THRESHOLD} of ${FAILURE_THRESHOLD}`);
  await expect(h1).toContainText(/Last error.*helper h1: /);
  expect(await seriousViolations(page), 'axe with the circuit open').toEqual([]);
  expect(problems).toEqual([]);
});

test('the Health tab shows the RAG store with a collection’s counts', async ({ page }) => {
  const problems = watchPageErrors(page);
  const created = await server.admin('/admin/rag/collections', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'notes', model: 'embed', chunk_size: 40, chunk_overlap: 0 }),
  });
  expect(created.status, await created.text()).toBe(201);
  const ingested = await fetch(`${server.url}/v1/rag/notes/documents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      documents: [{ id: 'faq', text: 'LMX serves chat, embeddings and rerank from one local server.' }],
    }),
  });
  expect(ingested.status, await ingested.clone().text()).toBe(201);
  const { data } = (await ingested.json()) as { data: { id: string; chunks: number }[] };
  const chunks = data[0]!.chunks;
  expect(chunks).toBeGreaterThan(1);

  await signIn(page, server);
  await page.getByRole('tab', { name: 'Health' }).click();
  const rag = page.getByRole('region', { name: 'RAG store' });
  const figure = (term: string) => rag.getByRole('term').filter({ hasText: term }).locator('+ dd');
  await expect(figure('Collections')).toHaveText('1');
  await expect(figure('Documents')).toHaveText('1');
  await expect(figure('Chunks')).toHaveText(String(chunks));
  await expect(figure('On disk')).toHaveText(/\d+(\.\d)? (KB|MB)/);
  await expect(figure('Last write')).not.toHaveText('never');
  await expect(rag.getByRole('listitem', { name: 'Collection notes' })).toContainText(
    `embed1 document, ${chunks} chunks`,
  );
  expect(await seriousViolations(page), 'axe with the RAG store').toEqual([]);
  expect(problems).toEqual([]);
});

test('the Settings tab shows the helpers and sets the breaker numbers on the running server', async ({
  page,
}) => {
  const problems = watchPageErrors(page);
  await signIn(page, server);
  await page.getByRole('tab', { name: 'Settings' }).click();
  await expect(page.getByText(/^Configured: h1\./)).toBeVisible();
  const failures = page.getByLabel("Failures before a helper's circuit opens");
  await expect(failures).toHaveValue(String(FAILURE_THRESHOLD));
  await failures.fill('5');
  await page.getByLabel('Half-open after (milliseconds)').fill('45000');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toHaveText('Saved.');
  // Applied without a restart: the helper's breaker in deep health has the new numbers.
  const health = (await (await server.admin('/admin/health')).json()) as {
    components: { name: string; details: Record<string, unknown> }[];
  };
  expect(health.components.find((component) => component.name === 'helper:h1')?.details).toMatchObject({
    failureThreshold: 5,
    resetTimeoutMs: 45_000,
  });
  expect(await seriousViolations(page), 'axe on the Settings tab').toEqual([]);
  expect(problems).toEqual([]);
});
