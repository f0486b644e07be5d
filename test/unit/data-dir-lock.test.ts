import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  acquireDataDirLock,
  dataDirLockFile,
  DataDirLockedError,
} from '../../server/persistence/data-dir-lock.ts';
import { makeDataDir } from '../helpers/server.ts';

/** The pid of a process that has exited (its pid is, for a while at least, not running). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('data-dir lock', () => {
  it('records our pid, refuses a second holder, and frees the lock on release', async () => {
    const dataDir = await makeDataDir();
    const lock = await acquireDataDirLock(dataDir);
    expect(JSON.parse(await readFile(dataDirLockFile(dataDir), 'utf8')).pid).toBe(process.pid);
    await expect(acquireDataDirLock(dataDir)).rejects.toBeInstanceOf(DataDirLockedError);
    await lock.release();
    const again = await acquireDataDirLock(dataDir);
    await again.release();
  });

  it('refuses a lock held by another live process, naming its pid', async () => {
    const dataDir = await makeDataDir();
    // pid 1 is always running.
    await writeFile(dataDirLockFile(dataDir), JSON.stringify({ pid: 1 }));
    const error = await acquireDataDirLock(dataDir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as Error).message).toMatch(/Another LMX server \(pid 1\)/);
  });

  it('takes over a stale lock of a dead pid, and a torn lock file', async () => {
    const dataDir = await makeDataDir();
    await writeFile(dataDirLockFile(dataDir), JSON.stringify({ pid: deadPid() }));
    const lock = await acquireDataDirLock(dataDir);
    expect(JSON.parse(await readFile(dataDirLockFile(dataDir), 'utf8')).pid).toBe(process.pid);
    await lock.release();
    await writeFile(dataDirLockFile(dataDir), '{"pid": 12');
    await (await acquireDataDirLock(dataDir)).release();
  });
});
