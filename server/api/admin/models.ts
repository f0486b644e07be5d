import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DownloadBody, LoadModelBody, ModelIdParams, UnloadModelBody } from './schema.ts';
import type { AdminModelServices } from './services.ts';

/** The model library: list, load, unload, delete, download. */
export const adminModelRoutes: FastifyPluginAsyncTypebox<{ services: AdminModelServices }> = async (
  app,
  { services },
) => {
  const { models, downloads } = services;

  app.get('/models', async () => ({ data: await models.list() }));

  app.post('/models/load', { schema: { body: LoadModelBody } }, async (request) => {
    const { model, ...overrides } = request.body;
    const loaded = await models.load(model, overrides, 'admin');
    return models.entry(loaded.id);
  });

  app.post('/models/unload', { schema: { body: UnloadModelBody } }, async (request) => {
    await models.unload(request.body.model);
    return models.entry(request.body.model);
  });

  app.delete('/models/:id', { schema: { params: ModelIdParams } }, async (request, reply) => {
    await models.delete(request.params.id);
    return reply.code(204).send();
  });

  app.post('/models/download', { schema: { body: DownloadBody } }, async (request, reply) => {
    return reply.code(202).send(await downloads.start(request.body.uri));
  });
};
