import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  makeDataDir,
  runCli,
  smallServerArgs,
  spawnServer,
  waitUntilReady,
  type ServerProcess,
} from '../helpers/server.ts';
import { adminCall, adminHeavyEnv, fillModelsDir } from '../helpers/model-library.ts';

/** Real server processes on a shared data dir: crashes are real SIGKILLs. */
// Each `lmx serve` start costs seconds on a busy 2-core machine; these tests start two or three.
const SPAWN_TEST_TIMEOUT_MS = 180_000;
const ADMIN_KEY = 'lmx-test-admin-key-0123456789';
const running = new Set<ServerProcess>();

async function start(dataDir: string): Promise<ServerProcess> {
  const server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), adminHeavyEnv);
  running.add(server);
  return server;
}

async function crash(server: ServerProcess): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited;
  running.delete(server);
}

async function stopCleanly(server: ServerProcess): Promise<number | null> {
  server.child.kill('SIGTERM');
  const code = await server.exited;
  running.delete(server);
  return code;
}

const call = (server: ServerProcess, method: string, pathname: string, body?: unknown) =>
  adminCall(server.url, ADMIN_KEY, method, pathname, body);
const loadedIds = async (server: ServerProcess) =>
  (await call(server, 'GET', '/admin/models')).body.data
    .filter((entry: { state: string }) => entry.state === 'loaded')
    .map((entry: { id: string }) => entry.id);
const readState = async (dataDir: string) =>
  JSON.parse(await readFile(path.join(dataDir, 'runtime-state.json'), 'utf8'));

/** A server on a fresh data dir with alpha and beta (parallel 2) loaded through the admin API. */
async function startWithAlphaAndBeta(): Promise<{ dataDir: string; first: ServerProcess }> {
  const dataDir = await makeDataDir();
  await fillModelsDir(dataDir, { alpha: 'tiny', beta: 'tinyQ8' });
  const first = await start(dataDir);
  expect((await call(first, 'POST', '/admin/models/load', { model: 'alpha' })).status).toBe(200);
  expect((await call(first, 'POST', '/admin/models/load', { model: 'beta', parallel: 2 })).status).toBe(200);
  return { dataDir, first };
}

/** Both models loaded again, beta with the option it was loaded with. */
async function expectAlphaAndBetaBack(server: ServerProcess): Promise<void> {
  await waitUntilReady(server.url);
  expect((await loadedIds(server)).sort()).toEqual(['alpha', 'beta']);
  const beta = (await call(server, 'GET', '/admin/models')).body.data.find(
    (entry: { id: string }) => entry.id === 'beta',
  );
  expect(beta.loaded.parallel).toBe(2);
}

afterEach(async () => {
  for (const server of running) await crash(server);
});

describe('crash recovery', () => {
  it(
    'brings back both loaded models after kill -9, with the options they were loaded with',
    { timeout: SPAWN_TEST_TIMEOUT_MS },
    async () => {
      const { dataDir, first } = await startWithAlphaAndBeta();
      const before = await readState(dataDir);
      expect(before).toMatchObject({ last_clean_shutdown: false, startup_count: 1, pid: first.child.pid });
      expect(before.loaded_models.map((model: { id: string }) => model.id).sort()).toEqual(['alpha', 'beta']);
      await crash(first);

      const second = await start(dataDir);
      await expectAlphaAndBetaBack(second);
      const state = (await call(second, 'GET', '/admin/state')).body;
      expect(state).toMatchObject({
        status: 'ready',
        startupCount: 2,
        lastCleanShutdown: false,
        pid: second.child.pid,
      });
      expect(state.safeMode).toEqual({ active: false, reason: null });

      expect(await stopCleanly(second)).toBe(0);
      expect(await readState(dataDir)).toMatchObject({ last_clean_shutdown: true, startup_count: 2 });
    },
  );

  it(
    'brings back both loaded models after a clean SIGTERM, exactly as after a crash',
    { timeout: SPAWN_TEST_TIMEOUT_MS },
    async () => {
      const { dataDir, first } = await startWithAlphaAndBeta();
      expect(await stopCleanly(first)).toBe(0);
      const after = await readState(dataDir);
      expect(after.last_clean_shutdown).toBe(true);
      expect(after.loaded_models.map((model: { id: string }) => model.id).sort()).toEqual(['alpha', 'beta']);

      const second = await start(dataDir);
      await expectAlphaAndBetaBack(second);
      expect(await stopCleanly(second)).toBe(0);
    },
  );

  it(
    'goes into safe mode after three quick crashes, and leaves it on request',
    { timeout: SPAWN_TEST_TIMEOUT_MS },
    async () => {
      const dataDir = await makeDataDir();
      await fillModelsDir(dataDir, { alpha: 'tiny' });
      const first = await start(dataDir);
      expect((await call(first, 'POST', '/admin/models/load', { model: 'alpha' })).status).toBe(200);
      await crash(first);
      const second = await start(dataDir);
      await waitUntilReady(second.url);
      await crash(second);

      const third = await start(dataDir);
      const ready = await fetch(`${third.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'not_ready', reason: 'safe_mode' });
      const state = (await call(third, 'GET', '/admin/state')).body;
      expect(state.status).toBe('safe_mode');
      expect(state.safeMode.active).toBe(true);
      expect(state.safeMode.reason).toMatch(/crash loop: 3 starts within 60 s/);
      expect(await loadedIds(third)).toEqual([]);
      // The previous run's models are remembered, not forgotten, while in safe mode.
      expect((await readState(dataDir)).loaded_models.map((model: { id: string }) => model.id)).toEqual([
        'alpha',
      ]);

      const exited = await call(third, 'POST', '/admin/safe-mode/exit');
      expect(exited.body).toEqual({ safeMode: { active: false, reason: null } });
      expect((await fetch(`${third.url}/readyz`)).status).toBe(503);
      expect((await call(third, 'POST', '/admin/models/load', { model: 'alpha' })).status).toBe(200);
      expect((await fetch(`${third.url}/readyz`)).status).toBe(200);
      expect((await readState(dataDir)).recent_starts).toEqual([]);
      expect(await stopCleanly(third)).toBe(0);
    },
  );

  it(
    'refuses a second server on the same data dir with a clear message and exit code 3',
    { timeout: SPAWN_TEST_TIMEOUT_MS },
    async () => {
      const dataDir = await makeDataDir();
      const first = await start(dataDir);
      const second = await runCli(['serve', ...smallServerArgs(dataDir, ADMIN_KEY)], adminHeavyEnv);
      expect(second.code).toBe(3);
      expect(second.stderr).toContain(
        `Another LMX server (pid ${first.child.pid}) is already using the data directory`,
      );
      // The first server is untouched and still answers.
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
      expect(await stopCleanly(first)).toBe(0);
    },
  );
});
