import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { createLlamaRuntime, type AddonInfo, type Backend, type LlamaRuntime } from './llama.ts';
import type { LoadedModel } from './loaded-model.ts';
import { ModelPool, modelIdFromPath } from './model-pool.ts';
import { chooseThreads, libuvPoolSize, type ThreadChoice } from './threads.ts';

export interface ModelLoadOverrides {
  contextSize?: number;
  parallel?: number;
  gpuLayers?: number;
}

/** The inference engine as the rest of the server sees it: one Llama runtime and its pool of models. */
export class Engine {
  readonly pool: ModelPool;

  private constructor(
    private readonly runtime: LlamaRuntime,
    private readonly config: Config,
    private readonly logger: Logger,
    /** The backend's thread policy (see threads.ts): a count, or candidates to calibrate per model. */
    readonly threadChoice: ThreadChoice,
    /** Threads of libuv's pool, where the addon runs every decode (UV_THREADPOOL_SIZE; read once at start). */
    readonly libuvThreadpoolSize: number,
  ) {
    this.pool = new ModelPool(runtime.llama, config.queue, logger);
  }

  static async start(config: Config, logger: Logger): Promise<Engine> {
    const runtime = await createLlamaRuntime(config.gpu, logger);
    const libuvThreadpoolSize = libuvPoolSize();
    const threadChoice = chooseThreads({
      backend: runtime.backend,
      configured: config.engine.threads,
      libuvPool: libuvThreadpoolSize,
      persistentThreadpool: runtime.addon.kind === 'patched',
    });
    logger.info(
      {
        backend: runtime.backend,
        addon: runtime.addon.kind,
        addonReason: runtime.addon.reason,
        threads: threadChoice.threads ?? 'engine default',
        calibrate: threadChoice.calibrationCandidates ?? null,
        reason: threadChoice.reason,
        batchThreads: threadChoice.batchThreads ?? 'as threads',
        batchReason: threadChoice.batchReason,
        libuvThreadpoolSize,
      },
      'inference engine ready',
    );
    return new Engine(runtime, config, logger, threadChoice, libuvThreadpoolSize);
  }

  /** Which native addon runs and why (LMX's patched build or node-llama-cpp's prebuilt binary). */
  get addon(): AddonInfo {
    return this.runtime.addon;
  }

  get backend(): Backend {
    return this.runtime.backend;
  }

  get llama(): LlamaRuntime['llama'] {
    return this.runtime.llama;
  }

  /** Loads a model file under its id (by default the file name without .gguf). */
  loadFile(
    file: string,
    overrides: ModelLoadOverrides = {},
    id = modelIdFromPath(file),
  ): Promise<LoadedModel> {
    return this.pool.load({
      id,
      path: file,
      contextSize: overrides.contextSize ?? this.config.contextSize,
      parallel: overrides.parallel ?? this.config.parallel,
      threads: this.threadChoice,
      batchSize: this.config.engine.batchSize || undefined,
      gpuLayers: overrides.gpuLayers,
    });
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
    await this.runtime.llama.dispose();
    this.logger.info('inference engine stopped');
  }
}
