import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ModelParams } from './schema.ts';
import { modelNotFound } from '../../errors.ts';
import type { InferenceRoutesOptions } from './options.ts';

export const modelsRoute: FastifyPluginAsyncTypebox<InferenceRoutesOptions> = async (app, options) => {
  // `kind` is LMX's own field (chat, embedding or reranker); OpenAI's clients ignore what they do not know.
  const toModelObject = (id: string, createdMs: number, kind: string | null) => ({
    id,
    object: 'model',
    created: Math.floor(createdMs / 1000),
    owned_by: 'lmx',
    kind,
  });

  app.get('/models', async () => ({
    object: 'list',
    data: (await options.models.listForClients()).map((model) =>
      toModelObject(model.id, model.createdMs, model.kind),
    ),
  }));

  app.get('/models/:id', { schema: { params: ModelParams } }, async (request) => {
    const model = (await options.models.listForClients()).find(
      (candidate) => candidate.id === request.params.id,
    );
    if (!model) throw modelNotFound(request.params.id);
    return toModelObject(model.id, model.createdMs, model.kind);
  });
};
