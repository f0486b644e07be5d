import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ModelParams } from './schema.ts';
import { modelNotFound } from '../../errors.ts';
import type { InferenceRoutesOptions } from './options.ts';

export const modelsRoute: FastifyPluginAsyncTypebox<InferenceRoutesOptions> = async (app, options) => {
  const toModelObject = (id: string, createdMs: number) => ({
    id,
    object: 'model',
    created: Math.floor(createdMs / 1000),
    owned_by: 'lmx',
  });

  app.get('/models', async () => ({
    object: 'list',
    data: options.models.listForClients().map((model) => toModelObject(model.id, model.createdMs)),
  }));

  app.get('/models/:id', { schema: { params: ModelParams } }, async (request) => {
    const model = options.models.listForClients().find((candidate) => candidate.id === request.params.id);
    if (!model) throw modelNotFound(request.params.id);
    return toModelObject(model.id, model.createdMs);
  });
};
