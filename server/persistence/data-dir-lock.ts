import { mkdir, open, readFile, unlink } from 'node:fs/promises';
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

/** The data dir is read-only or not ours (EROFS, EACCES, EPERM): nothing could ever be persisted there. */
export class DataDirUnwritableError extends Error {
  constructor(
    readonly dataDir: string,
    readonly code: string,
  ) {
    super(
      `The data directory ${dataDir} cannot be written (${code}). ` +
        'Make it writable, or start with a different --data-dir.',
    );
    this.name = 'DataDirUnwritableError';
  }
}

export interface DataDirLock {
  readonly file: string;
  /** Why the lock file could not be written (a full disk): the server runs unlocked. Null when held. */
  readonly problem: string | null;
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
  await mkdir(dir, { recursive: true }).catch(refuseUnwritable(dir));
  if (heldInProcess.has(dir)) throw new DataDirLockedError(dir, process.pid);
  const releaseMutex = await lockfile
    .lock(dir, {
      lockfilePath: path.join(dir, 'server.lock.guard'),
      stale: 5_000,
      retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
    })
    .catch(refuseUnwritable(dir));
  let problem: string | null;
  try {
    const holder = await readHolderPid(file);
    if (holder !== undefined && holder !== process.pid && isRunning(holder)) {
      throw new DataDirLockedError(dir, holder);
    }
    problem = await writeLockFile(file).catch(refuseUnwritable(dir));
    heldInProcess.add(dir);
  } finally {
    await releaseMutex().catch(() => undefined);
  }
  let released = false;
  return {
    file,
    problem,
    async release() {
      if (released) return;
      released = true;
      heldInProcess.delete(dir);
      if ((await readHolderPid(file)) === process.pid) await unlink(file).catch(() => undefined);
    },
  };
}

/**
 * Writes our pid atomically. On a full disk (the temp file gets no space) the stale lock a crashed server
 * left is overwritten in place, which needs no new space; failing that, the server runs unlocked and says
 * why (returned). Read-only and permission errors are thrown.
 */
async function writeLockFile(file: string): Promise<string | null> {
  const content = JSON.stringify({ pid: process.pid, since: new Date().toISOString() }) + '\n';
  try {
    await writeFileAtomic(file, content);
    return null;
  } catch (error) {
    if (!isDiskFull(error)) throw error;
  }
  try {
    const handle = await open(file, 'r+');
    try {
      await handle.write(content, 0);
      await handle.truncate(Buffer.byteLength(content));
    } finally {
      await handle.close();
    }
    return null;
  } catch (error) {
    return `the lock file ${file} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'EIO'}); running unlocked`;
  }
}

export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function refuseUnwritable(dir: string) {
  return (error: unknown): never => {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM')
      throw new DataDirUnwritableError(dir, code);
    throw error;
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
