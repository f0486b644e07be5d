// `lmx` runs with its V8 flags (cli/node-flags.ts) however it is started: through bin/lmx.js's shebang (an
// installed `lmx`), the `serve` npm script, and the tests' and benchmarks' spawned servers.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lmxNodeFlags } from '../../cli/node-flags.ts';
import {
  makeDataDir,
  repoRoot,
  smallServerArgs,
  spawnServer,
  type ServerProcess,
} from '../helpers/server.ts';

const ADMIN_KEY = 'lmx-test-admin-key-0123456789';
const MIB = 1024 * 1024;

describe('lmx’s V8 flags', () => {
  let server: ServerProcess | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('bin/lmx.js run as a program keeps the young generation at 2 × 4 MB', async () => {
    dataDir = await makeDataDir();
    server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), {}, 60_000, true);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const line = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(metrics);
    expect(line, 'the new-space gauge in /metrics').not.toBeNull();
    // V8's default grows it to 2 × 16 MB while the server starts.
    expect(Number(line![1])).toBeLessThanOrEqual(8 * MIB);
  }, 90_000);

  it('the serve script passes the same flags', async () => {
    const manifest = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.serve).toBe(`node ${lmxNodeFlags.join(' ')} bin/lmx.js serve`);
    const shebang = (await readFile(path.join(repoRoot, 'bin/lmx.js'), 'utf8')).split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${lmxNodeFlags.join(' ')}`);
  });
});
