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

/**
 * A content part: text is taken; image, audio and file parts pass validation so the handler can say
 * that the model cannot take them (rather than a misleading "must be string").
 */
const ContentPart = Type.Object(
  {
    type: Type.String(),
    text: Type.Optional(Type.String()),
    refusal: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

const MessageContent = Type.Union([Type.String(), Type.Array(ContentPart), Type.Null()]);

const ToolCallObject = Type.Object(
  {
    id: Type.String(),
    type: Type.Optional(Type.String()),
    function: Type.Object({ name: Type.String(), arguments: Type.String() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

/** Messages accept what OpenAI's own responses contain, so a client can send a returned message back. */
const Message = Type.Object(
  {
    // 'function': the deprecated function-calling API's result turn (its `name` says which function).
    role: Type.Enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: Type.Optional(MessageContent),
    name: nullable(Type.String()),
    tool_calls: nullable(Type.Array(ToolCallObject)),
    tool_call_id: nullable(Type.String()),
    function_call: nullable(Type.Object({ name: Type.String(), arguments: Type.String() })),
    refusal: nullable(Type.String()),
    annotations: nullable(Type.Array(Type.Unknown())),
    audio: nullable(Type.Unknown()),
    reasoning_content: nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type ChatMessage = Static<typeof Message>;

const FunctionDefinition = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9_-]+$' }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    strict: nullable(Type.Boolean()),
  },
  { additionalProperties: false },
);

const FunctionTool = Type.Object(
  { type: Type.Literal('function'), function: FunctionDefinition },
  { additionalProperties: false },
);

/** OpenAI's free-form (grammar or text) tools: recognized, so the refusal can say what they are. */
const CustomTool = Type.Object({ type: Type.Literal('custom'), custom: Type.Unknown() });

/** The deprecated function-calling API's choice: `none`, `auto` or one function by name. */
const FunctionCallChoice = Type.Union([
  Type.Enum(['none', 'auto']),
  Type.Object({ name: Type.String() }, { additionalProperties: false }),
]);

const NamedFunction = Type.Object(
  { type: Type.Literal('function'), function: Type.Object({ name: Type.String() }) },
  { additionalProperties: false },
);

const ToolChoice = Type.Union([
  Type.Enum(['none', 'auto', 'required']),
  NamedFunction,
  // A subset of the declared tools, called as `mode` says.
  Type.Object(
    {
      type: Type.Literal('allowed_tools'),
      allowed_tools: Type.Object(
        { mode: Type.Enum(['auto', 'required']), tools: Type.Array(NamedFunction, { minItems: 1 }) },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
]);

const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Enum(['text', 'json_object']) }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('json_schema'),
      json_schema: Type.Object(
        {
          name: Type.String(),
          description: Type.Optional(Type.String()),
          schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          strict: nullable(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
]);

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
      Type.Object(
        { include_usage: Type.Optional(Type.Boolean()), include_obfuscation: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
    ),
    logit_bias: nullable(
      Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.Number({ minimum: -100, maximum: 100 })),
    ),
    user: nullable(Type.String()),
    // llama.cpp / vLLM extension: generate until max_tokens, whatever the model's end-of-text tokens say.
    ignore_eos: nullable(Type.Boolean()),
    // Up to the model's parallel sequences: checked in the handler, which knows the model.
    n: nullable(Type.Integer({ minimum: 1, maximum: 128 })),
  };
}

export function chatCompletionBody(limits: RequestLimits) {
  return Type.Object(
    {
      ...samplingProperties(limits),
      messages: Type.Array(Message, { minItems: 1, maxItems: limits.maxMessages }),
      max_completion_tokens: nullable(Type.Integer({ minimum: 1, maximum: limits.maxTokens })),
      logprobs: nullable(Type.Boolean()),
      top_logprobs: nullable(Type.Integer({ minimum: 0, maximum: 20 })),
      response_format: nullable(ResponseFormat),
      tools: nullable(Type.Array(Type.Union([FunctionTool, CustomTool]), { maxItems: 128 })),
      tool_choice: nullable(ToolChoice),
      parallel_tool_calls: nullable(Type.Boolean()),
      // Deprecated by OpenAI for tools/tool_choice, still documented and sent by older clients.
      functions: nullable(Type.Array(FunctionDefinition, { minItems: 1, maxItems: 128 })),
      function_call: nullable(FunctionCallChoice),
      reasoning_effort: nullable(Type.Enum(['none', 'minimal', 'low', 'medium', 'high'])),
      // Documented by OpenAI, without meaning for a local server: accepted and ignored (README lists them).
      store: nullable(Type.Boolean()),
      metadata: nullable(Type.Record(Type.String(), Type.String())),
      service_tier: nullable(Type.String()),
      verbosity: nullable(Type.Enum(['low', 'medium', 'high'])),
      prompt_cache_key: nullable(Type.String()),
      safety_identifier: nullable(Type.String()),
      modalities: nullable(Type.Array(Type.String())),
      prediction: nullable(Type.Unknown()),
      audio: nullable(Type.Unknown()),
      web_search_options: nullable(Type.Unknown()),
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
      // Legacy completions: the count of top alternatives per token (OpenAI's maximum is 5).
      logprobs: nullable(Type.Integer({ minimum: 0, maximum: 20 })),
      echo: nullable(Type.Boolean()),
      suffix: nullable(Type.String()),
      best_of: nullable(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  );
}
export type CompletionBody = Static<ReturnType<typeof completionBody>>;

export const ModelParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 512 }) });
