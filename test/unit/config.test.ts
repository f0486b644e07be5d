import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultDataDir, envVariableName, loadConfig } from '../../server/config/load.ts';

const freshDir = () => mkdtempSync(path.join(tmpdir(), 'lmx-config-'));

describe('loadConfig', () => {
  it('fills every default', () => {
    const config = loadConfig({ flags: { dataDir: freshDir() }, env: {} });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 1235,
      parallel: 4,
      contextSize: 4096,
      gpu: 'auto',
      queue: { maxQueued: 64, timeoutMs: 30_000 },
      inference: { timeoutMs: 300_000 },
      rateLimit: { inferencePerMinute: 60, adminPerMinute: 10, exemptLoopback: true },
      shedding: { memoryThreshold: 0.95 },
      limits: { maxMessages: 256, maxTokens: 32_768, bodyLimitBytes: 4 * 1024 * 1024 },
      drainTimeoutMs: 30_000,
      jitLoad: true,
    });
    expect(config.modelsDir).toBe(path.join(config.dataDir, 'models'));
  });

  it('layers defaults < config.json < LMX_* environment < flags', () => {
    const dataDir = freshDir();
    writeFileSync(
      path.join(dataDir, 'config.json'),
      JSON.stringify({
        port: 2000,
        parallel: 2,
        contextSize: 1024,
        queue: { maxQueued: 5, timeoutMs: 1000 },
      }),
    );
    const config = loadConfig({
      flags: { dataDir, port: 4000 },
      env: { LMX_PORT: '3000', LMX_PARALLEL: '3', LMX_QUEUE_MAX_QUEUED: '7' },
    });
    expect(config.port).toBe(4000); // flag beats env, file, default
    expect(config.parallel).toBe(3); // env beats file
    expect(config.contextSize).toBe(1024); // file beats default
    expect(config.queue).toEqual({ maxQueued: 7, timeoutMs: 1000 }); // nested keys merge per leaf
  });

  it('takes the data dir from LMX_DATA_DIR and the platform default otherwise', () => {
    const dataDir = freshDir();
    expect(loadConfig({ env: { LMX_DATA_DIR: dataDir } }).dataDir).toBe(dataDir);
    expect(defaultDataDir('darwin', {}, '/Users/a')).toBe('/Users/a/Library/Application Support/LMX');
    expect(defaultDataDir('linux', {}, '/home/a')).toBe('/home/a/.local/share/lmx');
    expect(defaultDataDir('linux', { XDG_DATA_HOME: '/x' }, '/home/a')).toBe('/x/lmx');
  });

  it('names environment variables after the schema keys', () => {
    expect(envVariableName(['dataDir'])).toBe('LMX_DATA_DIR');
    expect(envVariableName(['queue', 'maxQueued'])).toBe('LMX_QUEUE_MAX_QUEUED');
    expect(envVariableName(['adminKey'])).toBe('LMX_ADMIN_KEY');
  });

  it('reads lists and booleans from the environment', () => {
    const config = loadConfig({
      flags: { dataDir: freshDir() },
      env: { LMX_CORS_ORIGINS: 'http://a, http://b', LMX_LAN: 'true' },
    });
    expect(config.cors.origins).toEqual(['http://a', 'http://b']);
    expect(config.lan).toBe(true);
  });

  it('resolves model files named at start against the working directory', () => {
    const config = loadConfig({ flags: { dataDir: freshDir(), startupModels: ['models/a.gguf'] }, env: {} });
    expect(config.startupModels).toEqual([path.resolve('models/a.gguf')]);
  });

  it('is frozen', () => {
    const config = loadConfig({ flags: { dataDir: freshDir() }, env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.queue)).toBe(true);
  });

  it('refuses a bad value, naming the key and where it came from', () => {
    const dataDir = freshDir();
    const attempt = (sources: Parameters<typeof loadConfig>[0]) => {
      try {
        loadConfig(sources);
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    const fromFlag = attempt({ flags: { dataDir, gpu: 'quantum' }, env: {} });
    expect(fromFlag).toBeInstanceOf(ConfigError);
    expect(fromFlag.key).toBe('gpu');
    expect(fromFlag.source).toBe('command line');

    const fromEnv = attempt({ flags: { dataDir }, env: { LMX_SHEDDING_MEMORY_THRESHOLD: '2' } });
    expect(fromEnv.key).toBe('shedding.memoryThreshold');
    expect(fromEnv.source).toBe('LMX_SHEDDING_MEMORY_THRESHOLD');

    writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ limits: { maxTokens: 'lots' } }));
    const fromFile = attempt({ flags: { dataDir }, env: {} });
    expect(fromFile.key).toBe('limits.maxTokens');
    expect(fromFile.source).toBe('config.json');
  });
});
