import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appFolders } from '../../electron/main/app-folders.ts';
import { parseLaunchFlags } from '../../electron/main/launch-flags.ts';

describe('app launch', () => {
  it('passes `npm start -- <flags>` to the server as its config, secrets apart', () => {
    const flags = parseLaunchFlags([
      '--port',
      '0',
      '--model',
      '/m/a.gguf',
      '--model=/m/b.gguf',
      '--lan',
      '--threads',
      '1',
      '--gpu',
      'off',
      '--data-dir',
      '/tmp/lmx-data',
      '--context-size',
      'big',
      '--admin-key',
      'lmx-given-admin-key',
      '--inspect=9229',
      '-psn_0_12345',
    ]);
    expect(flags.config).toEqual({
      port: 0,
      startupModels: ['/m/a.gguf', '/m/b.gguf'],
      lan: true,
      engine: { threads: 1 },
      gpu: 'off',
      dataDir: '/tmp/lmx-data',
      // Left for the server's validation, which names the key.
      contextSize: 'big',
    });
    expect(flags.adminKey).toBe('lmx-given-admin-key');
    expect(JSON.stringify(flags.config)).not.toContain('lmx-given-admin-key');
    expect(flags.ignored).toEqual(['--inspect']);
    expect(parseLaunchFlags([]).config).toEqual({});
  });

  it('keeps Electron’s user data and the server’s data in separate folders', () => {
    const appData = '/Users/me/Library/Application Support';
    const folders = appFolders(appData, undefined);
    expect(folders.serverData).toBe(path.join(appData, 'LMX'));
    expect(folders.userData).not.toBe(folders.serverData);
    expect(path.relative(folders.serverData, folders.userData).startsWith('..')).toBe(true);
    expect(path.relative(folders.userData, folders.serverData).startsWith('..')).toBe(true);
    expect(appFolders(appData, '/tmp/lmx-data').serverData).toBe('/tmp/lmx-data');
  });
});
