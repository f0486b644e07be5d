// The RAG and Responses stores open on their first use, not at startup: a server that stores nothing never
// loads LanceDB (about 50 MB resident). A store that cannot open answers 503 `store_unavailable` in the
// API's error shape, the rest of the server goes on, and the next use tries the open again.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import {
  makeDataDir,
  smallServerArgs,
  spawnServer,
  startTestServer,
  type ServerProcess,
  type TestServer,
} from '../helpers/server.ts';

const ADMIN_KEY = 'lmx-test-admin-key-0123456789';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON, checked by the assertions
type Json = any;

async function ragHealth(admin: (pathname: string) => Promise<Response>): Promise<Json> {
  const report = (await (await admin('/admin/health')).json()) as Json;
  return report.components.find((component: Json) => component.name === 'rag');
}

describe('stores opened on first use', () => {
  let spawned: ServerProcess | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    spawned?.child.kill('SIGKILL');
    await spawned?.exited;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('loads LanceDB only once a request stores something', async (context) => {
    if (process.platform !== 'linux') {
      console.log('skipped: reads the server process’s mapped libraries from /proc (Linux only)');
      return context.skip();
    }
    dataDir = await makeDataDir();
    const file = await ensureGeneratedModel('tiny', { chatTemplate: true });
    spawned = await spawnServer([...smallServerArgs(dataDir, ADMIN_KEY), '--model', file], {
      LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0',
    });
    const server = spawned;
    const lanceMapped = async () =>
      (await readFile(`/proc/${server.child.pid}/maps`, 'utf8')).includes('lancedb');
    const admin = (pathname: string) =>
      fetch(`${server.url}${pathname}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await expect.poll(async () => (await openai.models.list()).data.length, { timeout: 60_000 }).toBe(1);
    const model = (await openai.models.list()).data[0]!.id;

    await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
    });
    await openai.responses.create({ model, input: 'not kept', max_output_tokens: 2, store: false });
    expect(await ragHealth(admin)).toMatchObject({ status: 'ok', details: { opened: false } });
    expect(await lanceMapped()).toBe(false);

    const stored = await openai.responses.create({ model, input: 'kept', max_output_tokens: 2 });
    expect(await lanceMapped()).toBe(true);
    expect((await openai.responses.retrieve(stored.id)).id).toBe(stored.id);

    const collections = (await (await admin('/admin/rag/collections')).json()) as Json;
    expect(collections).toEqual({ object: 'list', data: [] });
    expect(await ragHealth(admin)).toMatchObject({
      status: 'ok',
      details: { opened: true, collections: 0, documents: 0, chunks: 0 },
    });
  }, 120_000);
});

describe('a store that cannot open', () => {
  let lmx: TestServer | undefined;
  afterAll(async () => lmx?.stop());

  it('answers 503 store_unavailable, leaves the rest serving, and opens once it can', async () => {
    const dataDir = await makeDataDir();
    // A file where each store's directory should be: neither can open.
    const blockers = [path.join(dataDir, 'responses'), path.join(dataDir, 'rag')];
    for (const blocker of blockers) await writeFile(blocker, 'not a directory');
    const file = await ensureGeneratedModel('tiny', { chatTemplate: true });
    lmx = await startTestServer({ dataDir, startupModels: [file] });
    const { openai, admin } = lmx;
    const model = (await openai.models.list()).data[0]!.id;

    const refused = (await openai.responses
      .create({ model, input: 'x', max_output_tokens: 1 })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused.status).toBe(503);
    expect(refused.code).toBe('store_unavailable');
    expect(refused.message).toMatch(/The response store could not be opened/);
    expect(refused.headers?.get('retry-after')).toBe('5');
    // Without the store: answered.
    const unstored = await openai.responses.create({ model, input: 'x', max_output_tokens: 1, store: false });
    expect(unstored.status).toBe('incomplete');
    const chat = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 1,
    });
    expect(chat.choices).toHaveLength(1);

    const collections = await admin('/admin/rag/collections');
    expect(collections.status).toBe(503);
    expect(await collections.json()).toMatchObject({
      error: {
        type: 'service_unavailable_error',
        code: 'store_unavailable',
        message: /The RAG store could not be opened/,
      },
    });
    expect(await ragHealth(admin)).toMatchObject({
      status: 'down',
      details: { opened: false, error: expect.stringMatching(/The RAG store could not be opened/) },
    });

    for (const blocker of blockers) await rm(blocker);
    const stored = await openai.responses.create({ model, input: 'x', max_output_tokens: 1 });
    expect((await openai.responses.retrieve(stored.id)).id).toBe(stored.id);
    expect(await (await admin('/admin/rag/collections')).json()).toEqual({ object: 'list', data: [] });
    expect(await ragHealth(admin)).toMatchObject({ status: 'ok', details: { opened: true } });
  }, 120_000);
});
