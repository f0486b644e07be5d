// A model file that passes validation but aborts llama.cpp natively at its first load: the server tries that
// load in a probe process first, so the file is refused with the reason (admin and just in time), the process
// lives, other models keep answering, and a restart still refuses the file without trying it again.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { corrupt, probeOnlyCorruptions } from '../fixtures/gguf-corrupt.ts';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { adminCall, adminHeavyEnv, recordEvents } from '../helpers/model-library.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';

const ADMIN_KEY = 'lmx-probe-admin-key-0123456789';
const probeCrash = /crashed a probe process \(SIGABRT\) during its first load/;
let server: ServerProcess | undefined;

afterEach(async () => {
  server?.child.kill('SIGKILL');
  await server?.exited;
});

async function libraryWithCrasher(): Promise<string> {
  const dataDir = await makeDataDir();
  const modelsDir = path.join(dataDir, 'models');
  await mkdir(modelsDir, { recursive: true });
  const valid = await readFile(await ensureGeneratedModel('tiny', { chatTemplate: true }));
  await writeFile(path.join(modelsDir, 'good.gguf'), valid);
  const crashing = probeOnlyCorruptions['newline-byte-token-missing']!;
  await writeFile(path.join(modelsDir, 'crasher.gguf'), corrupt(valid, crashing));
  return dataDir;
}

const chat = (url: string, model: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 }),
    signal: AbortSignal.timeout(60_000),
  });

async function expectRefused(response: Response): Promise<void> {
  expect(response.status).toBe(422);
  const { error } = (await response.json()) as { error: { code: string; message: string } };
  expect(error.code).toBe('model_load_failed');
  expect(error.message).toMatch(probeCrash);
}

async function expectServing(url: string): Promise<void> {
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  const answer = await chat(url, 'good');
  expect(answer.status).toBe(200);
  const body = (await answer.json()) as { usage: { completion_tokens: number } };
  expect(body.usage.completion_tokens).toBeGreaterThan(0);
}

async function crasherEntry(url: string): Promise<{ state: string; error: string | null }> {
  const { body } = await adminCall(url, ADMIN_KEY, 'GET', '/admin/models');
  return (body as { data: { id: string; state: string; error: string | null }[] }).data.find(
    (m) => m.id === 'crasher',
  )!;
}

describe('a model file that aborts llama.cpp at its first load', () => {
  it('is refused after crashing a probe process, and the server keeps serving', async () => {
    const dataDir = await libraryWithCrasher();
    server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), adminHeavyEnv);
    const { url } = server;
    const events = await recordEvents(url, ADMIN_KEY);
    expect((await adminCall(url, ADMIN_KEY, 'POST', '/admin/models/load', { model: 'good' })).status).toBe(
      200,
    );

    // An unauthenticated request names it: the just-in-time load is probed, refused, the server lives.
    await expectRefused(await chat(url, 'crasher'));
    const alert = (await events.waitFor(
      (event, data) => event === 'alert' && data.kind === 'model_crash',
    )) as { message: string; severity: string };
    events.close();
    expect(alert.severity).toBe('critical');
    expect(alert.message).toMatch(/'crasher' crashed a probe process \(SIGABRT\)/);
    await expectServing(url);
    expect((await crasherEntry(url)).error).toMatch(probeCrash);
    // The child's stderr is in the server's log: llama.cpp's own words for why it aborted.
    expect(server.stderr()).toMatch(/std::out_of_range/);

    // Marked as crashed: just in time it is refused without another probe; an admin load probes it again.
    await expectRefused(await chat(url, 'crasher'));
    const retry = await adminCall(url, ADMIN_KEY, 'POST', '/admin/models/load', { model: 'crasher' });
    expect(retry.status).toBe(422);
    expect(JSON.stringify(retry.body)).toMatch(probeCrash);
    await expectServing(url);

    // A restart restores the good model, not the crasher, and still refuses it just in time.
    server.child.kill('SIGTERM');
    await server.exited;
    server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), adminHeavyEnv);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const { body } = await adminCall(server.url, ADMIN_KEY, 'GET', '/admin/models');
      const good = (body as { data: { id: string; state: string }[] }).data.find((m) => m.id === 'good');
      if (good?.state === 'loaded') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expectServing(server.url);
    expect((await crasherEntry(server.url)).error).toMatch(probeCrash);
    expect((await crasherEntry(server.url)).state).not.toBe('loaded');
    await expectRefused(await chat(server.url, 'crasher'));
  }, 180_000);
});
