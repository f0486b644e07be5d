import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ModelParams } from './schema.ts';
import { modelNotFound } from '../../errors.ts';
import type { InferenceRoutesOptions } from './options.ts';

export const modelsRoute: FastifyPluginAsyncTypebox<InferenceRoutesOptions> = async (app, options) => {
  // `kind` is LMX's own field (chat, embedding or reranker); `type`, `display_name` and `created_at` are
  // what Anthropic's SDK reads of a model. Each client ignores the fields it does not know.
  const toModelObject = (id: string, createdMs: number, kind: string | null) => ({
    id,
    object: 'model',
    created: Math.floor(createdMs / 1000),
    owned_by: 'lmx',
    kind,
    type: 'model',
    display_name: id,
    created_at: new Date(createdMs).toISOString(),
  });

  app.get('/models', async () => {
    const data = (await options.models.listForClients()).map((model) =>
      toModelObject(model.id, model.createdMs, model.kind),
    );
    // Anthropic's page fields: one page holds every model.
    const ids = { first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    return { object: 'list', data, has_more: false, ...ids };
  });

  app.get('/models/:id', { schema: { params: ModelParams } }, async (request) => {
    const model = (await options.models.listForClients()).find(
      (candidate) => candidate.id === request.params.id,
    );
    if (!model) throw modelNotFound(request.params.id);
    return toModelObject(model.id, model.createdMs, model.kind);
  });
};
