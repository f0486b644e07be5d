import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/** The app's log file inside the platform's log folder (~/Library/Logs/LMX on macOS). */
export function appLogFile(logsDir: string): string {
  return path.join(logsDir, 'lmx.log');
}

/**
 * Rotation for electron-log's `archiveLogFn` (it keeps a single `.old` file by default): the full
 * file becomes lmx.1.log, lmx.1.log becomes lmx.2.log … and the oldest beyond `keep` is deleted.
 * Synchronous because electron-log calls it synchronously between two writes.
 */
export function rotateLogFiles(file: string, keep: number): void {
  const { dir, name, ext } = path.parse(file);
  const archive = (index: number) => path.join(dir, `${name}.${index}${ext}`);
  rmSync(archive(keep), { force: true });
  for (let index = keep - 1; index >= 1; index--) {
    if (existsSync(archive(index))) renameSync(archive(index), archive(index + 1));
  }
  if (existsSync(file)) renameSync(file, archive(1));
}
