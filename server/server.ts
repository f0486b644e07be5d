import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { buildApp } from './app.ts';
import { Engine } from './engine/engine.ts';
import { Lifecycle } from './state/lifecycle.ts';
import { AdminKeyHolder, loadOrCreateAdminKey } from './state/admin-key.ts';
import { mkdir } from 'node:fs/promises';
import { ModelServices } from './model-services.ts';
import { Metrics } from './telemetry/metrics.ts';
import { healthChecks } from './telemetry/health-checks.ts';
import { Drain } from './resilience/drain.ts';
import { systemMemory, type MemorySource } from './resilience/shedding.ts';
import { hostSignals } from './state/host-signals.ts';
import type { LoadedModel } from './engine/loaded-model.ts';

/** What tests (and the app) may replace when starting a server. */
export interface ServerOverrides {
  /** The system-memory reading load shedding acts on. */
  memory?: MemorySource;
  sheddingCheckIntervalMs?: number;
}

/**
 * One running LMX server: engine, HTTP app, lifecycle. Used by `lmx serve`, the Electron utility
 * process and the integration tests alike.
 */
export class LmxServer {
  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly engine: Engine,
    readonly app: FastifyInstance,
    readonly lifecycle: Lifecycle,
    readonly adminKey: AdminKeyHolder,
    /** The URL the server listens on, e.g. http://127.0.0.1:1235 */
    readonly url: string,
    /** Model library, downloads, runtime state, crash recovery, events (issue 4). */
    readonly modelServices: ModelServices,
    readonly metrics: Metrics,
    readonly drain: Drain,
  ) {}

  static async start(config: Config, logger: Logger, overrides: ServerOverrides = {}): Promise<LmxServer> {
    const lifecycle = new Lifecycle();
    await mkdir(config.dataDir, { recursive: true });
    // First: a second server on this data dir stops here (DataDirLockedError), before touching anything.
    const modelServices = await ModelServices.begin(config, logger, lifecycle);
    try {
      return await LmxServer.#start(config, logger, lifecycle, modelServices, overrides);
    } catch (error) {
      await modelServices.recovery.abandon();
      throw error;
    }
  }

  static async #start(
    config: Config,
    logger: Logger,
    lifecycle: Lifecycle,
    modelServices: ModelServices,
    overrides: ServerOverrides,
  ): Promise<LmxServer> {
    const storedKey = await loadOrCreateAdminKey(config.dataDir, config.adminKey);
    if (storedKey.source !== 'configured')
      logger.info({ file: storedKey.file }, 'admin key is stored in this file');
    const adminKey = new AdminKeyHolder(storedKey.key, config.dataDir);
    const engine = await Engine.start(config, logger);
    modelServices.attach(engine);
    const memory = overrides.memory ?? systemMemory;
    const vram = async () => {
      const state = await engine.llama.getVramState();
      return { used: state.used, total: state.total };
    };
    const loadedModels = () => engine.pool.list();
    const metrics = new Metrics({
      models: () => loadedModels().map((model) => ({ id: model.id, ...modelFigures(model) })),
      vram,
      host: () => hostSignals.snapshot,
    });
    const drain = new Drain();
    const app = await buildApp({
      config,
      logger,
      lifecycle,
      models: modelServices.inference,
      modelCounts: () => modelServices.modelCounts(),
      adminKey,
      modelServices: modelServices.admin,
      metrics,
      drain,
      memory,
      sheddingCheckIntervalMs: overrides.sheddingCheckIntervalMs,
      healthChecks: () =>
        healthChecks({
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
          models: () => loadedModels().map((model) => ({ id: model.id, ...modelFigures(model) })),
          failedModels: () => modelServices.models.failures(),
          vram,
          memoryUsedFraction: () => memory.usedFraction(),
          memoryThreshold: config.shedding.memoryThreshold,
          maxQueued: config.queue.maxQueued,
          host: () => hostSignals.snapshot,
          safeMode: () => lifecycle.safeMode,
        }),
    });
    const host = config.lan ? '0.0.0.0' : config.host;
    await app.listen({ host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const server = new LmxServer(
      config,
      logger,
      engine,
      app,
      lifecycle,
      adminKey,
      `http://${urlHost(host)}:${port}`,
      modelServices,
      metrics,
      drain,
    );
    lifecycle.phase = 'serving';
    // Startup (--model) and previous-run models load in the background while /readyz says `loading`.
    modelServices.run(server.url);
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
    const drained = await this.drain.run(this.config.drainTimeoutMs);
    if (!drained) {
      this.logger.warn(
        { drainTimeoutMs: this.config.drainTimeoutMs },
        'drain deadline passed: requests aborted',
      );
    }
    await this.app.close();
    await this.modelServices.stop();
    await this.engine.dispose();
    await this.modelServices.finish();
    this.lifecycle.phase = 'stopped';
  }
}

function modelFigures(model: LoadedModel) {
  return {
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
