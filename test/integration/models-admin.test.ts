import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  adminCall,
  fillModelsDir,
  recordEvents,
  type EventRecorder,
  adminHeavy,
} from '../helpers/model-library.ts';

let lmx: TestServer;
let events: EventRecorder;
let modelsDir: string;
const admin = (method: string, pathname: string, body?: unknown) =>
  adminCall(lmx.url, lmx.adminKey, method, pathname, body);

beforeAll(async () => {
  const dataDir = await makeDataDir();
  modelsDir = await fillModelsDir(dataDir, { alpha: 'tiny', beta: 'tinyQ8', doomed: 'tinyQ8' });
  await mkdir(path.join(modelsDir, 'sub'));
  await fillModelsDir(path.join(dataDir, 'outside'), { escapee: 'tiny' });
  // A link inside the library that points outside it, and files that are not models.
  await symlink(
    path.join(dataDir, 'outside', 'models', 'escapee.gguf'),
    path.join(modelsDir, 'escapee.gguf'),
  );
  await writeFile(path.join(modelsDir, 'sub', 'garbage.gguf'), 'this is not a gguf file at all');
  await mkdir(path.join(modelsDir, '.downloads', 'abc'), { recursive: true });
  await writeFile(path.join(modelsDir, '.downloads', 'abc', 'half.gguf.ipull'), 'partial');
  lmx = await startTestServer({ dataDir, contextSize: 256, parallel: 1, ...adminHeavy });
  events = await recordEvents(lmx.url, lmx.adminKey);
});
afterAll(async () => {
  events?.close();
  await lmx?.stop();
});

describe('model library', () => {
  it('lists library models with GGUF metadata and never a half download or a link out', async () => {
    const { status, body } = await admin('GET', '/admin/models');
    expect(status).toBe(200);
    const ids = body.data.map((entry: { id: string }) => entry.id);
    expect(ids).toEqual(['alpha', 'beta', 'doomed', 'garbage']);
    const alpha = body.data[0];
    expect(alpha).toMatchObject({
      id: 'alpha',
      path: expect.stringContaining('alpha.gguf'),
      architecture: 'llama',
      quantization: 'F32',
      trainedContext: 2048,
      state: 'unloaded',
      error: null,
      loaded: null,
    });
    expect(alpha.sizeBytes).toBeGreaterThan(100_000);
    expect(alpha.parameters).toBeGreaterThan(100_000);
    expect(body.data[3].error).toMatch(/not a valid GGUF/);
  });

  it('loads, answers 409 on a second load, serves, unloads, and 409 on a second unload', async () => {
    const loaded = await admin('POST', '/admin/models/load', { model: 'alpha', contextSize: 256 });
    expect(loaded.status).toBe(200);
    expect(loaded.body).toMatchObject({
      id: 'alpha',
      state: 'loaded',
      loaded: { contextSize: 256, parallel: 1 },
    });
    expect(loaded.body.loaded.memoryBytes).toBeGreaterThan(0);
    await events.waitFor((type, data) => type === 'model' && data.id === 'alpha' && data.state === 'loading');
    await events.waitFor((type, data) => type === 'model' && data.id === 'alpha' && data.state === 'loaded');

    expect((await admin('POST', '/admin/models/load', { model: 'alpha' })).status).toBe(409);
    const completion = await lmx.openai.completions.create({ model: 'alpha', prompt: 'Hi', max_tokens: 3 });
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);

    const unloaded = await admin('POST', '/admin/models/unload', { model: 'alpha' });
    expect(unloaded.status).toBe(200);
    expect(unloaded.body).toMatchObject({ id: 'alpha', state: 'unloaded', loaded: null });
    await events.waitFor(
      (type, data) => type === 'model' && data.id === 'alpha' && data.state === 'unloading',
    );
    await events.waitFor(
      (type, data) => type === 'model' && data.id === 'alpha' && data.state === 'unloaded',
    );
    const again = await admin('POST', '/admin/models/unload', { model: 'alpha' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('model_not_loaded');
  });

  it('loads a model just in time for a /v1 request', async () => {
    const completion = await lmx.openai.completions.create({ model: 'beta', prompt: 'Hi', max_tokens: 2 });
    expect(completion.model).toBe('beta');
    const { body } = await admin('GET', '/admin/models');
    expect(body.data.find((entry: { id: string }) => entry.id === 'beta').state).toBe('loaded');
    expect((await lmx.openai.models.list()).data.map((model) => model.id)).toContain('beta');
  });

  it('refuses a corrupt GGUF with a clear error while another model keeps serving', async () => {
    const refused = await admin('POST', '/admin/models/load', { model: 'garbage' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'model_load_failed', type: 'invalid_request_error' });
    expect(refused.body.error.message).toMatch(/not a valid GGUF/);
    const listed = await admin('GET', '/admin/models');
    expect(listed.body.data.find((entry: { id: string }) => entry.id === 'garbage').state).toBe('failed');
    const completion = await lmx.openai.completions.create({ model: 'beta', prompt: 'Hi', max_tokens: 2 });
    // Tokens, not text: two sampled tokens of a random-weight model may both detokenize to nothing.
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('refuses ids and paths that resolve outside the models dir with 400', async () => {
    const outside = path.join(path.dirname(modelsDir), 'outside', 'models', 'escapee.gguf');
    for (const model of [
      '../outside/models/escapee.gguf',
      outside,
      'escapee',
      'sub/../../outside/models/escapee.gguf',
    ]) {
      const answer = await admin('POST', '/admin/models/load', { model });
      expect(answer.status, model).toBe(400);
      expect(answer.body.error.code).toBe('model_path_outside_library');
    }
    const deleted = await admin(
      'DELETE',
      `/admin/models/${encodeURIComponent('../outside/models/escapee.gguf')}`,
    );
    expect(deleted.status).toBe(400);
    const viaV1 = await fetch(`${lmx.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: '../outside/models/escapee.gguf', prompt: 'x', max_tokens: 1 }),
    });
    expect(viaV1.status).toBe(400);
  });

  it('loads by a path inside the library', async () => {
    const answer = await admin('POST', '/admin/models/load', { model: 'doomed.gguf' });
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe('doomed');
  });

  it('refuses to delete a loaded model (409), deletes it once unloaded (204)', async () => {
    expect((await admin('DELETE', '/admin/models/doomed')).status).toBe(409);
    expect((await admin('POST', '/admin/models/unload', { model: 'doomed' })).status).toBe(200);
    expect((await admin('DELETE', '/admin/models/doomed')).status).toBe(204);
    const { body } = await admin('GET', '/admin/models');
    expect(body.data.map((entry: { id: string }) => entry.id)).not.toContain('doomed');
    expect((await admin('DELETE', '/admin/models/doomed')).status).toBe(404);
  });

  it('answers 404 for an unknown model and 401 without the admin key', async () => {
    expect((await admin('POST', '/admin/models/load', { model: 'nope' })).status).toBe(404);
    expect((await fetch(`${lmx.url}/admin/models`)).status).toBe(401);
    expect((await fetch(`${lmx.url}/admin/events`)).status).toBe(401);
  });
});

describe('jitLoad off', () => {
  it('says the model exists but is not loaded', async () => {
    const put = await admin('PUT', '/admin/config', { jitLoad: false });
    expect(put.status).toBe(200);
    expect(put.body.restartRequired).toEqual([]);
    await admin('POST', '/admin/models/unload', { model: 'beta' });
    const answer = await fetch(`${lmx.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'beta', prompt: 'x', max_tokens: 1 }),
    });
    expect(answer.status).toBe(404);
    const body = (await answer.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('model_not_found');
    expect(body.error.message).toMatch(/exists but is not loaded/);
    await admin('PUT', '/admin/config', { jitLoad: true });
  });
});

// The generated models are real GGUF files; make sure the fixture is what the test assumes.
it('uses generated fixtures', async () => {
  expect(await ensureGeneratedModel('tiny')).toMatch(/\.gguf$/);
});
