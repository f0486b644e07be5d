import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Config } from './config/schema.ts';
import { installErrorHandling } from './api/errors.ts';
import { openAiRoutes, type InferenceModels } from './api/openai/index.ts';
import { healthRoutes } from './api/health/index.ts';
import type { Lifecycle, ModelCounts } from './state/lifecycle.ts';
import type { AdminKeyHolder } from './state/admin-key.ts';
import { adminRoutes } from './api/admin/index.ts';
import { uiRoutes } from './api/ui.ts';

export interface AppServices {
  config: Config;
  logger: Logger;
  models: InferenceModels;
  lifecycle: Lifecycle;
  modelCounts(): ModelCounts;
  adminKey: AdminKeyHolder;
}

/** The Fastify app, built as a plugin tree: tests inject into it or listen on a loopback port. */
export async function buildApp(services: AppServices): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: config.limits.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (request) => acceptableRequestId(request.headers['x-request-id']) ?? randomUUID(),
    // Refuse unknown parameters instead of silently dropping them; never coerce types.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  installErrorHandling(app);

  await app.register(healthRoutes, { lifecycle: services.lifecycle, modelCounts: services.modelCounts });
  await app.register(openAiRoutes, {
    prefix: '/v1',
    models: services.models,
    limits: config.limits,
    inferenceTimeoutMs: config.inference.timeoutMs,
  });
  await app.register(adminRoutes, { prefix: '/admin', adminKey: services.adminKey });
  await app.register(uiRoutes);
  return app;
}

/** A client's x-request-id is kept when it is a sane token (it ends up in every log line). */
function acceptableRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && /^[\w.:@/+=-]{1,128}$/.test(header) ? header : undefined;
}
