import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import type { AppStatus, LmxNativeBridge } from '../../../shared/ipc-contract.ts';
import { findElectronBinary } from '../../../electron/binary.ts';
import { testModelPath } from '../../fixtures/models.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const binary = findElectronBinary(repoRoot);
if (!binary.found) process.stdout.write(`[electron e2e] skipped: ${binary.reason}\n`);

/** The page's global object as the preload leaves it (this tsconfig has no DOM types). */
type BridgeWindow = typeof globalThis & { lmx?: LmxNativeBridge };

test.skip(!binary.found, binary.found ? '' : `no Electron binary here: ${binary.reason}`);

test('the menu-bar app starts the server, loads a model through the UI and quits cleanly', async () => {
  if (!binary.found) return;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lmx-electron-e2e-'));
  const modelsDir = path.join(dataDir, 'models');
  await mkdir(modelsDir, { recursive: true });
  const model = await testModelPath();
  const modelId = path.basename(model, '.gguf');
  await copyFile(model, path.join(modelsDir, path.basename(model)));

  const app = await electron.launch({
    executablePath: binary.path,
    args: [path.join(repoRoot, 'electron', 'main.mjs')],
    cwd: repoRoot,
    env: {
      ...process.env,
      LMX_DATA_DIR: dataDir,
      LMX_MODELS_DIR: modelsDir,
      LMX_PORT: '0',
      LMX_GPU: 'off',
      LMX_ENGINE_THREADS: '1',
      LMX_CONTEXT_SIZE: '512',
    },
  });
  try {
    // The tray window (preloaded by menubar) moves from the starting page to the server's UI.
    const window = await app.firstWindow();
    await window.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/ui\//, { timeout: 120_000 });

    // Security defaults as the page sees them: no Node, only the typed bridge.
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe(
      'undefined',
    );
    expect(await window.evaluate(() => Object.keys((globalThis as BridgeWindow).lmx ?? {}).sort())).toEqual(
      [
        'getConnection',
        'getStatus',
        'onStatus',
        'quit',
        'revealLogs',
        'setKeepAwake',
        'setLaunchAtLogin',
      ].sort(),
    );
    const status = (await window.evaluate(() => (globalThis as BridgeWindow).lmx!.getStatus())) as AppStatus;
    expect(status.supervisor).toBe('running');
    const connection = await window.evaluate(() => (globalThis as BridgeWindow).lmx!.getConnection());
    expect(connection?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Load the model through the UI, then the server is ready.
    await window.getByRole('button', { name: `Load ${modelId}` }).click();
    await expect
      .poll(async () => (await fetch(`${connection!.url}/readyz`)).status, { timeout: 60_000 })
      .toBe(200);
    expect((await window.evaluate(() => (globalThis as BridgeWindow).lmx!.getStatus())).keepAwake.held).toBe(
      true,
    );

    // Quit: the server drains and the app exits 0.
    const exited = new Promise<number | null>((resolve) =>
      app.process().once('exit', (code) => resolve(code)),
    );
    await app.evaluate(({ app: electronApp }) => electronApp.quit());
    expect(await exited).toBe(0);
    await expect(fetch(`${connection!.url}/healthz`)).rejects.toThrow();
  } finally {
    await app.close().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
});
