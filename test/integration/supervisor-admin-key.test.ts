import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminKeys } from '../../electron/main/admin-key.ts';
import { SecretStore } from '../../electron/main/secrets.ts';
import { Keychain } from '../helpers/keychain.ts';
import { supervise, type Harness } from './supervisor-harness.ts';

// The admin key across a rotation in the window and a crash-restart, with the real server: what the
// app keeps (AdminKeys) is what the next `init` carries, and the window's connection works again.

let harness: Harness | undefined;
let appDir: string | undefined;
afterEach(async () => {
  await harness?.dispose();
  if (appDir) await rm(appDir, { recursive: true, force: true });
  harness = appDir = undefined;
});

async function adminStatus(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/admin/state`, { headers: { authorization: `Bearer ${key}` } });
  await response.body?.cancel();
  return response.status;
}

async function rotate(url: string, key: string): Promise<string> {
  const response = await fetch(`${url}/admin/keys/rotate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { adminKey: string }).adminKey;
}

/** As the app wires it: AdminKeys over a SecretStore in the app's own folder, the server's key file in its data dir. */
async function appWithKeychain(keychain: Keychain) {
  appDir = await mkdtemp(path.join(tmpdir(), 'lmx-app-'));
  const secrets = new SecretStore(keychain, path.join(appDir, 'secrets.json'));
  // The key for each start is asked for then, as the app's initPayload does.
  const held: { keys?: AdminKeys } = {};
  const open = (dataDir: string) =>
    AdminKeys.open({ secrets, serverKeyFile: path.join(dataDir, 'admin-key') });
  harness = await supervise({}, { backoffInitialMs: 50 }, () => held.keys?.forInit());
  const keys = (held.keys = await open(harness.dataDir));
  return { keys, relaunch: () => open(harness!.dataDir) };
}

async function rotateThenCrash(keys: AdminKeys) {
  const h = harness!;
  h.supervisor.start();
  await h.until('running', () => h.supervisor.status === 'running');
  const url = h.supervisor.serverUrl!;
  const first = (await keys.current())!;
  expect(await adminStatus(url, first)).toBe(200);

  // The window rotates the key on the server and tells the app, which checks it with the server.
  const rotated = await rotate(url, first);
  await expect(keys.adopt('lmx-a-key-the-server-never-made', url)).rejects.toThrow(/does not accept/);
  await keys.adopt(rotated, url);
  expect(await keys.current()).toBe(rotated);

  // A crash: the supervisor restarts the server, whose `init` carries what the app now holds.
  process.kill(h.supervisor.pid!, 'SIGKILL');
  await h.until('the restart', () => h.exits.length === 1);
  await h.until('running again', () => h.supervisor.status === 'running');
  const restartedUrl = h.supervisor.serverUrl!;
  // The window's next getConnection(): the key it gets is accepted, the old one is not.
  expect(await keys.current()).toBe(rotated);
  expect(await adminStatus(restartedUrl, rotated)).toBe(200);
  expect(await adminStatus(restartedUrl, first)).toBe(401);
  return { first, rotated };
}

describe('admin key: rotation in the window, then a crash-restart', () => {
  it('with the keychain: the rotated key is stored, sent in the next init, and kept at relaunch', async () => {
    const { keys, relaunch } = await appWithKeychain(new Keychain());
    expect(keys.source).toBe('keychain');
    expect(keys.forInit()).toMatch(/^lmx-/);
    const { rotated } = await rotateThenCrash(keys);
    expect(keys.forInit()).toBe(rotated);
    expect((await relaunch()).forInit()).toBe(rotated);
  });

  it('without a keychain: the server keeps its own key file, and the key survives a relaunch', async () => {
    const { keys, relaunch } = await appWithKeychain(new Keychain(false));
    expect(keys.source).toBe('server-file');
    expect(keys.forInit()).toBeUndefined();
    const { rotated } = await rotateThenCrash(keys);
    // A new launch reads the same key, not a fresh one for every run.
    expect(await (await relaunch()).current()).toBe(rotated);
  });
});
