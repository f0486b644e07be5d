import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateLogFiles } from '../../electron/main/app-logs.ts';
import { readAppSettings, writeAppSettings } from '../../electron/main/app-settings.ts';
import {
  appLogLevel,
  describeErrorLine,
  describeExit,
  ServerOutputTail,
} from '../../electron/main/server-output.ts';

describe('server output tail', () => {
  it('splits chunks into lines across chunk boundaries and streams', () => {
    const tail = new ServerOutputTail(3);
    expect(tail.push('stdout', 'one\ntw')).toEqual(['one']);
    expect(tail.push('stderr', 'err')).toEqual([]);
    expect(tail.push('stdout', 'o\nthree\n')).toEqual(['two', 'three']);
    expect(tail.flush()).toEqual(['err']);
    expect(tail.lines).toEqual(['two', 'three', 'err']);
  });

  it('finds the last error line: pino error records, plain error text, not stack frames', () => {
    const tail = new ServerOutputTail();
    tail.push(
      'stderr',
      [
        '{"level":50,"msg":"model failed to load at start","err":{"message":"out of memory"}}',
        '{"level":30,"msg":"Server listening"}',
        'Error: ENOSPC: no space left on device',
        '    at write (node:fs:1:1)',
        '{"level":40,"msg":"slow"}',
        '',
      ].join('\n'),
    );
    expect(tail.lastErrorLine()).toBe('Error: ENOSPC: no space left on device');
    expect(
      describeErrorLine('{"level":60,"msg":"the server failed to start: boom","err":{"message":"boom"}}'),
    ).toBe('the server failed to start: boom');
    expect(
      describeErrorLine('lmx: Invalid configuration: port (from command line): must be <= 65535'),
    ).toMatch(/Invalid configuration/);
    expect(describeErrorLine('{"level":30,"msg":"error budget fine"}')).toBeUndefined();
    expect(new ServerOutputTail().lastErrorLine()).toBeUndefined();
    expect(describeExit(137, 'SIGKILL')).toBe('the server process was killed by SIGKILL');
    expect(describeExit(2)).toBe('the server process exited with code 2');
  });

  it('maps server lines to app-log levels', () => {
    expect(appLogLevel('{"level":50,"msg":"x"}', 'stderr')).toBe('error');
    expect(appLogLevel('{"level":40,"msg":"x"}', 'stderr')).toBe('warn');
    expect(appLogLevel('{"level":30,"msg":"x"}', 'stderr')).toBe('info');
    expect(appLogLevel('{"level":20,"msg":"x"}', 'stderr')).toBe('debug');
    expect(appLogLevel('plain', 'stderr')).toBe('warn');
    expect(appLogLevel('LMX listening', 'stdout')).toBe('info');
  });
});

describe('app log rotation and settings', () => {
  it('keeps a bounded number of numbered archives', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lmx-logs-'));
    const file = path.join(dir, 'lmx.log');
    for (let generation = 1; generation <= 5; generation++) {
      await writeFile(file, `generation ${generation}`);
      rotateLogFiles(file, 3);
    }
    expect((await readdir(dir)).sort()).toEqual(['lmx.1.log', 'lmx.2.log', 'lmx.3.log']);
    expect(await readFile(path.join(dir, 'lmx.1.log'), 'utf8')).toBe('generation 5');
    expect(await readFile(path.join(dir, 'lmx.3.log'), 'utf8')).toBe('generation 3');
    await rm(dir, { recursive: true, force: true });
  });

  it('reads settings with defaults for anything missing or invalid', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lmx-settings-'));
    const file = path.join(dir, 'app-settings.json');
    expect(await readAppSettings(file)).toEqual({ keepAwake: 'while-model-loaded', autoUpdate: true });
    await writeAppSettings(file, { keepAwake: 'never', autoUpdate: false });
    expect(await readAppSettings(file)).toEqual({ keepAwake: 'never', autoUpdate: false });
    await writeFile(file, '{"keepAwake":"always","autoUpdate":"no","updateFeedUrl":"file:///x"}');
    expect(await readAppSettings(file)).toEqual({ keepAwake: 'while-model-loaded', autoUpdate: true });
    await writeFile(file, '{"updateFeedUrl":"https://updates.example/lmx/"}');
    expect((await readAppSettings(file)).updateFeedUrl).toBe('https://updates.example/lmx/');
    await rm(dir, { recursive: true, force: true });
  });
});
