import type { Static, TSchema } from 'typebox';
import Value from 'typebox/value';
import {
  checkConstraints,
  type ChatTurn,
  type GenerationConstraints,
  type SamplingOptions,
  type ToolCall,
} from '../../engine/generation.ts';
import { invalidRequest } from '../../errors.ts';
import {
  CustomTool,
  RedactedThinkingBlock,
  TextBlock,
  ThinkingBlock,
  ToolResultBlock,
  ToolUseBlock,
  type AnthropicMessage,
  type CountTokensBody,
  type MessagesBody,
} from './schema.ts';

/** An Anthropic request's system prompt and messages → the generation core's chat turns. */
export function toChatTurns(body: CountTokensBody): ChatTurn[] {
  const turns: ChatTurn[] = [];
  if (body.system !== undefined) {
    const system = typeof body.system === 'string' ? body.system : body.system.map((b) => b.text).join('\n');
    if (system !== '') turns.push({ role: 'system', content: system });
  }
  body.messages.forEach((message, index) => turns.push(...turnsOf(message, `messages.${index}`)));
  return turns;
}

function turnsOf(message: AnthropicMessage, path: string): ChatTurn[] {
  if (typeof message.content === 'string') return [{ role: message.role, content: message.content }];
  const texts: string[] = [];
  const thoughts: string[] = [];
  const calls: ToolCall[] = [];
  const results: ChatTurn[] = [];
  message.content.forEach((raw, index) => {
    const at = `${path}.content.${index}`;
    const allowed = message.role === 'assistant' ? assistantBlocks : userBlocks;
    if (!allowed.includes(raw.type)) refuseBlock(raw.type, message.role, at);
    switch (raw.type) {
      case 'text':
        texts.push(checked(TextBlock, raw, at).text);
        break;
      case 'thinking':
        thoughts.push(checked(ThinkingBlock, raw, at).thinking);
        break;
      case 'redacted_thinking':
        // Another model's encrypted thoughts: nothing this one can read.
        checked(RedactedThinkingBlock, raw, at);
        break;
      case 'tool_use': {
        const block = checked(ToolUseBlock, raw, at);
        calls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input) });
        break;
      }
      case 'tool_result': {
        const block = checked(ToolResultBlock, raw, at);
        results.push({ role: 'tool', toolCallId: block.tool_use_id, content: toolResultText(block, at) });
      }
    }
  });
  const text = texts.join('\n');
  if (message.role !== 'assistant')
    return [...results, ...(texts.length > 0 ? [{ role: message.role, content: text }] : [])];
  return [
    {
      role: 'assistant',
      content: text,
      reasoning: thoughts.length > 0 ? thoughts.join('\n') : undefined,
      toolCalls: calls.length > 0 ? calls : undefined,
    },
  ];
}

const assistantBlocks = ['text', 'thinking', 'redacted_thinking', 'tool_use'];
const userBlocks = ['text', 'tool_result'];
const unseeable = ['image', 'document'];

function refuseBlock(type: string, role: string, at: string): never {
  if (unseeable.includes(type))
    throw invalidRequest(`${at}: this model cannot take ${type} content: it reads text only.`, at);
  if ([...assistantBlocks, ...userBlocks].includes(type))
    throw invalidRequest(`${at}: a ${type} block cannot be in a ${role} message.`, at);
  throw invalidRequest(`${at}.type: content block type '${type}' is not supported.`, `${at}.type`);
}

function toolResultText(block: Static<typeof ToolResultBlock>, at: string): string {
  const content = block.content ?? '';
  if (typeof content === 'string') return content;
  return content
    .map((part, index) => {
      const partAt = `${at}.content.${index}`;
      if (part.type === 'text') return checked(TextBlock, part, partAt).text;
      return refuseBlock(part.type, 'tool_result', partAt);
    })
    .join('\n');
}

/** The value as its block schema types it, or a 400 naming the first wrong field. */
function checked<T extends TSchema>(schema: T, value: unknown, at: string): Static<T> {
  const [first] = Value.Errors(schema, value);
  if (!first) return value as Static<T>;
  const field = [at, ...first.instancePath.split('/').filter(Boolean)].join('.');
  const extra =
    first.keyword === 'additionalProperties' ? ` (${String(first.params.additionalProperties ?? '')})` : '';
  throw invalidRequest(`${field}: ${first.message}${extra}.`, field);
}

/** Tools, tool choice, structured output and thinking → the core's constraints (checked before anything runs). */
export function toConstraints(body: CountTokensBody): GenerationConstraints {
  const constraints: GenerationConstraints = {};
  const choice = body.tool_choice ?? { type: 'auto' };
  const tools = (body.tools ?? []).map((tool, index) => customTool(tool, `tools.${index}`));
  if (tools.length > 0) {
    if (choice.type === 'tool' && !tools.some((tool) => tool.name === choice.name))
      throw invalidRequest(`tool_choice names '${choice.name ?? ''}', which is not in tools.`, 'tool_choice');
    constraints.tools = {
      definitions: tools.map((tool, index) => ({
        name: tool.name,
        description: tool.description,
        parameters: tool.input_schema,
        parametersPath: `tools.${index}.input_schema`,
      })),
      choice:
        choice.type === 'any'
          ? 'required'
          : choice.type === 'tool'
            ? { name: choice.name ?? '' }
            : choice.type,
      parallel: choice.disable_parallel_tool_use !== true,
    };
  } else if (choice.type === 'any' || choice.type === 'tool') {
    throw invalidRequest(
      'tool_choice asks for a tool call, but the request declares no tools.',
      'tool_choice',
    );
  }
  const format = body.output_config?.format;
  if (format) {
    if (constraints.tools && constraints.tools.choice !== 'none')
      throw invalidRequest(
        'output_config.format together with tools is not supported.',
        'output_config.format',
      );
    constraints.output = { kind: 'json_schema', schema: format.schema };
  }
  if (body.thinking?.type === 'disabled') constraints.reasoningEffort = 'none';
  checkConstraints(constraints);
  return constraints;
}

function customTool(tool: unknown, at: string): Static<typeof CustomTool> {
  const type = (tool as { type?: unknown }).type;
  if (type != null && type !== 'custom')
    throw invalidRequest(
      `${at}: Anthropic's built-in tool '${String(type)}' is not supported; declare a client tool with input_schema.`,
      at,
    );
  return checked(CustomTool, tool, at);
}

/** Anthropic's sampling parameters → the core's (Anthropic's default temperature is 1, as OpenAI's). */
export function toSampling(body: MessagesBody): SamplingOptions {
  return {
    maxTokens: body.max_tokens,
    temperature: body.temperature ?? 1,
    topP: body.top_p,
    topK: body.top_k,
    stop: body.stop_sequences ?? [],
    presencePenalty: 0,
    frequencyPenalty: 0,
    ignoreEos: false,
  };
}
