import type { LlamaContext, LlamaModel } from 'node-llama-cpp';
import { AdmissionQueue, type AdmissionLimits } from '../resilience/admission-queue.ts';
import {
  generateOnSequence,
  type GenerationHooks,
  type GenerationInput,
  type GenerationResult,
  type SamplingOptions,
} from './generation.ts';

export interface LoadOptions {
  contextSize: number;
  parallel: number;
  threads: number;
  batchSize?: number;
  gpuLayers?: number | 'auto';
}

/** What a generation waits for and then gets: one sequence of the model's shared context. */
export interface GenerationRun {
  /** Resolves when a slot is granted (rejects with queue_full / queue_timeout / the abort reason). */
  admitted: Promise<void>;
  result: Promise<GenerationResult>;
}

export interface RunHooks extends GenerationHooks {
  /** A generation running longer is stopped and ends with what it has (cause 'timeout'). */
  timeoutMs: number;
}

/**
 * A model in memory with one context of `parallel` sequences, so concurrent requests to it are
 * decoded together in one batch. Owns its native memory: dispose() frees it.
 */
export class LoadedModel {
  readonly admission: AdmissionQueue;
  readonly loadedAt = Date.now();
  lastUsedAt = Date.now();
  #inflight = 0;

  constructor(
    readonly id: string,
    readonly path: string,
    readonly model: LlamaModel,
    readonly context: LlamaContext,
    readonly options: LoadOptions,
    queueLimits: Omit<AdmissionLimits, 'concurrency'>,
  ) {
    this.admission = new AdmissionQueue({ ...queueLimits, concurrency: context.totalSequences });
  }

  get inflight(): number {
    return this.#inflight;
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  /** Waits for a free sequence (bounded queue), then generates on it; the sequence is always given back. */
  generate(input: GenerationInput, sampling: SamplingOptions, hooks: RunHooks): GenerationRun {
    this.#inflight++;
    const admitted = this.admission.acquire(hooks.signal);
    const result = (async () => {
      try {
        const release = await admitted;
        try {
          this.lastUsedAt = Date.now();
          const timeout = AbortSignal.timeout(hooks.timeoutMs);
          const signal = AbortSignal.any([hooks.signal, timeout]);
          const sequence = this.context.getSequence();
          try {
            const result = await generateOnSequence(sequence, input, sampling, {
              signal,
              onText: hooks.onText,
            });
            return timeout.aborted && !hooks.signal.aborted
              ? { ...result, cause: 'timeout' as const }
              : result;
          } finally {
            await sequence.dispose();
          }
        } finally {
          release();
        }
      } finally {
        this.#inflight--;
        this.lastUsedAt = Date.now();
      }
    })();
    return { admitted: admitted.then(() => undefined), result };
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}
