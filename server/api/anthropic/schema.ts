import Type, { type Static, type TSchema } from 'typebox';
import type { RequestLimits } from '../openai/schema.ts';

/**
 * Request schemas of Anthropic's Messages API. Top-level parameters are a closed list: those that only
 * concern pricing, caching or accounting are accepted (and ignored), anything else is refused, so a
 * feature that would change the answer (mcp_servers, container, …) is never silently dropped.
 * Content blocks and tools pass a loose check here; messages.ts checks each against its own schema
 * below, so an error names the block and its field.
 */

const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

/** Prompt-caching hints: LMX caches every prompt's prefix by itself, so they change nothing. */
const CacheControl = nullable(
  Type.Object(
    { type: Type.Literal('ephemeral'), ttl: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
);

export const TextBlock = Type.Object(
  {
    type: Type.Literal('text'),
    text: Type.String(),
    cache_control: CacheControl,
    citations: nullable(Type.Array(Type.Unknown())),
  },
  { additionalProperties: false },
);

export const ToolUseBlock = Type.Object(
  {
    type: Type.Literal('tool_use'),
    id: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1 }),
    input: Type.Record(Type.String(), Type.Unknown()),
    cache_control: CacheControl,
    caller: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export const ToolResultBlock = Type.Object(
  {
    type: Type.Literal('tool_result'),
    tool_use_id: Type.String({ minLength: 1 }),
    content: Type.Optional(
      Type.Union([
        Type.String(),
        Type.Array(Type.Object({ type: Type.String() }, { additionalProperties: true })),
      ]),
    ),
    is_error: Type.Optional(Type.Boolean()),
    cache_control: CacheControl,
  },
  { additionalProperties: false },
);

/** Thoughts sent back; the signature of Anthropic's own models means nothing here. */
export const ThinkingBlock = Type.Object(
  {
    type: Type.Literal('thinking'),
    thinking: Type.String(),
    signature: Type.Optional(Type.String()),
    cache_control: CacheControl,
  },
  { additionalProperties: false },
);

export const RedactedThinkingBlock = Type.Object(
  { type: Type.Literal('redacted_thinking'), data: Type.String(), cache_control: CacheControl },
  { additionalProperties: false },
);

const LooseBlock = Type.Object({ type: Type.String() }, { additionalProperties: true });

const Message = Type.Object(
  {
    role: Type.Enum(['user', 'assistant', 'system']),
    content: Type.Union([Type.String(), Type.Array(LooseBlock)]),
  },
  { additionalProperties: false },
);
export type AnthropicMessage = Static<typeof Message>;

/** A client tool: name, description, the JSON schema of its input. */
export const CustomTool = Type.Object(
  {
    type: nullable(Type.Literal('custom')),
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9_-]+$' }),
    description: Type.Optional(Type.String()),
    input_schema: Type.Record(Type.String(), Type.Unknown()),
    cache_control: CacheControl,
    strict: Type.Optional(Type.Boolean()),
    // Hints about how Anthropic's servers load or stream a tool; the call the model makes is the same.
    defer_loading: Type.Optional(Type.Boolean()),
    eager_input_streaming: nullable(Type.Boolean()),
    input_examples: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
    allowed_callers: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type CustomToolParam = Static<typeof CustomTool>;

const LooseTool = Type.Object({ type: nullable(Type.String()) }, { additionalProperties: true });

const ToolChoice = Type.Object(
  {
    type: Type.Enum(['auto', 'any', 'tool', 'none']),
    name: Type.Optional(Type.String()),
    disable_parallel_tool_use: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const Thinking = Type.Object(
  {
    type: Type.Enum(['enabled', 'disabled', 'adaptive', 'between_tools']),
    budget_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
    display: nullable(Type.Enum(['summarized', 'omitted'])),
  },
  { additionalProperties: false },
);

const OutputConfig = Type.Object(
  {
    // How hard Anthropic's models think; a local model keeps its chat wrapper's own default.
    effort: nullable(Type.Enum(['low', 'medium', 'high', 'xhigh', 'max'])),
    format: nullable(
      Type.Object(
        { type: Type.Literal('json_schema'), schema: Type.Record(Type.String(), Type.Unknown()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** What the prompt is made of: shared by /v1/messages and /v1/messages/count_tokens. */
function promptProperties(limits: RequestLimits) {
  return {
    model: Type.String({ minLength: 1, maxLength: 512 }),
    messages: Type.Array(Message, { minItems: 1, maxItems: limits.maxMessages }),
    system: Type.Optional(Type.Union([Type.String(), Type.Array(TextBlock)])),
    tools: Type.Optional(Type.Array(LooseTool, { maxItems: 128 })),
    tool_choice: Type.Optional(ToolChoice),
    thinking: Type.Optional(Thinking),
    output_config: Type.Optional(OutputConfig),
    // Accepted and ignored: caching, pricing, accounting and routing hints of Anthropic's service.
    cache_control: CacheControl,
    speed: nullable(Type.Enum(['standard', 'fast'])),
    user_profile_id: Type.Optional(Type.String()),
    workspace_id: Type.Optional(Type.String()),
    // Claude Code sends it and cannot be told not to; LMX never edits a context (a prompt past the
    // model's context is refused instead).
    context_management: nullable(Type.Unknown()),
  };
}

export function messagesBody(limits: RequestLimits) {
  return Type.Object(
    {
      ...promptProperties(limits),
      max_tokens: Type.Integer({ minimum: 1, maximum: limits.maxTokens }),
      stream: Type.Optional(Type.Boolean()),
      temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      top_k: Type.Optional(Type.Integer({ minimum: 0 })),
      stop_sequences: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 16 })),
      metadata: Type.Optional(
        Type.Object({ user_id: nullable(Type.String()) }, { additionalProperties: false }),
      ),
      service_tier: Type.Optional(Type.Enum(['auto', 'standard_only'])),
      inference_geo: nullable(Type.String()),
      diagnostics: nullable(Type.Unknown()),
    },
    { additionalProperties: false },
  );
}
export type MessagesBody = Static<ReturnType<typeof messagesBody>>;

export function countTokensBody(limits: RequestLimits) {
  return Type.Object(promptProperties(limits), { additionalProperties: false });
}
export type CountTokensBody = Static<ReturnType<typeof countTokensBody>>;
