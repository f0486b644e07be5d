import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findElectronBinary } from '../../electron/binary.ts';
import { makeDataDir, repoRoot } from '../helpers/server.ts';

// `npm start` without an Electron binary: one line saying so, then the headless server, which a
// signal stops cleanly. (With a binary it launches the app; the Electron e2e test covers that.)
describe('npm start', () => {
  it.skipIf(findElectronBinary(repoRoot).found)(
    'says there is no Electron binary and runs the headless server instead',
    async () => {
      const dataDir = await makeDataDir();
      const child = spawn(
        process.execPath,
        [
          path.join(repoRoot, 'bin/start.js'),
          '--port',
          '0',
          '--data-dir',
          dataDir,
          '--gpu',
          'off',
          '--threads',
          '1',
        ],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LMX_LOG_LEVEL: 'warn' } },
      );
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.resume();
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      try {
        const deadline = Date.now() + 60_000;
        while (!/LMX listening on http:\/\/127\.0\.0\.1:\d+/.test(stdout) && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 100));
        const lines = stdout.trim().split('\n');
        expect(lines[0]).toMatch(
          /^lmx: no Electron binary: .*; running the headless server instead \(lmx serve\)$/,
        );
        const url = /LMX listening on (\S+)/.exec(stdout)?.[1];
        expect(url).toBeDefined();
        expect((await fetch(`${url}/healthz`)).status).toBe(200);
        child.kill('SIGINT');
        expect(await exited).toBe(0);
      } finally {
        child.kill('SIGKILL');
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});
