// Admin writes that once answered a bare 500 or leaked a secret to caches: a config nested thousands of
// levels deep, config and key writes on a full data dir (a 2 MiB tmpfs), and the key rotation's headers.
import { execFileSync } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.ts';

let lmx: TestServer;
let mountPoint: string | undefined;
let mountSkipReason = '';

/** A 2 MiB tmpfs as the data dir, when this process may mount (root in CI); otherwise a plain dir. */
async function smallDataDir(): Promise<string> {
  const dir = path.join(await makeDataDir(), 'tmpfs');
  await mkdir(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    mountPoint = dir;
  } catch (error) {
    mountSkipReason = `cannot mount a tmpfs here: ${String(error).split('\n')[0]}`;
  }
  return dir;
}

async function fillDisk(dir: string): Promise<void> {
  const file = await open(path.join(dir, 'filler'), 'w');
  try {
    for (let i = 0; i < 64; i++) await file.write(Buffer.alloc(64 * 1024));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await file.close().catch(() => undefined);
  }
}

beforeAll(async () => {
  const dataDir = await smallDataDir();
  lmx = await startTestServer({ dataDir });
});
afterAll(async () => {
  await lmx?.stop();
  if (mountPoint) execFileSync('umount', ['-l', mountPoint]);
  if (mountPoint) await rm(path.dirname(mountPoint), { recursive: true, force: true });
});

describe('admin writes', () => {
  it('refuses a config nested thousands of levels deep with 400, not 500', async () => {
    const deep = '{"a":'.repeat(6500) + '1' + '}'.repeat(6500);
    const response = await lmx.admin('/admin/config', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: deep,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_config');
  });

  it('answers the key rotation with Cache-Control: no-store', async () => {
    const response = await lmx.admin('/admin/keys/rotate', { method: 'POST' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    lmx.adminKey = ((await response.json()) as { adminKey: string }).adminKey;
  });

  it('answers config and key writes on a full data dir with 507 and the reason', async (context) => {
    if (!mountPoint) {
      console.log(`skipped: ${mountSkipReason}`);
      context.skip();
    }
    await fillDisk(mountPoint as string);
    const headers = { authorization: `Bearer ${lmx.adminKey}`, 'content-type': 'application/json' };
    const config = await fetch(`${lmx.url}/admin/config`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ queue: { maxQueued: 10 } }),
    });
    expect(config.status).toBe(507);
    const configError = ((await config.json()) as { error: { code: string; message: string } }).error;
    expect(configError.code).toBe('insufficient_storage');
    expect(configError.message).toMatch(/ENOSPC/);
    const rotate = await fetch(`${lmx.url}/admin/keys/rotate`, {
      method: 'POST',
      headers: { authorization: headers.authorization },
    });
    expect(rotate.status).toBe(507);
    expect(((await rotate.json()) as { error: { code: string } }).error.code).toBe('insufficient_storage');
    expect((await fetch(`${lmx.url}/healthz`)).status).toBe(200);
  });
});
