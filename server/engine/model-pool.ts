import path from 'node:path';
import type { Logger } from 'pino';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import type { AdmissionLimits } from '../resilience/admission-queue.ts';
import { LoadedModel, type LoadOptions } from './loaded-model.ts';
import { calibrateThreads, createContextProbeFactory, type ThreadChoice } from './threads.ts';

export interface ModelLoadRequest {
  id: string;
  path: string;
  contextSize: number;
  parallel: number;
  /** The backend's thread policy; candidates are calibrated once per model file. */
  threads: ThreadChoice;
  batchSize?: number;
  gpuLayers?: number | 'auto';
}

/** The model id clients use: the file name without `.gguf`. */
export function modelIdFromPath(file: string): string {
  return path.basename(file).replace(/\.gguf$/i, '');
}

/**
 * The loaded models, keyed by id. Loads and unloads are serialized (native memory is allocated and
 * freed one model at a time), and a second load of a model that is loading waits for the same load.
 */
export class ModelPool {
  readonly #loaded = new Map<string, LoadedModel>();
  readonly #loading = new Map<string, Promise<LoadedModel>>();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly llama: Llama,
    private readonly queueLimits: Omit<AdmissionLimits, 'concurrency'>,
    private readonly logger: Logger,
  ) {}

  get(id: string): LoadedModel | undefined {
    return this.#loaded.get(id);
  }

  list(): LoadedModel[] {
    return [...this.#loaded.values()];
  }

  get loadingCount(): number {
    return this.#loading.size;
  }

  load(request: ModelLoadRequest): Promise<LoadedModel> {
    const existing = this.#loaded.get(request.id) ?? undefined;
    if (existing) return Promise.resolve(existing);
    const pending = this.#loading.get(request.id);
    if (pending) return pending;
    const loading = this.#serialized(() => this.#load(request)).finally(() =>
      this.#loading.delete(request.id),
    );
    this.#loading.set(request.id, loading);
    return loading;
  }

  unload(id: string): Promise<boolean> {
    return this.#serialized(async () => {
      const model = this.#loaded.get(id);
      if (!model) return false;
      this.#loaded.delete(id);
      await model.dispose();
      this.logger.info({ model: id }, 'model unloaded');
      return true;
    });
  }

  async dispose(): Promise<void> {
    await Promise.allSettled([...this.#loading.values()]);
    for (const id of [...this.#loaded.keys()]) await this.unload(id);
  }

  async #load(request: ModelLoadRequest): Promise<LoadedModel> {
    const startedAt = performance.now();
    const model = await this.llama.loadModel({ modelPath: request.path, gpuLayers: request.gpuLayers });
    try {
      const threads = await this.#threadsFor(request, model);
      const options: LoadOptions = {
        contextSize: Math.min(request.contextSize, model.trainContextSize),
        parallel: request.parallel,
        threads: threads.threads,
        threadsReason: threads.reason,
        batchThreads: threads.batchThreads,
        batchThreadsReason: threads.batchReason,
        batchSize: request.batchSize,
        gpuLayers: request.gpuLayers,
      };
      const context = await model.createContext({
        contextSize: options.contextSize,
        sequences: options.parallel,
        threads: options.threads,
        batchThreads: options.batchThreads,
        batchSize: options.batchSize,
      });
      const loaded = new LoadedModel(request.id, request.path, model, context, options, this.queueLimits);
      this.#loaded.set(request.id, loaded);
      this.logger.info(
        {
          model: request.id,
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

  /** Calibrated thread counts by model file: calibration costs a few decodes, paid once per file. */
  readonly #calibrated = new Map<string, ThreadChoice>();

  async #threadsFor(request: ModelLoadRequest, model: LlamaModel): Promise<ThreadChoice> {
    const candidates = request.threads.calibrationCandidates;
    if (!candidates || candidates.length < 2) return request.threads;
    let choice = this.#calibrated.get(request.path);
    if (!choice) {
      const probes = createContextProbeFactory(model, request.parallel, request.threads.batchThreads);
      const result = await calibrateThreads(probes, candidates);
      choice = { ...request.threads, threads: result.threads, reason: result.reason };
      this.#calibrated.set(request.path, choice);
      this.logger.info(
        { model: request.id, threads: choice.threads, measurements: result.measurements },
        choice.reason,
      );
    }
    return choice;
  }

  #serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(task, task);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}
