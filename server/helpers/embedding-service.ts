import type { EmbeddingInput } from '../engine/embedder.ts';
import type { ModelManager } from '../models/model-manager.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { HelperFailedError, HelperRefusedError, HelpersUnavailableError } from './errors.ts';
import type { HelperNode, HelperRole } from './helper-node.ts';
import type { HelperPool } from './helper-pool.ts';
import { ModelNotFoundError } from '../models/errors.ts';

export interface EmbedRequest {
  model: string;
  inputs: readonly EmbeddingInput[];
  truncate: boolean;
  dimensions?: number;
}

export interface EmbedResult {
  /** The model id that answered (the local id, or the id the request named when a helper answered). */
  model: string;
  vectors: number[][];
  promptTokens: number;
}

export interface RerankRequest {
  model: string;
  query: string;
  documents: readonly string[];
  truncate: boolean;
}

export interface RerankResult {
  model: string;
  /** Relevance of each document, in the documents' order. */
  scores: number[];
  promptTokens: number;
}

/**
 * Embedding and rerank calls, for /v1/embeddings, /v1/rerank and the RAG store alike. A call goes to the
 * helper nodes that take its model (listed for it, or any model not loaded here), least busy first, the
 * next one when a call fails; then to the local model (one admission slot, inputs evaluated together).
 * When no helper answers and this node does not have the model: HelpersUnavailableError (503).
 */
export class EmbeddingService {
  constructor(
    private readonly models: Pick<ModelManager, 'forInference' | 'loadedModels'>,
    private readonly metrics: Metrics,
    private readonly helpers: HelperPool,
  ) {}

  embed(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    return this.#route('embed', request.model, signal, {
      remote: async (helper) => {
        const answer = (await helper.call(
          '/embeddings',
          {
            model: request.model,
            input: request.inputs,
            encoding_format: 'float',
            ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
            ...(request.truncate ? { truncate: true } : {}),
          },
          signal,
        )) as { data?: { index: number; embedding: number[] }[]; usage?: { prompt_tokens?: number } };
        const data = answer.data ?? [];
        if (data.length !== request.inputs.length) throw badAnswer(helper);
        const vectors = [...data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
        return { model: request.model, vectors, promptTokens: answer.usage?.prompt_tokens ?? 0 };
      },
      local: () => this.#embedLocally(request, signal),
    });
  }

  rerank(request: RerankRequest, signal: AbortSignal): Promise<RerankResult> {
    return this.#route('rerank', request.model, signal, {
      remote: async (helper) => {
        const answer = (await helper.call(
          '/rerank',
          {
            model: request.model,
            query: request.query,
            documents: request.documents,
            top_n: request.documents.length,
            ...(request.truncate ? { truncate: true } : {}),
          },
          signal,
        )) as { results?: { index: number; relevance_score: number }[]; usage?: { prompt_tokens?: number } };
        const results = answer.results ?? [];
        if (results.length !== request.documents.length) throw badAnswer(helper);
        const scores = new Array<number>(results.length).fill(0);
        for (const result of results) scores[result.index] = result.relevance_score;
        return { model: request.model, scores, promptTokens: answer.usage?.prompt_tokens ?? 0 };
      },
      local: () => this.#rerankLocally(request, signal),
    });
  }

  async #route<R extends { model: string; promptTokens: number }>(
    role: HelperRole,
    model: string,
    signal: AbortSignal,
    ways: { remote(helper: HelperNode): Promise<R>; local(): Promise<R> },
  ): Promise<R> {
    const loadedLocally = this.models.loadedModels().some((loaded) => loaded.id === model);
    const candidates = this.helpers.candidates(role, model, loadedLocally);
    for (const helper of candidates) {
      try {
        const result = await ways.remote(helper);
        this.metrics.observeEmbedding(model, result.promptTokens);
        return result;
      } catch (error) {
        // The client's own mistake, or the client gone: trying elsewhere would not help.
        if (error instanceof HelperRefusedError || signal.aborted) throw error;
      }
    }
    try {
      return await ways.local();
    } catch (error) {
      if (candidates.length > 0 && error instanceof ModelNotFoundError) {
        const retryAfter = Math.min(...candidates.map((helper) => helper.retryAfterSeconds || 1));
        throw new HelpersUnavailableError(model, retryAfter);
      }
      throw error;
    }
  }

  async #embedLocally(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    const model = await this.models.forInference(request.model, 'embedding');
    const embedder = model.embedder;
    embedder.checkDimensions(model.id, request.dimensions);
    const prepared = embedder.prepare(request.inputs, request.truncate);
    const vectors = await model.admitted(signal, () => embedder.embed(prepared, signal, request.dimensions));
    const promptTokens = prepared.reduce((sum, input) => sum + input.length, 0);
    this.metrics.observeEmbedding(model.id, promptTokens);
    return { model: model.id, vectors, promptTokens };
  }

  async #rerankLocally(request: RerankRequest, signal: AbortSignal): Promise<RerankResult> {
    const model = await this.models.forInference(request.model, 'reranker');
    const ranker = model.ranker;
    const prepared = ranker.prepare(request.query, request.documents, request.truncate);
    const scores = await model.admitted(signal, () =>
      ranker.rank(prepared.query, prepared.documents, signal),
    );
    const promptTokens = prepared.documents.reduce((sum, document) => sum + document.length, 0);
    this.metrics.observeEmbedding(model.id, promptTokens);
    return { model: model.id, scores, promptTokens };
  }
}

function badAnswer(helper: HelperNode): HelperFailedError {
  return new HelperFailedError(helper.name, 'error', 'the answer does not have one result per input');
}
