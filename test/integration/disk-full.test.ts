// Finding 3 of the hostile-test issue: a full disk killed the server (the log file's ENOSPC), a restart on
// the still-full disk died again, and a read-only data dir ended in a stack trace. On a 2 MiB tmpfs.

import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminCall, adminHeavyEnv, recordEvents } from '../helpers/model-library.ts';
import { runCli, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';
import { mountSmallDisk, type SmallDisk } from '../helpers/tmpfs.ts';
import { EXIT } from '../../shared/exit-codes.ts';

const adminKey = 'disk-full-test-admin-key-0123456789';
const disks: SmallDisk[] = [];
const children: ServerProcess[] = [];

async function disk(readOnly = false): Promise<SmallDisk | undefined> {
  const mounted = await mountSmallDisk('2m', readOnly);
  if ('skipReason' in mounted) {
    console.log(`skipped: ${mounted.skipReason}`);
    return undefined;
  }
  disks.push(mounted);
  return mounted;
}

async function serve(dataDir: string): Promise<ServerProcess> {
  const child = await spawnServer([...smallServerArgs(dataDir, adminKey), '--log-level', 'info'], {
    ...adminHeavyEnv,
    LMX_DOWNLOADS_RESERVE_BYTES: String(256 * 1024),
  });
  children.push(child);
  return child;
}

const diskComponent = async (url: string) => {
  const { body } = await adminCall(url, adminKey, 'GET', '/admin/health');
  return body.components.find((component: { name: string }) => component.name === 'disk');
};

afterAll(async () => {
  for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  for (const mounted of disks) await mounted.unmount();
});

describe('a full disk', () => {
  it('keeps serving when the log file and the state cannot be written, and says so in deep health', async (context) => {
    const mounted = await disk();
    if (!mounted) return context.skip();
    const dataDir = path.join(mounted.dir, 'data');
    const lmx = await serve(dataDir);
    const events = await recordEvents(lmx.url, adminKey);
    expect((await diskComponent(lmx.url)).status).toBe('ok');

    await mounted.fill();
    // Every request is an info line for the log file; the first that does not fit used to end the process.
    for (let i = 0; i < 40 && !/logging to stderr/.test(lmx.stderr()); i++) {
      expect((await fetch(`${lmx.url}/v1/models`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(lmx.stderr()).toMatch(
      /the log file in .* cannot be written \(ENOSPC.*logging to stderr from now on/,
    );
    expect((await fetch(`${lmx.url}/healthz`)).status).toBe(200);
    expect(lmx.child.exitCode).toBeNull();
    // Later lines go to stderr.
    const before = lmx.stderr().length;
    await fetch(`${lmx.url}/v1/models`);
    await expect.poll(() => lmx.stderr().slice(before)).toMatch(/request completed/);

    const component = await diskComponent(lmx.url);
    expect(component.status).toBe('degraded');
    expect(component.details.freeBytes).toBeLessThan(256 * 1024);
    expect(component.details.writeFailures).toBeGreaterThanOrEqual(1);
    expect(component.details.problems.logFile).toMatch(/ENOSPC/);
    await events.waitFor(
      (type, data) => type === 'alert' && data.kind === 'disk' && /log file/.test(data.message),
    );

    // A download needs room: refused at once, 507, below downloads.reserveBytes.
    const download = await adminCall(lmx.url, adminKey, 'POST', '/admin/models/download', {
      uri: 'https://example.invalid/model.gguf',
    });
    expect(download.status).toBe(507);
    expect(download.body.error.code).toBe('insufficient_storage');
    events.close();

    // Killed, and started again on the still-full disk (its stale lock file is taken over in place).
    lmx.child.kill('SIGKILL');
    await lmx.exited;
    const again = await serve(dataDir);
    expect((await fetch(`${again.url}/healthz`)).status).toBe(200);
    expect((await diskComponent(again.url)).details.problems.stateFile).toMatch(/ENOSPC/);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });
});

describe('a read-only data dir', () => {
  it('exits with one line naming the problem and exit code 4, no stack trace', async (context) => {
    const mounted = await disk(true);
    if (!mounted) return context.skip();
    const started = await runCli(smallServerArgs(mounted.dir, adminKey));
    expect(started.code).toBe(EXIT.dataDirUnwritable);
    expect(started.stderr).toMatch(/^lmx: The data directory .* cannot be written \(EROFS\)/m);
    expect(started.stderr).not.toMatch(/^\s+at /m);
  });
});
