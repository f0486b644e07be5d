import { readFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActivityMessage } from '../../shared/ipc-contract.ts';
import { adminCall, fillModelsDir } from '../helpers/model-library.ts';
import { supervise, type Harness } from './supervisor-harness.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

const latestActivity = (h: Harness) =>
  h.messages.filter((message): message is ActivityMessage => message.type === 'activity').at(-1);

describe("the app's keep-awake activity", () => {
  it('counts models as /readyz does, also while a busy model is being unloaded', async () => {
    const h = await supervise({ rateLimit: { exemptLoopback: true }, parallel: 1 });
    harness = h;
    // `busy` is slow enough that a 480-token answer keeps it in flight for seconds on one thread.
    await fillModelsDir(h.dataDir, { busy: 'bench100m', next: 'tiny' });
    h.supervisor.start();
    await h.until('running', () => h.supervisor.status === 'running');
    const url = h.supervisor.serverUrl!;
    const key = (await readFile(path.join(h.dataDir, 'admin-key'), 'utf8')).trim();
    const readiness = async () => (await (await fetch(`${url}/readyz`)).json()) as { reason?: string };
    expect((await adminCall(url, key, 'POST', '/admin/models/load', { model: 'busy' })).status).toBe(200);
    await h.until('activity to report the model', () => latestActivity(h)?.loadedModels === 1);

    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
    const stream = await openai.completions.create({
      model: 'busy',
      prompt: 'a',
      max_tokens: 480,
      ignore_eos: true,
      stream: true,
    } as OpenAI.CompletionCreateParamsStreaming);
    const chunks = stream[Symbol.asyncIterator]();
    await chunks.next();
    // The unload refuses new requests at once and waits for the running answer: from now on /readyz
    // has no loaded model, and the app must not keep counting it as loaded.
    let unloaded = false;
    const unloading = adminCall(url, key, 'POST', '/admin/models/unload', { model: 'busy' }).finally(
      () => (unloaded = true),
    );
    const deadline = Date.now() + 10_000;
    while ((await readiness()).reason !== 'no_model_loaded' && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await readiness()).reason).toBe('no_model_loaded');
    await h.until('activity to drop the unloading model', () => latestActivity(h)?.loadedModels === 0, 5_000);
    expect(latestActivity(h)).toMatchObject({ loadedModels: 0, loadingModels: 0 });
    // ...while the unload still waits for the answer, not only once it is over.
    expect(unloaded).toBe(false);
    for (let next = await chunks.next(); !next.done; next = await chunks.next());
    expect((await unloading).status).toBe(200);

    expect((await adminCall(url, key, 'POST', '/admin/models/load', { model: 'next' })).status).toBe(200);
    await h.until('activity to report the new model', () => latestActivity(h)?.loadedModels === 1);
    expect(await readiness()).toMatchObject({ status: 'ready' });
    expect(latestActivity(h)).toMatchObject({ loadedModels: 1, loadingModels: 0 });
  });
});
