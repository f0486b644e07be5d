import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { EmbeddingInput } from '../../engine/embedder.ts';
import { abortOnClientGone } from './client-abort.ts';
import { embeddingBody, rerankBody, type RerankBody } from './embedding-schema.ts';
import type { InferenceRoutesOptions } from './options.ts';

/** OpenAI's base64 encoding: the vector's float32 values, little-endian, as the official SDK decodes them. */
function base64Of(vector: readonly number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

/** A list of inputs from OpenAI's four shapes: a string, strings, a token array, token arrays. */
function inputsOf(input: string | string[] | number[] | number[][]): EmbeddingInput[] {
  if (typeof input === 'string') return [input];
  if (input.length > 0 && typeof input[0] === 'number') return [input as number[]];
  return input as EmbeddingInput[];
}

function documentText(document: RerankBody['documents'][number]): string {
  return typeof document === 'string' ? document : document.text;
}

/**
 * POST /v1/embeddings (OpenAI) and /v1/rerank, /v1/reranking (llama.cpp's server, Jina, Cohere): one
 * admission slot per request, as a generation takes; the request's inputs are evaluated together.
 */
export const embeddingRoutes: FastifyPluginAsyncTypebox<InferenceRoutesOptions> = async (app, options) => {
  const { embeddings, context } = options;

  app.post('/embeddings', { schema: { body: embeddingBody(options.limits) } }, async (request, reply) => {
    const body = request.body;
    const signal = AbortSignal.any([abortOnClientGone(reply).signal, context.drain.signal]);
    const { model, vectors, promptTokens } = await embeddings.embed(
      {
        model: body.model,
        inputs: inputsOf(body.input),
        truncate: body.truncate === true,
        dimensions: body.dimensions ?? undefined,
      },
      signal,
    );
    const base64 = body.encoding_format === 'base64';
    return {
      object: 'list',
      // float32 values either way, so float and base64 answers are the same numbers.
      data: vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: base64 ? base64Of(vector) : Array.from(new Float32Array(vector)),
      })),
      model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  });

  const rerank = async (body: RerankBody, reply: Parameters<typeof abortOnClientGone>[0]) => {
    const texts = body.documents.map(documentText);
    const signal = AbortSignal.any([abortOnClientGone(reply).signal, context.drain.signal]);
    const { model, scores, promptTokens } = await embeddings.rerank(
      { model: body.model, query: body.query, documents: texts, truncate: body.truncate === true },
      signal,
    );
    const results = scores
      .map((score, index) => ({
        index,
        relevance_score: score,
        ...(body.return_documents === true ? { document: { text: texts[index] } } : {}),
      }))
      .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
      .slice(0, body.top_n ?? scores.length);
    return {
      object: 'list',
      model,
      results,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  };
  for (const path of ['/rerank', '/reranking']) {
    app.post(path, { schema: { body: rerankBody(options.limits) } }, (request, reply) =>
      rerank(request.body, reply),
    );
  }
};
