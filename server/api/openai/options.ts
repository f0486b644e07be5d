import type { LoadedModel } from '../../engine/loaded-model.ts';
import type { Drain } from '../../resilience/drain.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import type { RequestLimits } from './schema.ts';

/** What the /v1 routes need of the model side of the server. */
export interface InferenceModels {
  /** The model a request names, ready to generate (or a typed not-found / state / unavailable error). */
  forInference(id: string): LoadedModel | Promise<LoadedModel>;
  /** The models a client may name. */
  listForClients(): { id: string; createdMs: number }[];
}

/** Server-wide collaborators of every generation. */
export interface InferenceContext {
  metrics: Metrics;
  drain: Drain;
}

/** What every /v1 route plugin is registered with. */
export interface InferenceRoutesOptions {
  models: InferenceModels;
  limits: RequestLimits;
  inferenceTimeoutMs: number;
  context: InferenceContext;
}
