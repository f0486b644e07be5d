import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  adminCall,
  fillModelsDir,
  recordEvents,
  type EventRecorder,
  adminHeavy,
} from '../helpers/model-library.ts';

// Estimates with contextSize 256, parallel 1: alpha (tiny, F32) ≈ 2.6 MB, beta (tinyQ8) ≈ 2.1 MB.
// A 4 MB budget holds either one but not both.
const BUDGET = 4 * 1024 ** 2;

let lmx: TestServer;
let events: EventRecorder;
const admin = (method: string, pathname: string, body?: unknown) =>
  adminCall(lmx.url, lmx.adminKey, method, pathname, body);
const stateOf = async (id: string) =>
  (await admin('GET', '/admin/models')).body.data.find((entry: { id: string }) => entry.id === id)?.state;

beforeAll(async () => {
  const dataDir = await makeDataDir();
  await fillModelsDir(dataDir, { alpha: 'tiny', beta: 'tinyQ8' });
  lmx = await startTestServer({
    dataDir,
    contextSize: 256,
    parallel: 1,
    memory: { reserveBytes: 0, budgetBytes: BUDGET },
    ...adminHeavy,
  });
  events = await recordEvents(lmx.url, lmx.adminKey);
});
afterAll(async () => {
  events?.close();
  await lmx?.stop();
});

describe('memory budget', () => {
  it('unloads the least recently used idle model to make room', async () => {
    expect((await admin('POST', '/admin/models/load', { model: 'alpha' })).status).toBe(200);
    const loaded = await admin('POST', '/admin/models/load', { model: 'beta' });
    expect(loaded.status).toBe(200);
    expect(await stateOf('alpha')).toBe('unloaded');
    expect(await stateOf('beta')).toBe('loaded');
    await events.waitFor(
      (type, data) => type === 'alert' && data.kind === 'memory' && /alpha/.test(data.message),
    );
    // JIT loading alpha back evicts beta in turn.
    await lmx.openai.completions.create({ model: 'alpha', prompt: 'Hi', max_tokens: 2 });
    expect(await stateOf('beta')).toBe('unloaded');
  });

  it('refuses with 507 what cannot fit even with every idle model unloaded', async () => {
    const refused = await admin('POST', '/admin/models/load', { model: 'beta', parallel: 8 });
    expect(refused.status).toBe(507);
    expect(refused.body.error.code).toBe('insufficient_memory');
    expect(refused.body.error.message).toMatch(/Not enough memory to load 'beta'/);
    // The refusal leaves the server serving.
    const completion = await lmx.openai.completions.create({ model: 'alpha', prompt: 'Hi', max_tokens: 2 });
    expect(completion.model).toBe('alpha');
  });
});

describe('idle TTL', () => {
  it('unloads a model unused for models.ttlSeconds', async () => {
    expect(await stateOf('alpha')).toBe('loaded');
    const from = events.events.length;
    const put = await admin('PUT', '/admin/config', { models: { ttlSeconds: 1 } });
    expect(put.status).toBe(200);
    expect(put.body.restartRequired).toEqual([]);
    await events.waitFor(
      (type, data) => type === 'model' && data.id === 'alpha' && data.state === 'unloaded',
      15_000,
      from,
    );
    expect(await stateOf('alpha')).toBe('unloaded');
  });
});
