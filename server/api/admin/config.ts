import type { FastifyPluginAsync } from 'fastify';
import type { AdminModelServices } from './services.ts';

/** GET/PUT /admin/config: secrets redacted; PUT validated with the one schema and persisted atomically. */
export const adminConfigRoutes: FastifyPluginAsync<{ services: AdminModelServices }> = async (
  app,
  { services },
) => {
  app.get('/config', async () => ({ config: services.liveConfig.redacted(), restartRequired: [] }));

  app.put('/config', async (request) => services.liveConfig.update(request.body));
};
