// A model file whose first load or first inference took the server down (here: kill -9 while that native work
// runs, as llama.cpp's abort() would) is not restored and not loaded just in time after the restart; an admin
// load tries it again, and once it has survived it is restored like any other.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modelTrialsFile } from '../../server/persistence/model-trials.ts';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { adminCall, adminHeavyEnv } from '../helpers/model-library.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';

const ADMIN_KEY = 'lmx-trials-admin-key-0123456789';
/** Safe mode (two quick crashes) would restore nothing by design; it is tested on its own. */
const env = { ...adminHeavyEnv, LMX_CRASH_LOOP_MAX_STARTS: '100000' };
let server: ServerProcess | undefined;

afterEach(async () => {
  server?.child.kill('SIGKILL');
  await server?.exited;
});

async function libraryWith(name: string): Promise<string> {
  const dataDir = await makeDataDir();
  await mkdir(path.join(dataDir, 'models'), { recursive: true });
  // bench100m: slow enough to load, and to evaluate a long prompt, that the kill lands inside the work.
  await copyFile(await ensureGeneratedModel('bench100m'), path.join(dataDir, 'models', `${name}.gguf`));
  return dataDir;
}

/** Waits (bounded) until the trials file shows a trial of `phase` under way. */
async function trialUnderWay(dataDir: string, phase: 'load' | 'inference'): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const text = await readFile(modelTrialsFile(dataDir), 'utf8').catch(() => '{}');
    const underWay = (JSON.parse(text) as { underWay?: Record<string, string> }).underWay ?? {};
    if (Object.values(underWay).includes(phase)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no ${phase} trial under way within 20 s`);
}

async function killAndRestart(dataDir: string): Promise<ServerProcess> {
  server!.child.kill('SIGKILL');
  await server!.exited;
  server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), env);
  return server;
}

async function modelEntry(url: string, id: string): Promise<{ state: string; error: string | null }> {
  const { body } = await adminCall(url, ADMIN_KEY, 'GET', '/admin/models');
  return (body as { data: { id: string; state: string; error: string | null }[] }).data.find(
    (m) => m.id === id,
  )!;
}

const completion = (url: string, prompt: string) =>
  fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'suspect', prompt, max_tokens: 2, stream: true }),
  });

/** A JIT request naming the file must be refused with the reason, not load it. */
async function expectJitRefused(url: string, phase: string): Promise<void> {
  const response = await completion(url, 'Once');
  expect(response.status).toBe(422);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('model_load_failed');
  expect(body.error.message).toMatch(new RegExp(`crashed the server during its first ${phase}`));
  expect((await modelEntry(url, 'suspect')).state).not.toBe('loaded');
}

describe('a model file that crashed the server', () => {
  it('during its first inference: not restored, refused just in time, loaded again by an admin', async () => {
    const dataDir = await libraryWith('suspect');
    server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), env);
    expect(
      (await adminCall(server.url, ADMIN_KEY, 'POST', '/admin/models/load', { model: 'suspect' })).status,
    ).toBe(200);
    // A prompt that fills most of the 256-token context: its evaluation is the first native inference.
    const pending = completion(server.url, 'the cat sat on a mat and '.repeat(24)).catch(() => undefined);
    await trialUnderWay(dataDir, 'inference');
    await killAndRestart(dataDir);
    await pending;

    // The restore refuses it before any native work: the entry ends failed, with the reason.
    let entry = await modelEntry(server.url, 'suspect');
    for (const deadline = Date.now() + 30_000; entry.state === 'loading' && Date.now() < deadline;)
      entry = await modelEntry(server.url, 'suspect');
    expect(entry.state).toBe('failed');
    expect(entry.error).toMatch(/crashed the server during its first inference/);
    await expectJitRefused(server.url, 'inference');

    expect(
      (await adminCall(server.url, ADMIN_KEY, 'POST', '/admin/models/load', { model: 'suspect' })).status,
    ).toBe(200);
    const answer = await completion(server.url, 'Once');
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('data: [DONE]');
    // It survived its inference now: a crash from here on brings it back like any acknowledged load.
    await killAndRestart(dataDir);
    const deadline = Date.now() + 30_000;
    while ((await modelEntry(server.url, 'suspect')).state !== 'loaded' && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await modelEntry(server.url, 'suspect')).state).toBe('loaded');
  }, 120_000);

  it('during its first load: listed with the reason, refused just in time, loaded again by an admin', async () => {
    const dataDir = await libraryWith('suspect');
    server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), env);
    const load = adminCall(server.url, ADMIN_KEY, 'POST', '/admin/models/load', { model: 'suspect' }).catch(
      () => undefined,
    );
    await trialUnderWay(dataDir, 'load');
    await killAndRestart(dataDir);
    await load;

    expect((await modelEntry(server.url, 'suspect')).error).toMatch(
      /crashed the server during its first load/,
    );
    await expectJitRefused(server.url, 'load');
    expect(
      (await adminCall(server.url, ADMIN_KEY, 'POST', '/admin/models/load', { model: 'suspect' })).status,
    ).toBe(200);
    expect((await modelEntry(server.url, 'suspect')).error).toBeNull();
  }, 120_000);
});
