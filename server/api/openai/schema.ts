import Type, { type Static, type TSchema } from 'typebox';

/**
 * Request schemas of the OpenAI-compatible routes: one schema is both the validation and the type.
 * Unknown parameters are refused (additionalProperties: false) rather than silently ignored.
 * Optional parameters also accept null, which many clients send for "not set".
 */

export interface RequestLimits {
  maxMessages: number;
  maxTokens: number;
  maxInputs: number;
  maxInputTokens: number;
}

const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

const TextPart = Type.Object(
  { type: Type.Literal('text'), text: Type.String() },
  { additionalProperties: false },
);

const MessageContent = Type.Union([Type.String(), Type.Array(TextPart, { minItems: 1 })]);

const Message = Type.Object(
  {
    role: Type.Enum(['system', 'developer', 'user', 'assistant']),
    content: MessageContent,
    name: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ChatMessage = Static<typeof Message>;

const StopSequences = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Array(Type.String({ minLength: 1 }), { maxItems: 16 }),
]);

/** Sampling parameters shared by chat and text completions. */
function samplingProperties(limits: RequestLimits) {
  const tokenLimit = Type.Integer({ minimum: 1, maximum: limits.maxTokens });
  return {
    model: Type.String({ minLength: 1, maxLength: 512 }),
    max_tokens: nullable(tokenLimit),
    temperature: nullable(Type.Number({ minimum: 0, maximum: 2 })),
    top_p: nullable(Type.Number({ minimum: 0, maximum: 1 })),
    top_k: nullable(Type.Integer({ minimum: 0 })),
    seed: nullable(Type.Integer()),
    stop: nullable(StopSequences),
    presence_penalty: nullable(Type.Number({ minimum: -2, maximum: 2 })),
    frequency_penalty: nullable(Type.Number({ minimum: -2, maximum: 2 })),
    stream: nullable(Type.Boolean()),
    stream_options: nullable(
      Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    ),
    user: nullable(Type.String()),
    // llama.cpp / vLLM extension: generate until max_tokens, whatever the model's end-of-text tokens say.
    ignore_eos: nullable(Type.Boolean()),
    // Accepted only at the value that means "the default behaviour"; anything else is refused in the handler.
    n: nullable(Type.Integer({ minimum: 1 })),
    logprobs: nullable(Type.Union([Type.Boolean(), Type.Integer({ minimum: 0 })])),
  };
}

export function chatCompletionBody(limits: RequestLimits) {
  return Type.Object(
    {
      ...samplingProperties(limits),
      messages: Type.Array(Message, { minItems: 1, maxItems: limits.maxMessages }),
      max_completion_tokens: nullable(Type.Integer({ minimum: 1, maximum: limits.maxTokens })),
      top_logprobs: nullable(Type.Integer({ minimum: 0 })),
      response_format: nullable(Type.Object({ type: Type.String() }, { additionalProperties: true })),
      tools: nullable(Type.Array(Type.Unknown())),
      tool_choice: nullable(Type.Unknown()),
    },
    { additionalProperties: false },
  );
}
export type ChatCompletionBody = Static<ReturnType<typeof chatCompletionBody>>;

export function completionBody(limits: RequestLimits) {
  return Type.Object(
    {
      ...samplingProperties(limits),
      prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]),
      echo: nullable(Type.Boolean()),
      suffix: nullable(Type.String()),
      best_of: nullable(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  );
}
export type CompletionBody = Static<ReturnType<typeof completionBody>>;

export const ModelParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 512 }) });
