/**
 * Which native addon runs: LMX's build (npm run build:engine: persistent threadpools, batch threads) when it is
 * there, node-llama-cpp's prebuilt binary otherwise, and deep health says which and why. The fallbacks run in
 * child processes: one process cannot load both binaries (their libggml/libllama share names).
 *
 * The patched case needs the build; without it the test is skipped with the reason printed, unless
 * LMX_EXPECT_PATCHED_ADDON=1 (CI builds it first), where a missing build fails.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { engineBuildKey, findLocalBuild } from '../../server/engine/engine-build.ts';
import { testModelPath } from '../fixtures/models.ts';
import {
  smallServerArgs,
  spawnServer,
  startTestServer,
  waitUntilReady,
  type ServerProcess,
  type TestServer,
} from '../helpers/server.ts';

interface Component {
  name: string;
  details: Record<string, unknown>;
}

const adminKey = 'engine-addon-test-admin-key-0123456789';
const running: ServerProcess[] = [];
const dirs: string[] = [];
let lmx: TestServer | undefined;

afterEach(async () => {
  await lmx?.stop();
  lmx = undefined;
  for (const server of running.splice(0)) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lmx-addon-test-'));
  dirs.push(dir);
  return dir;
}

/** Whether `npm run build:engine` has filed the build of the shipped patch where getLlama() looks. */
async function patchedBuildPresent(): Promise<boolean> {
  const key = await engineBuildKey();
  return key !== undefined && (await findLocalBuild(key)) !== undefined;
}

// LMX_ENGINE_ADDON=prebuilt runs the whole suite on the prebuilt binary: then there is no patched case.
const built = process.env.LMX_ENGINE_ADDON !== 'prebuilt' && (await patchedBuildPresent());
const expectBuilt =
  process.env.LMX_EXPECT_PATCHED_ADDON === '1' && process.env.LMX_ENGINE_ADDON !== 'prebuilt';
if (!built && !expectBuilt)
  console.warn(
    'engine-addon: patched-addon case skipped, no build of native/addon (run npm run build:engine)',
  );

function components(body: unknown): Component[] {
  return (body as { components: Component[] }).components;
}

async function deepHealth(url: string): Promise<Component[]> {
  const ask = () => fetch(`${url}/admin/health`, { headers: { authorization: `Bearer ${adminKey}` } });
  let response = await ask();
  // Load shedding may refuse the first requests right after a start on a busy machine: retry (bounded).
  for (let attempt = 0; response.status === 503 && attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    response = await ask();
  }
  if (!response.ok) throw new Error(`/admin/health: HTTP ${response.status} ${await response.text()}`);
  return components(await response.json());
}

/** `lmx serve` on the test model with extra environment; waits until it serves. */
async function serveWith(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  // Startup tests the binary in a child process first: slow on a busy machine.
  const server = await spawnServer(
    ['--model', await testModelPath(), ...smallServerArgs(await tempDir(), adminKey)],
    env,
    150_000,
  );
  running.push(server);
  await waitUntilReady(server.url);
  return server;
}

async function completes(url: string): Promise<void> {
  const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
  const model = (await openai.models.list()).data[0]!.id;
  const completion = await openai.completions.create({ model, prompt: 'a', max_tokens: 3, temperature: 0 });
  expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
}

describe('native addon', { timeout: 240_000 }, () => {
  it.skipIf(!built && !expectBuilt)(
    'runs LMX’s patched build when it is there: deep health names it and the threadpool is persistent',
    async () => {
      expect(built, 'LMX_EXPECT_PATCHED_ADDON=1 but no build of native/addon (npm run build:engine)').toBe(
        true,
      );
      lmx = await startTestServer({ startupModels: [await testModelPath()], engine: { threads: 1 } });
      const health = components(await (await lmx.admin('/admin/health')).json());
      const engine = health.find((c) => c.name === 'engine')!.details;
      expect(engine.addon).toMatchObject({
        kind: 'patched',
        reason: expect.stringMatching(/persistent threadpool/),
      });
      expect(engine.batchThreads).toBeGreaterThanOrEqual(1);
      const modelId = (await lmx.openai.models.list()).data[0]!.id;
      const model = health.find((c) => c.name === `model:${modelId}`)!.details;
      // What the addon itself reports: the pool is attached, decode at the configured 1, batches on every core.
      expect(model.threadpool).toEqual({ persistent: true, threads: 1, batchThreads: engine.batchThreads });
      await completes(lmx.url);
    },
  );

  // With an OpenMP build of ggml every graph runs on an OpenMP team of the thread that calls llama_decode, not on the
  // context's pool: each libuv thread that runs a decode grows a team of its own, whose threads spin between graphs.
  it.skipIf((!built && !expectBuilt) || !existsSync('/proc/self/task'))(
    'computes every batch on the context’s own threadpool: concurrent decodes add no threads',
    async () => {
      expect(built, 'LMX_EXPECT_PATCHED_ADDON=1 but no build of native/addon (npm run build:engine)').toBe(
        true,
      );
      const server = await spawnServer(
        [
          ['--model', await testModelPath(), ...smallServerArgs(await tempDir(), adminKey)],
          ['--threads', '2', '--parallel', '4'],
        ].flat(),
        {},
        150_000,
      );
      running.push(server);
      await waitUntilReady(server.url);
      const threads = () => readdirSync(`/proc/${server.child.pid}/task`).length;
      const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const model = (await openai.models.list()).data[0]!.id;
      const round = () =>
        Promise.all(
          [0, 1, 2, 3].map((i) =>
            openai.completions.create({ model, prompt: `story ${i}`, max_tokens: 16, temperature: 0 }),
          ),
        );
      // The model is loaded (on libuv's pool, whose threads all start with its first job) and its pool made.
      const before = threads();
      for (let i = 0; i < 5; i++) await round();
      // Decodes and samplings land on all four libuv threads; the pool's one worker serves them all.
      expect(threads()).toBe(before);
      const health = await deepHealth(server.url);
      const details = health.find((c) => c.name === `model:${model}`)!.details;
      expect(details.threadpool).toEqual({ persistent: true, threads: 2, batchThreads: 2 });
    },
  );

  it('falls back to the prebuilt binary with a warning when no build of the shipped patch exists', async () => {
    // A patch set that was never built: the loader finds no local build for it.
    const patches = await tempDir();
    await mkdir(patches, { recursive: true });
    await writeFile(path.join(patches, 'never-built.patch'), `never built ${Date.now()}\n`);
    const server = await serveWith({ LMX_ENGINE_PATCH_DIR: patches, LMX_ENGINE_ADDON: 'auto' });
    const engine = (await deepHealth(server.url)).find((c) => c.name === 'engine')!.details;
    expect(engine.addon).toMatchObject({
      kind: 'prebuilt',
      reason: expect.stringMatching(/missing or failed to load \(run npm run build:engine\)/),
    });
    // The prebuilt binary cannot set batch threads: one count for both phases, said so.
    expect(engine.batchThreads).toBeNull();
    expect(engine.batchThreadsReason).toMatch(/prebuilt addon/);
    expect(server.stderr()).toMatch(/falling back to node-llama-cpp's prebuilt binary/);
    await completes(server.url);
  });

  it('runs the prebuilt binary when LMX_ENGINE_ADDON=prebuilt asks for it (A/B runs)', async () => {
    const server = await serveWith({ LMX_ENGINE_ADDON: 'prebuilt' });
    const health = await deepHealth(server.url);
    const engine = health.find((c) => c.name === 'engine')!.details;
    expect(engine.addon).toMatchObject({
      kind: 'prebuilt',
      reason: expect.stringMatching(/LMX_ENGINE_ADDON=prebuilt/),
    });
    const model = health.find((c) => c.name.startsWith('model:'))!.details;
    expect(model.threadpool).toBeNull();
    await completes(server.url);
  });
});
