import type { LlamaModel } from 'node-llama-cpp';
import type { Logger } from 'pino';
import type { GpuChoice } from '../config/schema.ts';
import type { ModelKind } from '../../shared/admin-api.ts';
import type { AdmissionQueue } from '../resilience/admission-queue.ts';
import { Embedder } from './embedder.ts';
import { Ranker } from './ranker.ts';
import { validateGgufFile } from './gguf-validate.ts';
import { readModelFileInfo, type ModelFileInfo } from './gguf.ts';
import { createLlamaRuntime, type AddonInfo, type Backend, type LlamaRuntime } from './llama.ts';
import { LoadedModel, type LoadOptions, type ModelContexts } from './loaded-model.ts';
import { probeModelFile, type ProbeVerdict } from './model-probe.ts';
import {
  calibrateThreads,
  chooseThreads,
  createContextProbeFactory,
  libuvPoolSize,
  type ThreadChoice,
} from './threads.ts';

export interface EngineSettings {
  gpu: GpuChoice;
  /** engine.threads: 0 chooses per backend. */
  threads: number;
  /** engine.batchSize: 0 lets node-llama-cpp choose. */
  batchSize: number;
}

/** A model file and the shape of its context, fully decided by the caller (ModelManager). */
export interface ModelFileLoad {
  id: string;
  path: string;
  contextSize: number;
  parallel: number;
  gpuLayers?: number;
  /** Which kind of context to create (decided by the caller from the metadata and the load options). */
  kind: ModelKind;
  /** The model's admission queue (its concurrency is `parallel`), owned by the caller. */
  admission: AdmissionQueue;
}

/** What the memory budget can allocate now, in node-llama-cpp's view (unified memory on Apple silicon). */
export interface MemoryAvailability {
  freeRamBytes: number;
  /** Free VRAM on a discrete GPU; undefined when the GPU shares system memory or there is none. */
  freeVramBytes: number | undefined;
}

/**
 * node-llama-cpp as the rest of the server sees it: one Llama runtime, the thread policy, and loading a
 * file into a LoadedModel. It keeps no registry of loaded models (ModelManager owns that) and no lock.
 */
export class Engine {
  /** Calibrated thread counts by model file: calibration costs a few decodes, paid once per file. */
  readonly #calibrated = new Map<string, ThreadChoice>();

  private constructor(
    private readonly runtime: LlamaRuntime,
    private readonly settings: EngineSettings,
    private readonly logger: Logger,
    /** The backend's thread policy (see threads.ts): a count, or candidates to calibrate per model. */
    readonly threadChoice: ThreadChoice,
    /** Threads of libuv's pool, where the addon runs every decode (UV_THREADPOOL_SIZE; read once at start). */
    readonly libuvThreadpoolSize: number,
  ) {}

  static async start(settings: EngineSettings, logger: Logger): Promise<Engine> {
    const runtime = await createLlamaRuntime(settings.gpu, logger);
    const libuvThreadpoolSize = libuvPoolSize();
    const threadChoice = chooseThreads({
      backend: runtime.backend,
      configured: settings.threads,
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
    return new Engine(runtime, settings, logger, threadChoice, libuvThreadpoolSize);
  }

  /** Which native addon runs and why (LMX's patched build or node-llama-cpp's prebuilt binary). */
  get addon(): AddonInfo {
    return this.runtime.addon;
  }

  get backend(): Backend {
    return this.runtime.backend;
  }

  /** GGUF metadata and node-llama-cpp's resource estimates for a file. Never throws. */
  readFileInfo(file: string): Promise<ModelFileInfo> {
    return readModelFileInfo(file, this.runtime.llama);
  }

  async memoryAvailability(): Promise<MemoryAvailability> {
    const { llama } = this.runtime;
    const ram = await llama.getRamState();
    if (llama.gpu === false) return { freeRamBytes: ram.free, freeVramBytes: undefined };
    const vram = await llama.getVramState();
    const unified = vram.unifiedSize > 0 || vram.total === 0;
    return { freeRamBytes: ram.free, freeVramBytes: unified ? undefined : vram.free };
  }

  async vram(): Promise<{ used: number; total: number }> {
    const state = await this.runtime.llama.getVramState();
    return { used: state.used, total: state.total };
  }

  /**
   * Loads a file with one context of `parallel` sequences. Throws node-llama-cpp's own errors
   * (InsufficientMemoryError among them); on failure nothing stays allocated.
   */
  async loadModel(request: ModelFileLoad): Promise<LoadedModel> {
    const startedAt = performance.now();
    // The file may have changed since it was listed: llama.cpp must only ever see a validated one.
    await validateGgufFile(request.path);
    const model = await this.runtime.llama.loadModel({
      modelPath: request.path,
      gpuLayers: request.gpuLayers,
    });
    try {
      const threads = await this.#threadsFor(request, model);
      const options: LoadOptions = {
        contextSize: Math.min(request.contextSize, model.trainContextSize),
        parallel: request.parallel,
        threads: threads.threads,
        threadsReason: threads.reason,
        batchThreads: threads.batchThreads,
        batchThreadsReason: threads.batchReason,
        batchSize: this.settings.batchSize || undefined,
        gpuLayers: request.gpuLayers,
      };
      const contexts = await createContexts(model, request.kind, options);
      const loaded = new LoadedModel(request.id, request.path, model, contexts, options, request.admission);
      this.logger.info(
        {
          model: request.id,
          kind: request.kind,
          ...options,
          threadpool: loaded.threadpool ?? 'not reported (prebuilt addon)',
          loadMs: Math.round(performance.now() - startedAt),
        },
        'model loaded',
      );
      return loaded;
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  /**
   * Tries the first load and a few tokens of inference of a file in a child process (model-probe.ts), with
   * this engine's backend, the request's GPU layers and the thread policy's count (1 where the policy leaves
   * the count to node-llama-cpp: a few tokens need no more). Never throws for the file's sake.
   */
  async probeFirstLoad(
    request: ModelFileLoad,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<ProbeVerdict> {
    await validateGgufFile(request.path);
    const { backend } = this.runtime;
    return probeModelFile(
      {
        path: request.path,
        gpu: backend === 'cpu' ? 'off' : backend,
        gpuLayers: request.gpuLayers,
        threads: this.threadChoice.threads ?? 1,
        batchThreads: this.threadChoice.batchThreads,
        batchSize: this.settings.batchSize || undefined,
        kind: request.kind,
      },
      { timeoutMs, signal },
      this.logger.child({ model: request.id }),
    );
  }

  async #threadsFor(request: ModelFileLoad, model: LlamaModel): Promise<ThreadChoice> {
    const candidates = this.threadChoice.calibrationCandidates;
    // Calibration decodes a generation context; embedding and rank contexts keep the policy's count.
    if (request.kind !== 'chat') return { ...this.threadChoice, threads: this.threadChoice.threads ?? 1 };
    if (!candidates || candidates.length < 2) return this.threadChoice;
    let choice = this.#calibrated.get(request.path);
    if (!choice) {
      const probes = createContextProbeFactory(model, request.parallel, this.threadChoice.batchThreads);
      const result = await calibrateThreads(probes, candidates);
      choice = { ...this.threadChoice, threads: result.threads, reason: result.reason };
      this.#calibrated.set(request.path, choice);
      this.logger.info(
        { model: request.id, threads: choice.threads, measurements: result.measurements },
        choice.reason,
      );
    }
    return choice;
  }

  /** Frees the Llama runtime; the models must have been disposed first (ModelManager.dispose). */
  async dispose(): Promise<void> {
    await this.runtime.llama.dispose();
    this.logger.info('inference engine stopped');
  }
}
/** The context a model of this kind works in: generation sequences, or embedding / ranking contexts. */
async function createContexts(
  model: LlamaModel,
  kind: ModelKind,
  options: LoadOptions,
): Promise<ModelContexts> {
  const shape = {
    contextSize: options.contextSize,
    parallel: options.parallel,
    threads: options.threads,
    batchSize: options.batchSize,
  };
  if (kind === 'embedding') return { kind, embedder: await Embedder.create(model, shape) };
  if (kind === 'reranker') return { kind, ranker: await Ranker.create(model, shape) };
  const context = await model.createContext({
    contextSize: options.contextSize,
    sequences: options.parallel,
    threads: options.threads,
    batchThreads: options.batchThreads,
    batchSize: options.batchSize,
  });
  return { kind, context };
}

export { InsufficientMemoryError } from 'node-llama-cpp';
