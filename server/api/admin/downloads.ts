import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DownloadIdParams } from './schema.ts';
import type { AdminModelServices } from './services.ts';

export const adminDownloadRoutes: FastifyPluginAsyncTypebox<{ services: AdminModelServices }> = async (
  app,
  { services },
) => {
  app.get('/downloads', async () => ({ data: services.downloads.list() }));

  /** Cancels a running download (its partial file is deleted) or removes a finished one from the list. */
  app.delete('/downloads/:id', { schema: { params: DownloadIdParams } }, async (request, reply) => {
    await services.downloads.cancel(request.params.id);
    return reply.code(204).send();
  });
};
