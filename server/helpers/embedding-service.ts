import type { EmbeddingInput } from '../engine/embedder.ts';
import type { ModelManager } from '../models/model-manager.ts';
import type { Metrics } from '../telemetry/metrics.ts';

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
 * Embedding and rerank calls, for /v1/embeddings, /v1/rerank and the RAG store alike: one admission slot
 * per call on the local model, its inputs evaluated together.
 */
export class EmbeddingService {
  constructor(
    private readonly models: Pick<ModelManager, 'forInference'>,
    private readonly metrics: Metrics,
  ) {}

  async embed(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    const model = await this.models.forInference(request.model, 'embedding');
    const embedder = model.embedder;
    embedder.checkDimensions(model.id, request.dimensions);
    const prepared = embedder.prepare(request.inputs, request.truncate);
    const vectors = await model.admitted(signal, () => embedder.embed(prepared, signal, request.dimensions));
    const promptTokens = prepared.reduce((sum, input) => sum + input.length, 0);
    this.metrics.observeEmbedding(model.id, promptTokens);
    return { model: model.id, vectors, promptTokens };
  }

  async rerank(request: RerankRequest, signal: AbortSignal): Promise<RerankResult> {
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
