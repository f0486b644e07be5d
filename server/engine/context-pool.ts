/**
 * A fixed set of single-sequence contexts handed out one at a time. node-llama-cpp's embedding and
 * ranking contexts evaluate one input at a time under a lock, and its addon reads pooled embeddings of
 * sequence 0 only (AddonContext::GetEmbedding), so one context cannot evaluate several inputs in one
 * decode; `parallel` contexts evaluate a request's inputs side by side instead.
 */
export interface PoolShape {
  contextSize: number;
  /** Contexts evaluating side by side. */
  parallel: number;
  threads: number | undefined;
  batchSize?: number;
}

/** The options each context of a pool is created with. */
export interface PoolContextOptions {
  contextSize: number;
  threads: number;
  batchSize: number;
}

export class ContextPool<T extends { dispose(): Promise<void> }> {
  /** `shape.parallel` contexts made by `create`; if one fails, those already made are disposed. */
  static async create<T extends { dispose(): Promise<void> }>(
    shape: PoolShape,
    create: (options: PoolContextOptions) => Promise<T>,
  ): Promise<ContextPool<T>> {
    const options = {
      contextSize: shape.contextSize,
      threads: shape.threads ?? 0,
      batchSize: shape.batchSize ?? shape.contextSize,
    };
    const contexts: T[] = [];
    try {
      for (let index = 0; index < shape.parallel; index++) contexts.push(await create(options));
    } catch (error) {
      await Promise.all(contexts.map((context) => context.dispose()));
      throw error;
    }
    return new ContextPool(contexts);
  }

  readonly #free: T[];
  readonly #waiting: ((context: T) => void)[] = [];

  constructor(readonly contexts: readonly T[]) {
    this.#free = [...contexts];
  }

  /** Runs `task` on a free context (waiting for one), then gives it back. */
  async use<R>(task: (context: T) => Promise<R>): Promise<R> {
    const context = this.#free.pop() ?? (await new Promise<T>((resolve) => this.#waiting.push(resolve)));
    try {
      return await task(context);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(context);
      else this.#free.push(context);
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.contexts.map((context) => context.dispose()));
  }
}
