import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { LoadedModel } from '../../engine/loaded-model.ts';
import type { RequestLimits } from '../../schemas/openai.ts';
import { chatCompletionsRoute } from './chat-completions.ts';
import { completionsRoute } from './completions.ts';
import { modelsRoute } from './models.ts';

/** What the /v1 routes need of the model side of the server. */
export interface InferenceModels {
  /** The model a request names, ready to generate (or a typed 404 / 409 / 503 error). */
  forInference(id: string): LoadedModel | Promise<LoadedModel>;
  /** The models a client may name. */
  listForClients(): { id: string; createdMs: number }[];
}

export interface InferenceRoutesOptions {
  models: InferenceModels;
  limits: RequestLimits;
  inferenceTimeoutMs: number;
}

/** The OpenAI-compatible API, mounted under /v1. */
export const openAiRoutes: FastifyPluginAsyncTypebox<InferenceRoutesOptions> = async (app, options) => {
  // Not `options` itself: it carries this plugin's prefix, which the children would apply again.
  const routeOptions: InferenceRoutesOptions = {
    models: options.models,
    limits: options.limits,
    inferenceTimeoutMs: options.inferenceTimeoutMs,
  };
  await app.register(modelsRoute, routeOptions);
  await app.register(chatCompletionsRoute, routeOptions);
  await app.register(completionsRoute, routeOptions);
};
