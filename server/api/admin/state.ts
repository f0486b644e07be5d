import type { FastifyPluginAsync } from 'fastify';
import type { AdminModelServices } from './services.ts';

export const adminStateRoutes: FastifyPluginAsync<{ services: AdminModelServices }> = async (
  app,
  { services },
) => {
  app.get('/state', async () => services.state());

  app.post('/safe-mode/exit', async () => {
    await services.exitSafeMode();
    return { safeMode: services.state().safeMode };
  });
};
