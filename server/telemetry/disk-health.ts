import { statfs } from 'node:fs/promises';
import type { HealthStatus } from './health.ts';

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

/** Free and total bytes of the file system holding `dir` (as an unprivileged process may use them). */
export async function diskSpace(dir: string): Promise<DiskSpace> {
  const stats = await statfs(dir);
  return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}

export interface DiskHealthSources {
  dataDir: string;
  modelsDir: string;
  /** Below this much free space the disk reads `degraded` (and downloads refuse to start). */
  reserveBytes: number;
  /** Current problems of the files that matter (null when they are written fine). */
  problems(): Record<string, string | null>;
  /** Alerts the admin once per kind of write that starts failing. */
  alert(message: string): void;
}

/**
 * The `disk` component of deep health: free space of the data and models dirs, and every write that
 * failed for want of space or permission (the log file, runtime state, a download). The server keeps
 * serving through all of them; this is where an operator sees why nothing is being saved.
 */
export class DiskHealth {
  #writeFailures = 0;
  #lastFailure: { what: string; problem: string; at: string } | null = null;
  readonly #alerted = new Set<string>();

  constructor(private readonly sources: DiskHealthSources) {}

  recordWriteFailure(what: string, problem: string): void {
    this.#writeFailures++;
    this.#lastFailure = { what, problem, at: new Date().toISOString() };
    if (this.#alerted.has(what)) return;
    this.#alerted.add(what);
    this.sources.alert(`Disk: ${problem}. The server keeps serving.`);
  }

  async report(): Promise<{ status: HealthStatus; details: Record<string, unknown> }> {
    const [data, models] = await Promise.all([
      diskSpace(this.sources.dataDir).catch(() => null),
      diskSpace(this.sources.modelsDir).catch(() => null),
    ]);
    const problems = Object.fromEntries(
      Object.entries(this.sources.problems()).filter(([, problem]) => problem !== null),
    );
    const low = [data, models].some((space) => space !== null && space.freeBytes < this.sources.reserveBytes);
    return {
      status: low || Object.keys(problems).length > 0 ? 'degraded' : 'ok',
      details: {
        dataDir: this.sources.dataDir,
        freeBytes: data?.freeBytes ?? null,
        totalBytes: data?.totalBytes ?? null,
        modelsDir: this.sources.modelsDir,
        modelsFreeBytes: models?.freeBytes ?? null,
        reserveBytes: this.sources.reserveBytes,
        writeFailures: this.#writeFailures,
        lastWriteFailure: this.#lastFailure,
        problems,
      },
    };
  }
}
