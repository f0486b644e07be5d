import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { invalidRequest } from '../../errors.ts';
import type { CollectionInfo, RagStore } from '../../rag/rag-store.ts';
import type { OpenOnFirstUse } from '../../persistence/open-on-first-use.ts';
import type { Drain } from '../../resilience/drain.ts';
import { abortOnClientGone } from '../openai/client-abort.ts';
import type { RequestLimits } from '../openai/schema.ts';
import {
  addDocumentsBody,
  CollectionParams,
  CreateCollectionBody,
  DocumentParams,
  QueryBody,
} from './schema.ts';

const DEFAULT_CHUNK_SIZE = 1000;
const DEFAULT_CHUNK_OVERLAP = 100;
const DEFAULT_TOP_K = 5;

function collectionView(info: CollectionInfo) {
  return {
    name: info.name,
    model: info.model,
    chunk_size: info.chunkSize,
    chunk_overlap: info.chunkOverlap,
    dimensions: info.dimensions,
    documents: info.documents,
    chunks: info.chunks,
    created_at: info.createdAt,
  };
}

/** /admin/rag/collections: create, list (with counts), delete. */
export const ragCollectionRoutes: FastifyPluginAsyncTypebox<{ rag: OpenOnFirstUse<RagStore> }> = async (
  app,
  { rag },
) => {
  app.post('/rag/collections', { schema: { body: CreateCollectionBody } }, async (request, reply) => {
    const body = request.body;
    const chunkSize = body.chunk_size ?? DEFAULT_CHUNK_SIZE;
    const chunkOverlap = body.chunk_overlap ?? Math.min(DEFAULT_CHUNK_OVERLAP, Math.floor(chunkSize / 2));
    if (chunkOverlap >= chunkSize)
      throw invalidRequest('chunk_overlap must be smaller than chunk_size.', 'chunk_overlap');
    const store = await rag.open();
    const info = await store.createCollection(
      { name: body.name, model: body.model, chunkSize, chunkOverlap },
      abortOnClientGone(reply).signal,
    );
    return reply.code(201).send(collectionView(info));
  });

  app.get('/rag/collections', async () => ({
    object: 'list',
    data: (await (await rag.open()).listCollections()).map(collectionView),
  }));

  app.delete(
    '/rag/collections/:collection',
    { schema: { params: CollectionParams } },
    async (request, reply) => {
      const store = await rag.open();
      await store.deleteCollection(request.params.collection);
      return reply.code(204).send();
    },
  );
};

/** /v1/rag/{collection}/documents and /query: ingest, list, delete, query. */
export const ragDocumentRoutes: FastifyPluginAsyncTypebox<{
  rag: OpenOnFirstUse<RagStore>;
  limits: RequestLimits;
  drain: Drain;
}> = async (app, { rag, limits, drain }) => {
  const signalOf = (reply: Parameters<typeof abortOnClientGone>[0]) =>
    AbortSignal.any([abortOnClientGone(reply).signal, drain.signal]);

  app.post(
    '/rag/:collection/documents',
    { schema: { params: CollectionParams, body: addDocumentsBody(limits) } },
    async (request, reply) => {
      const ids = request.body.documents.flatMap((document) => (document.id ? [document.id] : []));
      const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
      if (repeated) throw invalidRequest(`The document id '${repeated}' appears twice.`, 'documents');
      const store = await rag.open();
      const added = await store.addDocuments(
        request.params.collection,
        request.body.documents,
        signalOf(reply),
      );
      return reply.code(201).send({
        object: 'list',
        data: added.documents,
        usage: { prompt_tokens: added.promptTokens, total_tokens: added.promptTokens },
      });
    },
  );

  app.get('/rag/:collection/documents', { schema: { params: CollectionParams } }, async (request) => ({
    object: 'list',
    data: await (await rag.open()).listDocuments(request.params.collection),
  }));

  app.delete('/rag/:collection/documents/:id', { schema: { params: DocumentParams } }, async (request) => {
    const store = await rag.open();
    const { chunks } = await store.deleteDocument(request.params.collection, request.params.id);
    return { id: request.params.id, deleted: true, chunks };
  });

  app.post(
    '/rag/:collection/query',
    { schema: { params: CollectionParams, body: QueryBody } },
    async (request, reply) => {
      const body = request.body;
      const topK = body.top_k ?? DEFAULT_TOP_K;
      const rerank = body.rerank && {
        model: body.rerank.model,
        candidates: body.rerank.candidates ?? topK * 4,
      };
      const store = await rag.open();
      const { hits, promptTokens } = await store.query(
        request.params.collection,
        { query: body.query, topK, filter: body.filter, rerank },
        signalOf(reply),
      );
      return {
        object: 'list',
        data: hits.map((hit) => ({
          document_id: hit.documentId,
          chunk_index: hit.chunkIndex,
          text: hit.text,
          metadata: hit.metadata,
          score: hit.score,
          ...(hit.rerankScore === undefined ? {} : { rerank_score: hit.rerankScore }),
        })),
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      };
    },
  );
};
