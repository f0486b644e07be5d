/**
 * A fixed set of single-sequence contexts handed out one at a time. node-llama-cpp's embedding and
 * ranking contexts evaluate one input at a time under a lock, and its addon reads pooled embeddings of
 * sequence 0 only (AddonContext::GetEmbedding), so one context cannot evaluate several inputs in one
 * decode; `parallel` contexts evaluate a request's inputs side by side instead.
 */
export class ContextPool<T extends { dispose(): Promise<void> }> {
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
