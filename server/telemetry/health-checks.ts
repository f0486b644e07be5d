import { freemem, totalmem } from 'node:os';
import type { HostSignalsSnapshot } from '../runtime/host-signals.ts';
import type { HealthCheck, HealthStatus } from './health.ts';

export interface ModelHealthFigures {
  id: string;
  running: number;
  queued: number;
  parallel: number;
  threads: number | null;
  threadsReason: string;
  batchThreads: number | null;
  /** What the addon reports it runs with (LMX's build only). */
  threadpool: { persistent: boolean; threads: number; batchThreads: number } | null;
  contextSize: number;
  memoryBytes: number;
  lastUsedAt: number;
}

/** What deep health reads, as narrow views of the subsystems. */
export interface HealthSources {
  engine(): {
    backend: string;
    threads: number | null;
    calibrate: readonly number[] | null;
    threadsReason: string;
    /** Threads for batches of more than one token (prompt evaluation); null: as threads. */
    batchThreads: number | null;
    batchThreadsReason: string;
    /** libuv's pool, where the addon runs every decode (UV_THREADPOOL_SIZE). */
    libuvThreadpoolSize: number;
    /** Which native addon runs and why. */
    addon: { kind: 'patched' | 'prebuilt'; reason: string; buildKey?: string };
  };
  models(): ModelHealthFigures[];
  /** Models that failed to load or to come back after a restart. */
  failedModels(): { id: string; error: string }[];
  vram(): Promise<{ used: number; total: number }>;
  memoryUsedFraction(): number;
  memoryThreshold: number;
  maxQueued: number;
  host(): HostSignalsSnapshot;
  safeMode(): { reason: string } | undefined;
  disk(): Promise<{ status: HealthStatus; details: Record<string, unknown> }>;
}

/** The deep-health checks of /admin/health, one per subsystem. */
export function healthChecks(sources: HealthSources): HealthCheck[] {
  return [
    {
      name: 'engine',
      run: async () => {
        const safeMode = sources.safeMode();
        return {
          status: safeMode ? 'degraded' : 'ok',
          details: { ...sources.engine(), safeMode: safeMode?.reason ?? null },
        };
      },
    },
    {
      name: 'models',
      run: async () => {
        const failed = sources.failedModels();
        const loaded = sources.models();
        return {
          status: failed.length > 0 ? 'degraded' : 'ok',
          details: { loaded: loaded.map((model) => model.id), failed },
        };
      },
    },
    ...sources.models().map((model): HealthCheck => ({
      name: `model:${model.id}`,
      run: async () => ({
        status: model.queued > 0 && model.running >= model.parallel ? 'degraded' : 'ok',
        details: { ...model, lastUsedAt: new Date(model.lastUsedAt).toISOString() },
      }),
    })),
    {
      name: 'memory',
      run: async () => {
        const used = sources.memoryUsedFraction();
        const status: HealthStatus =
          used >= sources.memoryThreshold
            ? 'down'
            : used >= sources.memoryThreshold - 0.1
              ? 'degraded'
              : 'ok';
        return {
          status,
          details: {
            usedFraction: Math.round(used * 1000) / 1000,
            threshold: sources.memoryThreshold,
            totalBytes: totalmem(),
            freeBytes: freemem(),
            processRssBytes: process.memoryUsage.rss(),
          },
        };
      },
    },
    {
      name: 'gpu',
      run: async () => {
        const vram = await sources.vram();
        const usedFraction = vram.total > 0 ? vram.used / vram.total : 0;
        return {
          status: usedFraction > 0.95 ? 'degraded' : 'ok',
          details: {
            backend: sources.engine().backend,
            vramUsedBytes: vram.used,
            vramTotalBytes: vram.total,
          },
        };
      },
    },
    {
      name: 'queue',
      run: async () => {
        const queued = sources.models().reduce((sum, model) => sum + model.queued, 0);
        const running = sources.models().reduce((sum, model) => sum + model.running, 0);
        const fullest = Math.max(0, ...sources.models().map((model) => model.queued));
        const status: HealthStatus =
          sources.maxQueued > 0 && fullest >= sources.maxQueued ? 'degraded' : 'ok';
        return { status, details: { queued, running, maxQueuedPerModel: sources.maxQueued } };
      },
    },
    { name: 'disk', run: () => sources.disk() },
    {
      name: 'host',
      run: async () => {
        const host = sources.host();
        const status: HealthStatus =
          host.thermalState === 'critical' ? 'down' : host.thermalState === 'serious' ? 'degraded' : 'ok';
        return { status, details: { ...host } };
      },
    },
  ];
}
