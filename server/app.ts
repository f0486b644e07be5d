import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Config } from './config/schema.ts';
import { installErrorHandling } from './api/error-handler.ts';
import { RequestLogController } from './api/request-log.ts';
import { RefusalLog } from './telemetry/refusal-log.ts';
import { installConnectionTimeouts, serverTimeoutOptions } from './api/connection-timeouts.ts';
import { answerUnmetExpectations, clientErrorHandler, frameworkErrors } from './api/wire-errors.ts';
import { openAiRoutes } from './api/openai/index.ts';
import { anthropicErrors } from './api/anthropic/errors.ts';
import { healthRoutes } from './api/health/index.ts';
import { metricsRoutes } from './api/metrics/index.ts';
import { adminRoutes } from './api/admin/index.ts';
import type { AdminModelServices } from './api/admin/services.ts';
import type { ModelManager } from './models/model-manager.ts';
import type { EmbeddingService } from './helpers/embedding-service.ts';
import type { RagStore } from './rag/rag-store.ts';
import type { ResponseStore } from './persistence/response-store.ts';
import type { OpenOnFirstUse } from './persistence/open-on-first-use.ts';
import { uiRoutes } from './api/ui.ts';
import { recordRouteSchemas } from './api/route-schemas.ts';
import { bearerToken, keysMatch } from './api/auth.ts';
import type { Lifecycle } from './runtime/lifecycle.ts';
import type { AdminKeyHolder } from './persistence/admin-key.ts';
import { routeLabel, type Metrics } from './telemetry/metrics.ts';
import type { HealthCheck } from './telemetry/health.ts';
import type { Drain } from './resilience/drain.ts';
import { limitRequestsPerIp } from './resilience/rate-limits.ts';
import { shedLoadUnderPressure, type MemorySource } from './resilience/shedding.ts';

export interface AppServices {
  config: Config;
  logger: Logger;
  models: ModelManager;
  /** Embedding and rerank calls (local model or helper node). */
  embeddings: EmbeddingService;
  rag: OpenOnFirstUse<RagStore>;
  /** What /v1/responses keeps responses in (opened and closed by the composition root). */
  responseStore: OpenOnFirstUse<ResponseStore>;
  lifecycle: Lifecycle;
  adminKey: AdminKeyHolder;
  /** What the admin routes of the model library, downloads, events, state and config act on. */
  admin: AdminModelServices;
  metrics: Metrics;
  drain: Drain;
  memory: MemorySource;
  healthChecks(): HealthCheck[];
  /** How often the memory source is read for shedding (tests make it fast). */
  sheddingCheckIntervalMs?: number;
}

/**
 * The Fastify app, built as a plugin tree: tests inject into it or listen on a loopback port.
 *
 *   /healthz /readyz /metrics /ui   always served: no rate limit, no shedding
 *   guarded scope                   load shedding (under-pressure), then per-IP rate limits
 *     /v1/*                         CORS, optional API key, drain refusal, OpenAI and Anthropic routes
 *     /admin/*                      admin key, admin routes
 */
export async function buildApp(services: AppServices): Promise<FastifyInstance> {
  const { config, metrics } = services;
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: config.limits.bodyLimitBytes,
    // Behind a front door every request comes from its address: X-Forwarded-For from a trusted proxy
    // gives the client's, which rate limits and logs then use.
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    requestIdHeader: false,
    genReqId: (request) => acceptableRequestId(request.headers['x-request-id']) ?? randomUUID(),
    // Refuse unknown parameters instead of silently dropping them; never coerce types.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // close() runs only after the drain has let inference finish: whatever connection is left then
    // (keep-alive sockets, the admin event feed, clients that stopped reading) is cut.
    forceCloseConnections: true,
    logController: new RequestLogController(new RefusalLog(services.logger)),
    ...serverTimeoutOptions(config.http),
    clientErrorHandler,
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();
  answerUnmetExpectations(app);
  installConnectionTimeouts(app, config.http);

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(routeLabel(request), request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  installErrorHandling(app, [anthropicErrors]);
  recordRouteSchemas(app);

  await app.register(healthRoutes, {
    lifecycle: services.lifecycle,
    modelCounts: () => services.models.counts(),
  });
  await app.register(metricsRoutes, { metrics });
  await app.register(uiRoutes);

  await app.register(async (guarded) => {
    await shedLoadUnderPressure(guarded, {
      memoryThreshold: config.shedding.memoryThreshold,
      maxEventLoopDelayMs: config.shedding.maxEventLoopDelayMs,
      memory: services.memory,
      onShed: () => metrics.reject('shed'),
      checkIntervalMs: services.sheddingCheckIntervalMs,
    });

    await guarded.register(
      async (v1) => {
        await limitRequestsPerIp(v1, {
          perMinute: config.rateLimit.inferencePerMinute,
          exemptLoopback: config.rateLimit.exemptLoopback,
          onLimited: () => metrics.reject('rate_limited'),
        });
        await v1.register(openAiRoutes, {
          models: services.models,
          embeddings: services.embeddings,
          rag: services.rag,
          responseStore: services.responseStore,
          limits: config.limits,
          inferenceTimeoutMs: config.inference.timeoutMs,
          context: { metrics, drain: services.drain },
          apiKey: config.apiKey,
          adminKey: services.adminKey,
          corsOrigins: config.cors.origins,
        });
      },
      { prefix: '/v1' },
    );

    await guarded.register(
      async (admin) => {
        await limitRequestsPerIp(admin, {
          perMinute: config.rateLimit.adminPerMinute,
          exemptLoopback: config.rateLimit.exemptLoopback,
          // The limit guards the admin key against guessing; whoever holds the key is not throttled.
          exempt: (request) => keysMatch(bearerToken(request), services.adminKey.current),
          onLimited: () => metrics.reject('rate_limited'),
        });
        await admin.register(adminRoutes, {
          adminKey: services.adminKey,
          onUnauthorized: () => metrics.reject('unauthorized'),
          modelServices: services.admin,
          rag: services.rag,
          peers: config.cluster.peers,
          health: { checks: services.healthChecks, timeoutMs: 2000 },
        });
      },
      { prefix: '/admin' },
    );
  });
  return app;
}

/** A client's x-request-id is kept when it is a sane token (it ends up in every log line). */
function acceptableRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && /^[\w.:@/+=-]{1,128}$/.test(header) ? header : undefined;
}
