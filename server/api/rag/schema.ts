import Type, { type Static } from 'typebox';
import type { RequestLimits } from '../openai/schema.ts';

/** Bodies and parameters of the RAG routes (/admin/rag/*, /v1/rag/*). Unknown parameters are refused. */

const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' });
const DocumentId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' });
const Metadata = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]),
  { additionalProperties: false, maxProperties: 64 },
);

export const CollectionParams = Type.Object({ collection: Name });
export const DocumentParams = Type.Object({ collection: Name, id: DocumentId });

export const CreateCollectionBody = Type.Object(
  {
    name: Name,
    model: Type.String({ minLength: 1, maxLength: 512 }),
    /** Characters per chunk. */
    chunk_size: Type.Optional(Type.Integer({ minimum: 16, maximum: 100_000 })),
    chunk_overlap: Type.Optional(Type.Integer({ minimum: 0, maximum: 50_000 })),
  },
  { additionalProperties: false },
);
export type CreateCollectionBody = Static<typeof CreateCollectionBody>;

export function addDocumentsBody(limits: RequestLimits) {
  return Type.Object(
    {
      documents: Type.Array(
        Type.Object(
          {
            id: Type.Optional(DocumentId),
            text: Type.String({ pattern: '\\S', maxLength: limits.maxInputTokens * 64 }),
            metadata: Type.Optional(Metadata),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: limits.maxInputs },
      ),
    },
    { additionalProperties: false },
  );
}

export const QueryBody = Type.Object(
  {
    query: Type.String({ pattern: '\\S', maxLength: 100_000 }),
    top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** Chunks whose document metadata holds each of these entries. */
    filter: Type.Optional(Metadata),
    rerank: Type.Optional(
      Type.Object(
        {
          model: Type.String({ minLength: 1, maxLength: 512 }),
          /** Nearest chunks the reranker reorders before top_k are kept (default 4 × top_k). */
          candidates: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
