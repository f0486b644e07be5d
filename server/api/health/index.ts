import type { FastifyPluginAsync } from 'fastify';
import type { Lifecycle, ModelCounts } from '../../runtime/lifecycle.ts';

export interface HealthRoutesOptions {
  lifecycle: Lifecycle;
  modelCounts(): ModelCounts;
}

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, options) => {
  /** Liveness: answers whenever the process runs, checks nothing else. */
  app.get('/healthz', async () => ({ status: 'ok' }));

  /** Readiness: 200 only while a model is loaded and inference is accepted. */
  app.get('/readyz', async (_request, reply) => {
    const readiness = options.lifecycle.readiness(options.modelCounts());
    if (readiness.ready) return { status: 'ready' };
    return reply.code(503).header('retry-after', '1').send({ status: 'not_ready', reason: readiness.reason });
  });
};
