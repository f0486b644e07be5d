import Type, { type Static, type TSchema } from 'typebox';
import type { RequestLimits } from './schema.ts';

/**
 * The request schemas of /v1/responses. Unknown top-level parameters are refused; input items and tools
 * are objects with a `type`, read by the handler, so an item or tool type LMX does not take is refused by
 * name (a built-in tool, an image) rather than with a misleading schema message.
 */

const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

const Typed = Type.Object({ type: Type.Optional(Type.String()) }, { additionalProperties: true });

const TextFormat = Type.Union([
  Type.Object({ type: Type.Enum(['text', 'json_object']) }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('json_schema'),
      name: Type.String(),
      description: Type.Optional(Type.String()),
      schema: Type.Record(Type.String(), Type.Unknown()),
      strict: nullable(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
]);

const ToolChoice = Type.Union([Type.Enum(['none', 'auto', 'required']), Typed]);

export const reasoningEfforts = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;

export function responseCreateBody(limits: RequestLimits) {
  return Type.Object(
    {
      model: Type.String({ minLength: 1, maxLength: 512 }),
      input: Type.Union([Type.String(), Type.Array(Typed, { maxItems: limits.maxMessages })]),
      instructions: nullable(Type.String()),
      max_output_tokens: nullable(Type.Integer({ minimum: 1, maximum: limits.maxTokens })),
      temperature: nullable(Type.Number({ minimum: 0, maximum: 2 })),
      top_p: nullable(Type.Number({ minimum: 0, maximum: 1 })),
      tools: nullable(Type.Array(Typed, { maxItems: 128 })),
      tool_choice: nullable(ToolChoice),
      parallel_tool_calls: nullable(Type.Boolean()),
      max_tool_calls: nullable(Type.Integer({ minimum: 1 })),
      text: nullable(
        Type.Object(
          { format: nullable(TextFormat), verbosity: nullable(Type.Enum(['low', 'medium', 'high'])) },
          { additionalProperties: false },
        ),
      ),
      reasoning: nullable(
        Type.Object(
          {
            effort: nullable(Type.Enum([...reasoningEfforts])),
            summary: nullable(Type.Enum(['auto', 'concise', 'detailed'])),
            generate_summary: nullable(Type.Enum(['auto', 'concise', 'detailed'])),
          },
          { additionalProperties: true },
        ),
      ),
      stream: nullable(Type.Boolean()),
      stream_options: nullable(
        Type.Object({ include_obfuscation: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      ),
      store: nullable(Type.Boolean()),
      previous_response_id: nullable(Type.String({ minLength: 1, maxLength: 200 })),
      truncation: nullable(Type.Enum(['auto', 'disabled'])),
      metadata: nullable(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }))),
      // Refused when they ask for something LMX does not do (checked in the handler).
      background: nullable(Type.Boolean()),
      conversation: nullable(Type.Unknown()),
      prompt: nullable(Type.Unknown()),
      top_logprobs: nullable(Type.Integer({ minimum: 0, maximum: 20 })),
      // Without meaning for a local server: accepted and ignored (the README lists them).
      include: nullable(Type.Array(Type.String())),
      prompt_cache_key: nullable(Type.String()),
      prompt_cache_retention: nullable(Type.String()),
      safety_identifier: nullable(Type.String()),
      service_tier: nullable(Type.String()),
      user: nullable(Type.String()),
      context_management: nullable(Type.Unknown()),
      moderation: nullable(Type.Unknown()),
      client_metadata: nullable(Type.Unknown()),
    },
    { additionalProperties: false },
  );
}
export type ResponseCreateBody = Static<ReturnType<typeof responseCreateBody>>;
/** An input item, tool or tool choice: an object with a type, read field by field by the handler. */
export type ResponseItem = { type?: string } & Record<string, unknown>;

export const ResponseIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const RetrieveQuery = Type.Object(
  {
    include: Type.Optional(Type.Unknown()),
    'include[]': Type.Optional(Type.Unknown()),
    stream: Type.Optional(Type.Enum(['false'])),
    include_obfuscation: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const InputItemsQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
    order: Type.Optional(Type.Enum(['asc', 'desc'])),
    after: Type.Optional(Type.String({ maxLength: 200 })),
    include: Type.Optional(Type.Unknown()),
    'include[]': Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
