import Type, { type Static, type TSchema } from 'typebox';
import type { RequestLimits } from './schema.ts';

/**
 * Bodies of /v1/embeddings (OpenAI's shape) and /v1/rerank (llama.cpp's server, Jina and Cohere), plus
 * llama.cpp's `truncate`. Unknown parameters are refused, as on the other routes.
 */

const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

export function embeddingBody(limits: RequestLimits) {
  const text = Type.String({ minLength: 1, maxLength: limits.maxInputTokens * 64 });
  const tokens = Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: limits.maxInputTokens });
  return Type.Object(
    {
      model: Type.String({ minLength: 1, maxLength: 512 }),
      input: Type.Union([
        text,
        Type.Array(text, { minItems: 1, maxItems: limits.maxInputs }),
        tokens,
        Type.Array(tokens, { minItems: 1, maxItems: limits.maxInputs }),
      ]),
      encoding_format: nullable(Type.Enum(['float', 'base64'])),
      dimensions: nullable(Type.Integer({ minimum: 1 })),
      user: nullable(Type.String()),
      truncate: nullable(Type.Boolean()),
    },
    { additionalProperties: false },
  );
}
export type EmbeddingBody = Static<ReturnType<typeof embeddingBody>>;

export function rerankBody(limits: RequestLimits) {
  const text = Type.String({ maxLength: limits.maxInputTokens * 64 });
  return Type.Object(
    {
      model: Type.String({ minLength: 1, maxLength: 512 }),
      query: Type.String({ minLength: 1, maxLength: limits.maxInputTokens * 64 }),
      documents: Type.Array(Type.Union([text, Type.Object({ text }, { additionalProperties: false })]), {
        minItems: 1,
        maxItems: limits.maxInputs,
      }),
      top_n: nullable(Type.Integer({ minimum: 1 })),
      return_documents: nullable(Type.Boolean()),
      truncate: nullable(Type.Boolean()),
    },
    { additionalProperties: false },
  );
}
export type RerankBody = Static<ReturnType<typeof rerankBody>>;
