import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../server/config/load.ts';
import { ApiError } from '../../server/errors.ts';
import { LiveConfig } from '../../server/config/live-config.ts';
import { makeDataDir } from '../helpers/server.ts';

async function store() {
  const dataDir = await makeDataDir();
  const config = validateConfig({
    dataDir,
    modelsDir: path.join(dataDir, 'models'),
    adminKey: 'a'.repeat(20),
  });
  return { dataDir, store: new LiveConfig(config) };
}

describe('LiveConfig', () => {
  it('redacts secrets', async () => {
    const { store: configs } = await store();
    expect(configs.redacted()).toMatchObject({ adminKey: '[set]', apiKey: null });
  });

  it('applies live keys at once and lists the ones that need a restart; persists only the edit', async () => {
    const { dataDir, store: configs } = await store();
    const result = await configs.update({ port: 4321, models: { ttlSeconds: 30 }, jitLoad: false });
    expect(result.restartRequired).toEqual(['port']);
    expect(configs.current.models.ttlSeconds).toBe(30);
    expect(configs.current.jitLoad).toBe(false);
    const file = JSON.parse(await readFile(path.join(dataDir, 'config.json'), 'utf8'));
    expect(file).toEqual({ port: 4321, models: { ttlSeconds: 30 }, jitLoad: false });
    await configs.update({ memory: { budgetBytes: 1024 } });
    expect(JSON.parse(await readFile(path.join(dataDir, 'config.json'), 'utf8')).port).toBe(4321);
  });

  it('refuses an invalid value with a 400 naming the key, and changes nothing', async () => {
    const { store: configs } = await store();
    for (const [body, key] of [
      [{ port: 'x' }, 'port'],
      [{ models: { ttlSeconds: -1 } }, 'models.ttlSeconds'],
      [{ nope: 1 }, 'nope'],
      [{ dataDir: '/elsewhere' }, 'dataDir'],
    ] as const) {
      const error = await configs.update(body).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).statusCode).toBe(400);
      expect((error as ApiError).param).toBe(key);
    }
    expect(configs.current.port).toBe(1235);
  });
});
