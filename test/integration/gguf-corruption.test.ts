// Corrupted model files against a spawned `lmx serve`: every file that once aborted or froze the server
// must be listed with an error, refused on load (admin and JIT) within seconds, and the process must live.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corrupt, corruptions } from '../fixtures/gguf-corrupt.ts';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { adminHeavyEnv } from '../helpers/model-library.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';

const adminKey = 'corruption-test-admin-key';
let server: ServerProcess;
let alive = true;

const call = (pathname: string, init: RequestInit = {}) =>
  fetch(`${server.url}${pathname}`, {
    ...init,
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', ...init.headers },
    signal: AbortSignal.timeout(15_000),
  });

beforeAll(async () => {
  const dataDir = await makeDataDir();
  const modelsDir = path.join(dataDir, 'models');
  await mkdir(modelsDir, { recursive: true });
  const valid = await readFile(await ensureGeneratedModel('tiny', { chatTemplate: true }));
  for (const [name, corruption] of Object.entries(corruptions)) {
    await writeFile(path.join(modelsDir, `${name}.gguf`), corrupt(valid, corruption));
  }
  await writeFile(path.join(modelsDir, 'good.gguf'), valid);
  server = await spawnServer(smallServerArgs(dataDir, adminKey), adminHeavyEnv);
  void server.exited.then(() => (alive = false));
}, 60_000);
afterAll(async () => {
  server?.child.kill('SIGKILL');
  await server?.exited;
});

describe('corrupted GGUF files', () => {
  it('are listed with the reason they are refused', async () => {
    const response = await call('/admin/models');
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { id: string; error: string | null }[] };
    for (const name of Object.keys(corruptions)) {
      expect(data.find((entry) => entry.id === name)?.error, name).toMatch(/not a valid GGUF/);
    }
    expect(data.find((entry) => entry.id === 'good')?.error).toBeNull();
  });

  it.each(Object.keys(corruptions))(
    '%s: a load and an unauthenticated JIT request are refused',
    async (name) => {
      const load = await call('/admin/models/load', {
        method: 'POST',
        body: JSON.stringify({ model: name }),
      });
      expect(load.status).toBe(422);
      expect(((await load.json()) as { error: { code: string } }).error.code).toBe('model_load_failed');
      const chat = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: name, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
        signal: AbortSignal.timeout(15_000),
      });
      expect(chat.status).toBeGreaterThanOrEqual(400);
      expect(chat.status).toBeLessThan(500);
      expect(alive).toBe(true);
    },
  );

  it('leave the server alive and a valid model still loads and answers', async () => {
    const load = await call('/admin/models/load', {
      method: 'POST',
      body: JSON.stringify({ model: 'good' }),
    });
    expect(load.status).toBe(200);
    const chat = await call('/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({ model: 'good', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    expect(chat.status).toBe(200);
    expect((await call('/healthz')).status).toBe(200);
    expect(alive).toBe(true);
  });
});
