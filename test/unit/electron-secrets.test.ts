import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretStore } from '../../electron/main/secrets.ts';
import { Keychain } from '../helpers/keychain.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lmx-secrets-'));
  file = path.join(dir, 'secrets.json');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('SecretStore', () => {
  it('creates the admin key once, stores it encrypted (0600) and returns the same one later', async () => {
    const keychain = new Keychain();
    const key = await new SecretStore(keychain, file).adminKey();
    expect(key).toMatch(/^lmx-[\w-]{43}$/);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(key);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await new SecretStore(keychain, file).adminKey()).toBe(key);
  });

  it('stores, reads and removes the API key beside the admin key', async () => {
    const store = new SecretStore(new Keychain(), file);
    const adminKey = await store.adminKey();
    await store.write({ apiKey: 'sk-team-key' });
    expect(await store.read()).toEqual({ adminKey, apiKey: 'sk-team-key' });
    expect(await readFile(file, 'utf8')).not.toContain('sk-team-key');
    await store.write({ apiKey: null });
    expect(await store.read()).toEqual({ adminKey, apiKey: undefined });
  });

  it('without encryption stores nothing (the server keeps its own key file)', async () => {
    const store = new SecretStore(new Keychain(false), file);
    expect(await store.adminKey()).toBeUndefined();
    await expect(store.write({ apiKey: 'x' })).rejects.toThrow(/not available/);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('replaces a key another keychain encrypted, and survives a damaged file', async () => {
    const first = await new SecretStore(new Keychain(), file).adminKey();
    const second = await new SecretStore(new Keychain(), file).adminKey();
    expect(second).not.toBe(first);
    await writeFile(file, '{not json');
    const third = await new SecretStore(new Keychain(), file).adminKey();
    expect(third).toMatch(/^lmx-/);
  });
});
