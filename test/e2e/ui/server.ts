// The real server for the dashboard tests: a fresh data dir whose models folder holds a generated
// chat model, started with startTestServer on a free loopback port.

import { copyFile, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { expect, type Page, type TestInfo } from '@playwright/test';
import { ensureGeneratedModel } from '../../fixtures/models.ts';
import { makeDataDir, repoRoot, startTestServer, type TestServer } from '../../helpers/server.ts';

export const MODEL_ID = 'lmx-tiny-chat';

export interface UiServer extends TestServer {
  modelsDir: string;
  /** Stops the server and removes its data dir. */
  close(): Promise<void>;
}

export async function startUiServer(overrides: Record<string, unknown> = {}): Promise<UiServer> {
  if (!existsSync(path.join(repoRoot, 'dist/renderer/index.html'))) {
    throw new Error('The dashboard bundle is missing: run `npm run build:ui` (npm run test:e2e does it).');
  }
  const dataDir = await makeDataDir();
  const modelsDir = path.join(dataDir, 'models');
  await mkdir(modelsDir, { recursive: true });
  // A copy, not a link: the library refuses links that lead outside the models folder.
  await copyFile(
    await ensureGeneratedModel('tiny', { chatTemplate: true }),
    path.join(modelsDir, `${MODEL_ID}.gguf`),
  );
  const server = await startTestServer({
    dataDir,
    modelsDir,
    // The dashboard makes more admin calls than the default limit allows a script; not under test here.
    rateLimit: { exemptLoopback: true, adminPerMinute: 100_000, inferencePerMinute: 100_000 },
    // The downloads come from a file server on loopback, which downloads may reach only when allowed.
    downloads: { allowPrivateNetworks: ['127.0.0.1'] },
    ...overrides,
  });
  return {
    ...server,
    modelsDir,
    close: async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in at /ui with the admin key, as a person would. */
export async function signIn(page: Page, server: TestServer): Promise<void> {
  await page.goto(`${server.url}/ui/`);
  await page.getByLabel('Admin key').fill(server.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('tablist', { name: 'Sections' })).toBeVisible();
}

/** Fails the test on any Content-Security-Policy violation or uncaught page error. */
export function watchPageErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  return problems;
}

/** Saves a screenshot under test-results/screenshots/ and attaches it to the report. */
export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const file = path.join(repoRoot, 'test-results', 'screenshots', `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/**
 * Keeps the model busy with short chats until `until` settles (bounded: at most 40 requests), so the
 * stats feed has tokens/s and TTFT to show.
 */
export async function withTraffic<T>(server: TestServer, until: () => Promise<T>): Promise<T> {
  let done = false;
  const traffic = (async () => {
    for (let count = 0; count < 40 && !done; count += 1) {
      await server.openai.chat.completions.create({
        model: MODEL_ID,
        messages: [{ role: 'user', content: 'Tell me a story.' }],
        max_tokens: 48,
      });
    }
  })();
  try {
    return await until();
  } finally {
    done = true;
    await traffic;
  }
}

/**
 * Makes the server fail a download, which raises a download alert: a loopback file server answers
 * 404 until the server has given up on the job (the downloader may ask more than once).
 */
export async function failADownload(server: TestServer): Promise<void> {
  const files = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = files.address() as AddressInfo;
    const response = await server.admin('/admin/models/download', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${port}/missing-model.gguf` }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    await expect
      .poll(
        async () => {
          const { data } = (await (await server.admin('/admin/downloads')).json()) as {
            data: { id: string; state: string }[];
          };
          return data.find((job) => job.id === id)?.state;
        },
        { timeout: 15_000 },
      )
      .toBe('failed');
  } finally {
    files.closeAllConnections();
    await new Promise((resolve) => files.close(resolve));
  }
}

/** Serious and critical axe findings, in words (an empty list passes). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
    );
}
