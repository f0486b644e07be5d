import { execFileSync } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { makeDataDir } from './server.ts';

export interface SmallDisk {
  dir: string;
  /** Writes filler until the disk is full (or `bytes` are written). */
  fill(bytes?: number, name?: string): Promise<void>;
  unmount(): Promise<void>;
}

/**
 * A small tmpfs (root may mount one; CI runs as root), or the reason it cannot be had here: tests that
 * need a full or read-only disk skip with that reason printed.
 */
export async function mountSmallDisk(
  size = '2m',
  readOnly = false,
): Promise<SmallDisk | { skipReason: string }> {
  const dir = path.join(await makeDataDir(), 'tmpfs');
  await mkdir(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${readOnly ? ',ro' : ''}`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch (error) {
    await rm(path.dirname(dir), { recursive: true, force: true });
    return { skipReason: `cannot mount a tmpfs here: ${String(error).split('\n')[0]}` };
  }
  return {
    dir,
    fill: async (bytes = Infinity, name = 'filler') => {
      const file = await open(path.join(dir, name), 'a');
      try {
        for (let written = 0; written < bytes; written += 16 * 1024) {
          await file.write(Buffer.alloc(Math.min(16 * 1024, bytes - written)));
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        await file.close().catch(() => undefined);
      }
    },
    unmount: async () => {
      execFileSync('umount', ['-l', dir]);
      await rm(path.dirname(dir), { recursive: true, force: true });
    },
  };
}
