import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import { describeServerState } from './api/admin/state.ts';
import { LiveConfig } from './config/live-config.ts';
import type { Config } from './config/schema.ts';
import { Engine } from './engine/engine.ts';
import type { LoadedModel } from './engine/loaded-model.ts';
import { DownloadManager } from './models/downloads.ts';
import { ModelLibrary } from './models/library.ts';
import { ModelManager } from './models/model-manager.ts';
import { AdminKeyHolder, loadOrCreateAdminKey } from './persistence/admin-key.ts';
import { acquireDataDirLock, type DataDirLock } from './persistence/data-dir-lock.ts';
import { ModelTrials } from './persistence/model-trials.ts';
import { Recovery } from './persistence/recovery.ts';
import { Drain } from './resilience/drain.ts';
import { systemMemory, type MemorySource } from './resilience/shedding.ts';
import { EventBus } from './runtime/events.ts';
import { hostSignals } from './runtime/host-signals.ts';
import { Lifecycle } from './runtime/lifecycle.ts';
import { DiskHealth } from './telemetry/disk-health.ts';
import { healthChecks } from './telemetry/health-checks.ts';
import { currentLogFileProblem, onLogFileFailure } from './telemetry/logger.ts';
import { startLiveStats } from './telemetry/live-stats.ts';
import { Metrics } from './telemetry/metrics.ts';
import { EmbeddingService } from './helpers/embedding-service.ts';
import { HelperPool } from './helpers/helper-pool.ts';
import { ragHealthCheck } from './rag/health.ts';
import type { RagStore } from './rag/rag-store.ts';
import type { ResponseStore } from './persistence/response-store.ts';
import { OpenOnFirstUse } from './persistence/open-on-first-use.ts';

/** What tests (and the app) may replace when starting a server. */
export interface ServerOverrides {
  /** The system-memory reading load shedding acts on. */
  memory?: MemorySource;
  sheddingCheckIntervalMs?: number;
}

/** Everything a running server holds, in the order it was started. */
interface Parts {
  lock: DataDirLock;
  events: EventBus;
  disk: DiskHealth;
  stopWatchingLogFile: () => void;
  recovery: Recovery;
  adminKey: AdminKeyHolder;
  engine?: Engine;
  models?: ModelManager;
  downloads?: DownloadManager;
  rag?: OpenOnFirstUse<RagStore>;
  responseStore?: OpenOnFirstUse<ResponseStore>;
  helpers?: HelperPool;
  liveStats?: { stop(): void };
}

/**
 * One running LMX server, used by `lmx serve`, the Electron utility process and the integration tests
 * alike. The composition root: data-dir lock → recovery → engine → models → telemetry → app → listen;
 * stop runs in reverse.
 */
export class LmxServer {
  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly lifecycle: Lifecycle,
    readonly adminKey: AdminKeyHolder,
    readonly engine: Engine,
    /** The one registry of loaded models: everything that asks about models asks it. */
    readonly models: ModelManager,
    readonly metrics: Metrics,
    readonly drain: Drain,
    readonly app: FastifyInstance,
    /** The URL the server listens on, e.g. http://127.0.0.1:1235 */
    readonly url: string,
    private readonly parts: Required<Parts>,
  ) {}

  static async start(config: Config, logger: Logger, overrides: ServerOverrides = {}): Promise<LmxServer> {
    const startedAt = Date.now();
    const lifecycle = new Lifecycle();
    // First: a second server on this data dir stops here (DataDirLockedError), before touching anything;
    // a read-only data dir too (DataDirUnwritableError). A full one does not stop it.
    const lock = await acquireDataDirLock(config.dataDir);
    const events = new EventBus();
    let recoveryRef: Recovery | undefined;
    const disk = new DiskHealth({
      dataDir: config.dataDir,
      modelsDir: config.modelsDir,
      reserveBytes: config.downloads.reserveBytes,
      problems: () => ({
        logFile: currentLogFileProblem(),
        stateFile: recoveryRef?.store.writeError ?? null,
        lockFile: lock.problem,
      }),
      alert: (message) => events.alert('disk', 'warning', message),
    });
    const stopWatchingLogFile = onLogFileFailure((problem) => disk.recordWriteFailure('log file', problem));
    const logFileProblem = currentLogFileProblem();
    if (logFileProblem) disk.recordWriteFailure('log file', logFileProblem);
    if (lock.problem) {
      logger.warn({ problem: lock.problem }, 'the data dir lock cannot be written (disk full)');
      disk.recordWriteFailure('lock file', lock.problem);
    }
    let parts: Parts | undefined;
    try {
      const recovery = await Recovery.begin(config, logger, events, lifecycle, (problem) =>
        disk.recordWriteFailure('runtime state', problem),
      );
      recoveryRef = recovery;
      const storedKey = await loadOrCreateAdminKey(config.dataDir, config.adminKey);
      if (storedKey.source !== 'configured')
        logger.info({ file: storedKey.file }, 'admin key is stored in this file');
      parts = {
        lock,
        events,
        disk,
        stopWatchingLogFile,
        recovery,
        adminKey: new AdminKeyHolder(storedKey.key, config.dataDir),
      };
      return await LmxServer.#assemble(config, logger, lifecycle, parts, overrides, startedAt);
    } catch (error) {
      parts?.recovery.abandon();
      await parts?.downloads?.dispose();
      parts?.helpers?.shutdown();
      await parts?.rag?.close();
      await parts?.responseStore?.close();
      await parts?.models?.dispose();
      await parts?.engine?.dispose();
      stopWatchingLogFile();
      await lock.release();
      throw error;
    }
  }

  static async #assemble(
    config: Config,
    logger: Logger,
    lifecycle: Lifecycle,
    parts: Parts,
    overrides: ServerOverrides,
    startedAt: number,
  ): Promise<LmxServer> {
    const { events, recovery, adminKey, disk } = parts;
    const engine = await Engine.start(engineSettings(config), logger);
    parts.engine = engine;

    const liveConfig = new LiveConfig(config);
    const library = new ModelLibrary(config.modelsDir, config.startupModels, (file) =>
      engine.readFileInfo(file),
    );
    const { trials, newlyCrashed } = await ModelTrials.open(config.dataDir, (problem) =>
      logger.error({ problem }, 'model trials are not persisted'),
    );
    for (const { file, phase } of newlyCrashed) {
      const message = `The server died during the first ${phase} of ${file.split('|')[0]}: it is not restored or loaded just in time until an admin loads it again.`;
      logger.error({ file, phase }, 'a model file crashed the server');
      events.alert('model_crash', 'critical', message);
    }
    const models = new ModelManager({
      trials,
      engine,
      library,
      events,
      logger,
      config,
      settings: () => {
        const current = liveConfig.current;
        return { jitLoad: current.jitLoad, memory: current.memory, ttlSeconds: current.models.ttlSeconds };
      },
      onLoadedSetChanged: (loaded) => recovery.loadedSetChanged(loaded),
    });
    parts.models = models;
    recovery.modelCounts = () => models.counts();
    const downloads = new DownloadManager(
      config.modelsDir,
      logger,
      {
        onUpdate: (job) => {
          events.publish('download', job);
          if (job.state === 'failed')
            events.alert('download', 'warning', `Download of ${job.fileName} failed: ${job.error}`);
        },
        onModelAdded: () => void library.scan(),
        onDiskProblem: (problem) => disk.recordWriteFailure('download', problem),
      },
      config.downloads,
    );
    parts.downloads = downloads;
    void library.scan();
    void downloads.resumeInterrupted();

    const memory = overrides.memory ?? systemMemory;
    const modelFigures = () => models.loadedModels().map(healthFigures);
    const metrics = new Metrics({
      models: modelFigures,
      vram: () => engine.vram(),
      host: () => hostSignals.snapshot,
      ready: () => lifecycle.readiness(models.counts()).ready,
    });
    parts.liveStats = startLiveStats(models, events);
    const helpers = new HelperPool(config.helpers, config.helperBreaker, events, metrics.registry);
    parts.helpers = helpers;
    liveConfig.onChange((next) => helpers.reconfigure(next.helpers, next.helperBreaker));
    const embeddings = new EmbeddingService(models, metrics, helpers);
    // Opened by their first use: a server that stores nothing never loads LanceDB.
    const rag = new OpenOnFirstUse('RAG', async () => {
      const { RagStore } = await import('./rag/rag-store.ts');
      return RagStore.open(path.join(config.dataDir, 'rag'), embeddings, logger);
    });
    parts.rag = rag;
    const responseStore = new OpenOnFirstUse('response', async () => {
      const { ResponseStore } = await import('./persistence/response-store.ts');
      return ResponseStore.open(
        path.join(config.dataDir, 'responses'),
        { maxCount: config.responses.storeMaxCount, maxBytes: config.responses.storeMaxBytes },
        logger,
      );
    });
    parts.responseStore = responseStore;

    const drain = new Drain();
    let url = '';
    const state = () =>
      describeServerState({
        config,
        lifecycle,
        startedAt,
        url,
        modelCounts: () => models.counts(),
        recovery: () => recovery.snapshot(),
      });
    const app = await buildApp({
      config,
      logger,
      lifecycle,
      models,
      embeddings,
      rag,
      responseStore,
      adminKey,
      admin: { models, downloads, events, liveConfig, state, exitSafeMode: () => recovery.exitSafeMode() },
      metrics,
      drain,
      memory,
      sheddingCheckIntervalMs: overrides.sheddingCheckIntervalMs,
      healthChecks: () => [
        ...healthChecks({
          engine: () => ({
            backend: engine.backend,
            threads: engine.threadChoice.threads ?? null,
            calibrate: engine.threadChoice.calibrationCandidates ?? null,
            threadsReason: engine.threadChoice.reason,
            batchThreads: engine.threadChoice.batchThreads ?? null,
            batchThreadsReason: engine.threadChoice.batchReason,
            libuvThreadpoolSize: engine.libuvThreadpoolSize,
            addon: engine.addon,
          }),
          models: modelFigures,
          failedModels: () => models.failures(),
          vram: () => engine.vram(),
          memoryUsedFraction: () => memory.usedFraction(),
          memoryThreshold: config.shedding.memoryThreshold,
          maxQueued: config.queue.maxQueued,
          host: () => hostSignals.snapshot,
          safeMode: () => lifecycle.safeMode,
          disk: () => disk.report(),
        }),
        ragHealthCheck(rag),
        ...helpers.healthChecks(),
      ],
    });
    const host = config.lan ? '0.0.0.0' : config.host;
    await app.listen({ host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    url = `http://${urlHost(host)}:${port}`;
    const server = new LmxServer(
      config,
      logger,
      lifecycle,
      adminKey,
      engine,
      models,
      metrics,
      drain,
      app,
      url,
      parts as Required<Parts>,
    );
    lifecycle.phase = 'serving';
    // Startup (--model) and previous-run models load in the background while /readyz says `loading`.
    void recovery.restore(({ path, contextSize, parallel, gpuLayers, kind }) =>
      models.load(path, { contextSize, parallel, gpuLayers, kind }, 'restore'),
    );
    return server;
  }

  /** Stops accepting, lets in-flight requests finish, frees the models. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  #stopping: Promise<void> | undefined;

  /**
   * Graceful drain: /readyz turns `draining` and new inference gets 503 at once; admitted and queued
   * requests finish (up to drainTimeoutMs, then they are aborted and told so); then the models are
   * freed and the state persisted.
   */
  async #stop(): Promise<void> {
    this.lifecycle.phase = 'draining';
    // Readiness is already 503: a load balancer stops sending while what it still sends is served.
    if (this.config.drainNoticeMs > 0) await setTimeout(this.config.drainNoticeMs);
    // Readiness is already 503: a load balancer stops sending while what it still sends is served.
    if (this.config.drainNoticeMs > 0) await setTimeout(this.config.drainNoticeMs);
    const drained = await this.drain.run(this.config.drainTimeoutMs);
    if (!drained) {
      this.logger.warn(
        { drainTimeoutMs: this.config.drainTimeoutMs },
        'drain deadline passed: requests aborted',
      );
    }
    await this.app.close();
    const { liveStats, downloads, rag, responseStore, helpers, recovery, lock, stopWatchingLogFile } =
      this.parts;
    liveStats.stop();
    helpers.shutdown();
    // Every acknowledged write is on disk already; the drain has let the ones under way finish.
    await rag.close();
    await responseStore.close();
    // Partial downloads are kept for resume.
    await downloads.dispose();
    await this.models.dispose();
    await this.engine.dispose();
    await recovery.finish();
    stopWatchingLogFile();
    await lock.release();
    this.lifecycle.phase = 'stopped';
  }
}

function engineSettings(config: Config) {
  return { gpu: config.gpu, threads: config.engine.threads, batchSize: config.engine.batchSize };
}

function healthFigures(model: LoadedModel) {
  return {
    id: model.id,
    running: model.admission.running,
    queued: model.admission.queued,
    parallel: model.options.parallel,
    threads: model.options.threads ?? null,
    threadsReason: model.options.threadsReason,
    batchThreads: model.options.batchThreads ?? null,
    threadpool: model.threadpool ?? null,
    contextSize: model.contextSize,
    memoryBytes: model.memoryBytes,
    lastUsedAt: model.lastUsedAt,
  };
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
