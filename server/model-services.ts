import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Logger } from 'pino';
import type { InferenceModels } from './api/openai/index.ts';
import type { AdminModelServices, AdminStateBody } from './api/admin/services.ts';
import type { Config } from './config/schema.ts';
import { DownloadManager } from './models/downloads.ts';
import type { Engine } from './engine/engine.ts';
import { ModelLibrary } from './models/library.ts';
import { ModelManager } from './models/model-manager.ts';
import { ConfigStore } from './config/live-config.ts';
import { EventBus } from './runtime/events.ts';
import type { Lifecycle, ModelCounts } from './runtime/lifecycle.ts';
import { Recovery } from './persistence/recovery.ts';

const STATS_INTERVAL_MS = 2_000;
const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Issue 4 wired together: the data-dir lock and runtime state (taken before the engine starts), the
 * model library and manager, downloads, the event bus and live config. LmxServer calls begin → attach
 * → (listen) → run, and stop → finish.
 */
export class ModelServices {
  readonly startedAt = Date.now();
  #manager: ModelManager | undefined;
  #downloads: DownloadManager | undefined;
  #library: ModelLibrary | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #url = '';
  #lastTokens = 0;

  private constructor(
    readonly config: Config,
    private readonly logger: Logger,
    private readonly lifecycle: Lifecycle,
    readonly events: EventBus,
    readonly recovery: Recovery,
    readonly configStore: ConfigStore,
  ) {}

  /** Takes the data-dir lock (throws DataDirLockedError) and reads the previous run's state. */
  static async begin(config: Config, logger: Logger, lifecycle: Lifecycle): Promise<ModelServices> {
    const events = new EventBus();
    const recovery = await Recovery.begin(config, logger, events, lifecycle);
    return new ModelServices(config, logger, lifecycle, events, recovery, new ConfigStore(config));
  }

  attach(engine: Engine): void {
    this.#library = new ModelLibrary(this.config.modelsDir, this.config.startupModels, engine.llama);
    const settings = () => {
      const current = this.configStore.current;
      return { jitLoad: current.jitLoad, memory: current.memory, ttlSeconds: current.models.ttlSeconds };
    };
    this.#manager = new ModelManager({
      engine,
      library: this.#library,
      events: this.events,
      logger: this.logger,
      config: this.config,
      settings,
      onLoadedSetChanged: (models) => this.recovery.loadedSetChanged(models),
    });
    this.recovery.modelCounts = () => this.modelCounts();
    this.#downloads = new DownloadManager(this.config.modelsDir, this.logger, {
      onUpdate: (job) => {
        this.events.publish('download', job);
        if (job.state === 'failed')
          this.events.alert('download', 'warning', `Download of ${job.fileName} failed: ${job.error}`);
      },
      onModelAdded: () => void this.#library?.scan(),
    });
    void this.#library.scan();
  }

  get models(): ModelManager {
    if (!this.#manager) throw new Error('model services not attached to an engine');
    return this.#manager;
  }

  get inference(): InferenceModels {
    return {
      forInference: (id) => this.models.forInference(id),
      listForClients: () => this.models.listForClients(),
    };
  }

  modelCounts(): ModelCounts {
    return this.#manager
      ? { loaded: this.#manager.loadedCount, loading: this.#manager.loadingCount }
      : { loaded: 0, loading: 0 };
  }

  get admin(): AdminModelServices {
    const downloads = this.#downloads;
    if (!downloads) throw new Error('model services not attached to an engine');
    return {
      models: this.models,
      downloads,
      events: this.events,
      configStore: this.configStore,
      state: () => this.state(),
      exitSafeMode: () => this.recovery.exitSafeMode(),
    };
  }

  /** After listen: restore models in the background and start the stats feed. */
  run(url: string): void {
    this.#url = url;
    void this.recovery.restore((model) => {
      const { contextSize, parallel, gpuLayers } = model;
      return this.models.load(model.path, { contextSize, parallel, gpuLayers }, 'restore');
    });
    this.#statsTimer = setInterval(() => this.#publishStats(), STATS_INTERVAL_MS);
    this.#statsTimer.unref();
  }

  state(): AdminStateBody {
    const readiness = this.lifecycle.readiness(this.modelCounts());
    const recovery = this.recovery.snapshot();
    const port = new URL(this.#url || 'http://127.0.0.1:0').port;
    const lanAddress = this.config.lan ? firstLanAddress() : undefined;
    return {
      status: readiness.ready ? 'ready' : readiness.reason,
      reason: this.lifecycle.safeMode?.reason ?? recovery.stateWriteError ?? recovery.stateProblem ?? null,
      version,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      pid: process.pid,
      endpoints: {
        local: `http://127.0.0.1:${port}/v1`,
        lan: lanAddress ? `http://${lanAddress}:${port}/v1` : null,
      },
      lan: this.config.lan,
      safeMode: {
        active: this.lifecycle.safeMode !== undefined,
        reason: this.lifecycle.safeMode?.reason ?? null,
      },
      startupCount: recovery.startupCount,
      lastCleanShutdown: recovery.lastCleanShutdown,
    };
  }

  /** Stops downloads (partials kept for resume) and unloads every model. */
  async stop(): Promise<void> {
    clearInterval(this.#statsTimer);
    await this.#downloads?.dispose();
    await this.#manager?.dispose();
  }

  /** Records the clean shutdown and releases the data-dir lock (after the engine is gone). */
  async finish(): Promise<void> {
    await this.recovery.finish();
  }

  #publishStats(): void {
    if (!this.#manager) return;
    this.#manager.sampleThroughput();
    const activity = this.#manager.activity();
    const tokens = activity.generatedTokens - this.#lastTokens;
    this.#lastTokens = activity.generatedTokens;
    this.events.publish('stats', {
      tokensPerSecond: Math.max(0, (tokens * 1000) / STATS_INTERVAL_MS),
      ttftMs: this.#manager.takeRecentTtftMs(),
      inflight: activity.inflight,
      queued: activity.queued,
      at: new Date().toISOString(),
    });
  }
}

function firstLanAddress(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? [])
      if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return undefined;
}
