import type { LlamaModel, LlamaRankingContext, Token } from 'node-llama-cpp';
import { ContextPool, type PoolShape } from './context-pool.ts';
import { InputTooLongError } from './embedder.ts';

export interface PreparedDocument {
  tokens: Token[];
  /** Tokens evaluated with the query (template and special tokens included). */
  length: number;
}

/**
 * A reranker in memory: `parallel` ranking contexts of node-llama-cpp (each scores one query-document
 * pair at a time); a request's documents are spread over all of them.
 */
export class Ranker {
  private constructor(
    readonly model: LlamaModel,
    readonly contextSize: number,
    private readonly pool: ContextPool<LlamaRankingContext>,
  ) {}

  static async create(model: LlamaModel, shape: PoolShape): Promise<Ranker> {
    const pool = await ContextPool.create(shape, (options) => model.createRankingContext(options));
    return new Ranker(model, shape.contextSize, pool);
  }

  /** The query's tokens and each document's; a pair longer than the context is refused or cut (`truncate`). */
  prepare(
    query: string,
    documents: readonly string[],
    truncate: boolean,
  ): { query: Token[]; documents: PreparedDocument[] } {
    const context = this.pool.contexts[0] as LlamaRankingContext;
    const queryTokens = this.model.tokenize(query, false);
    const limit = this.contextSize - 1;
    const prepared = documents.map((document, index) => {
      let tokens = this.model.tokenize(document, false);
      let length = context.calculateInputLength(queryTokens, tokens);
      if (length > limit) {
        if (!truncate) throw new InputTooLongError(index, length, limit);
        tokens = tokens.slice(0, Math.max(0, tokens.length - (length - limit)));
        length = context.calculateInputLength(queryTokens, tokens);
        if (length > limit) throw new InputTooLongError(index, length, limit);
      }
      return { tokens, length };
    });
    return { query: queryTokens, documents: prepared };
  }

  /** Relevance scores (0–1) of the documents for the query, in the documents' order. */
  rank(query: Token[], documents: readonly PreparedDocument[], signal: AbortSignal): Promise<number[]> {
    return Promise.all(
      documents.map((document) =>
        this.pool.use(async (context) => {
          signal.throwIfAborted();
          return context.rank(query, document.tokens);
        }),
      ),
    );
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
