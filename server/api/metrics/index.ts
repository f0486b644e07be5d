import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../../telemetry/metrics.ts';

/** Prometheus scrape endpoint; never rate-limited or shed. */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
