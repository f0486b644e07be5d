import type { ModelKind } from '../../../shared/admin-api.ts';
import type { LoadedModel } from '../../engine/loaded-model.ts';
import type { EmbeddingService } from '../../helpers/embedding-service.ts';
import type { Drain } from '../../resilience/drain.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import type { RequestLimits } from './schema.ts';

/** What the /v1 routes need of the model side of the server. */
export interface InferenceModels {
  /** The model a request names, ready to generate (or a typed not-found / state / unavailable error). */
  forInference(id: string, wanted?: ModelKind): LoadedModel | Promise<LoadedModel>;
  /** The models a client may name, with their kind when known. */
  listForClients(): Promise<{ id: string; createdMs: number; kind: ModelKind | null }[]>;
}

/** Server-wide collaborators of every generation. */
export interface InferenceContext {
  metrics: Metrics;
  drain: Drain;
}

/** What every /v1 route plugin is registered with. */
export interface InferenceRoutesOptions {
  models: InferenceModels;
  /** Embedding and rerank calls (local model or helper node). */
  embeddings: EmbeddingService;
  limits: RequestLimits;
  inferenceTimeoutMs: number;
  context: InferenceContext;
}
