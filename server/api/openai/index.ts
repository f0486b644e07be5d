import cors from '@fastify/cors';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { unauthorized } from '../../errors.ts';
import { keysMatch, offeredApiKeys } from '../auth.ts';
import type { AdminKeyHolder } from '../../persistence/admin-key.ts';
import { anthropicRoutes } from '../anthropic/messages.ts';
import { chatCompletionsRoute } from './chat-completions.ts';
import { completionsRoute } from './completions.ts';
import { embeddingRoutes } from './embeddings.ts';
import { modelsRoute } from './models.ts';
import type { InferenceRoutesOptions } from './options.ts';
import type { RagStore } from '../../rag/rag-store.ts';
import { ragDocumentRoutes } from '../rag/routes.ts';
import type { ResponseStore } from '../../persistence/response-store.ts';
import type { OpenOnFirstUse } from '../../persistence/open-on-first-use.ts';
import { responsesRoutes } from './responses.ts';

export interface OpenAiScopeOptions extends InferenceRoutesOptions {
  /** When set, every /v1 request must carry it (or the admin key) as a bearer token. */
  apiKey?: string;
  adminKey: AdminKeyHolder;
  corsOrigins: readonly string[];
  rag: OpenOnFirstUse<RagStore>;
  /** Where /v1/responses keeps the responses it stores. */
  responseStore: OpenOnFirstUse<ResponseStore>;
}

/** The OpenAI-compatible API, mounted under /v1: CORS, the optional API key, then the routes. */
export const openAiRoutes: FastifyPluginAsyncTypebox<OpenAiScopeOptions> = async (app, options) => {
  await app.register(cors, {
    origin: options.corsOrigins.includes('*') ? '*' : [...options.corsOrigins],
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    // Unset: any request header the preflight asks for is allowed (SDKs send their own, e.g. x-stainless-*).
    exposedHeaders: [
      'x-request-id',
      'retry-after',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
    ],
  });

  const apiKey = options.apiKey;
  if (apiKey) {
    // preParsing: after the rate limit has counted the request, before its body is read.
    app.addHook('preParsing', async (request) => {
      if (request.method === 'OPTIONS') return;
      // The admin key opens /v1 too: the dashboard's "Try it" runs with it.
      const accepted = offeredApiKeys(request).some(
        (key) => keysMatch(key, apiKey) || keysMatch(key, options.adminKey.current),
      );
      if (!accepted) {
        options.context.metrics.reject('unauthorized');
        throw unauthorized(
          'Incorrect or missing API key. Send it as Authorization: Bearer <key> (or x-api-key: <key>).',
        );
      }
    });
  }
  app.addHook('onRequest', async (request, reply) => {
    options.context.drain.track(reply.raw);
    if (request.method === 'POST' && options.context.drain.started) {
      options.context.metrics.reject('draining');
      options.context.drain.refuseIfDraining();
    }
  });

  // Not `options` itself: it carries this plugin's prefix, which the children would apply again.
  const routeOptions: InferenceRoutesOptions = {
    models: options.models,
    embeddings: options.embeddings,
    limits: options.limits,
    inferenceTimeoutMs: options.inferenceTimeoutMs,
    context: options.context,
  };
  await app.register(modelsRoute, routeOptions);
  await app.register(chatCompletionsRoute, routeOptions);
  await app.register(completionsRoute, routeOptions);
  await app.register(embeddingRoutes, routeOptions);
  await app.register(responsesRoutes, { ...routeOptions, store: options.responseStore });
  await app.register(ragDocumentRoutes, {
    rag: options.rag,
    limits: options.limits,
    drain: options.context.drain,
  });
  // Anthropic's Messages API shares this scope: the same CORS, API key (also as x-api-key) and drain.
  await app.register(anthropicRoutes, routeOptions);
};
