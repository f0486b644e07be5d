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

describe('LiveConfig: helper nodes', () => {
  const helper = { name: 'h1', url: 'http://127.0.0.1:9', roles: ['embed'], timeoutMs: 1000 };

  it('applies helpers and breaker numbers live, tells its listeners, and refuses a repeated name', async () => {
    const { store: configs } = await store();
    const seen: unknown[] = [];
    configs.onChange((config) => seen.push(config.helperBreaker));
    const result = await configs.update({
      helpers: [helper],
      helperBreaker: { failureThreshold: 5, resetTimeoutMs: 2000 },
    });
    expect(result.restartRequired).toEqual([]);
    expect(seen).toEqual([{ failureThreshold: 5, resetTimeoutMs: 2000 }]);
    await configs.update({ jitLoad: true });
    expect(seen).toHaveLength(1);
    for (const [body, key] of [
      [{ helpers: [helper, { ...helper, url: 'http://127.0.0.1:10' }] }, 'helpers.1.name'],
      [{ helperBreaker: { failureThreshold: 0 } }, 'helperBreaker.failureThreshold'],
      [{ helperBreaker: { resetTimeoutMs: 'soon' } }, 'helperBreaker.resetTimeoutMs'],
      [{ helpers: [{ ...helper, timeoutMs: 0 }] }, 'helpers.0.timeoutMs'],
      [{ helpers: [{ ...helper, url: 'ftp://x' }] }, 'helpers.0.url'],
      [{ helpers: [{ ...helper, roles: ['chat'] }] }, 'helpers.0.roles.0'],
    ] as const) {
      const error = await configs.update(body).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).statusCode).toBe(400);
      expect((error as ApiError).param).toBe(key);
    }
    expect(configs.current.helperBreaker.failureThreshold).toBe(5);
  });

  it('shows a helper’s key as "[set]" and keeps it when "[set]" is sent back', async () => {
    const { dataDir, store: configs } = await store();
    await configs.update({ helpers: [{ ...helper, apiKey: 'helper-secret' }] });
    const shown = configs.redacted().helpers as { apiKey: string }[];
    expect(shown[0]!.apiKey).toBe('[set]');
    expect(JSON.stringify(configs.redacted())).not.toContain('helper-secret');
    await configs.update({ helpers: [...shown, { ...helper, name: 'h2' }] });
    expect(configs.current.helpers.map((entry) => entry.apiKey)).toEqual(['helper-secret', undefined]);
    const file = JSON.parse(await readFile(path.join(dataDir, 'config.json'), 'utf8'));
    expect(file.helpers[0].apiKey).toBe('helper-secret');
    const error = await configs
      .update({ helpers: [{ ...helper, name: 'h3', apiKey: '[set]' }] })
      .catch((caught: unknown) => caught);
    expect((error as ApiError).param).toBe('helpers.0.apiKey');
  });
});
