import { mkdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(
      `Another LMX server (pid ${holderPid}) is already using the data directory ${dataDir}. ` +
        'Stop it first, or start this one with a different --data-dir.',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly file: string;
  release(): Promise<void>;
}

export function dataDirLockFile(dataDir: string): string {
  return path.join(dataDir, 'server.lock');
}

/** Data dirs locked by this process (a pid lock cannot tell two servers in one process apart). */
const heldInProcess = new Set<string>();

/**
 * One server per data dir: <data-dir>/server.lock holds the owner's pid. A lock whose pid is no longer
 * running (a crash, kill -9) is stale and taken over. The check-and-take step itself runs under a short
 * proper-lockfile mutex so two servers starting at once cannot both take a stale lock.
 */
export async function acquireDataDirLock(dataDir: string): Promise<DataDirLock> {
  const dir = path.resolve(dataDir);
  const file = dataDirLockFile(dir);
  await mkdir(dir, { recursive: true });
  if (heldInProcess.has(dir)) throw new DataDirLockedError(dir, process.pid);
  const releaseMutex = await lockfile.lock(dir, {
    lockfilePath: path.join(dir, 'server.lock.guard'),
    stale: 5_000,
    retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
  });
  try {
    const holder = await readHolderPid(file);
    if (holder !== undefined && holder !== process.pid && isRunning(holder)) {
      throw new DataDirLockedError(dir, holder);
    }
    await writeFileAtomic(file, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }) + '\n');
    heldInProcess.add(dir);
  } finally {
    await releaseMutex();
  }
  let released = false;
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      heldInProcess.delete(dir);
      if ((await readHolderPid(file)) === process.pid) await unlink(file).catch(() => undefined);
    },
  };
}

async function readHolderPid(file: string): Promise<number | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    const pid = (parsed as { pid?: unknown }).pid;
    return Number.isInteger(pid) && (pid as number) > 0 ? (pid as number) : undefined;
  } catch {
    // Missing or unreadable: nobody holds it (a torn lock file cannot belong to a live server: writes are atomic).
    return undefined;
  }
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
