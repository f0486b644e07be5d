import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { chatCompletionBody, type ChatCompletionBody, type ChatMessage } from './schema.ts';
import {
  checkConstraints,
  type ChatTurn,
  type GenerationConstraints,
  type ToolChoice,
  type TokenLogprob,
} from '../../engine/generation.ts';
import { respondWithGeneration, type ChoiceDelta, type ResponseShape } from './respond.ts';
import { samplingFromBody, unsupported } from './sampling.ts';
import type { InferenceRoutesOptions } from './options.ts';
import { invalidRequest } from '../../errors.ts';
import { functionCallShape, withFunctionsAsTools, withFunctionTurnsAsTools } from './legacy-functions.ts';

const chatShape: ResponseShape = {
  idPrefix: 'chatcmpl',
  object: 'chat.completion',
  chunkObject: 'chat.completion.chunk',
  choice: (result, finishReason, index) => ({
    index,
    message: {
      role: 'assistant',
      // OpenAI: null beside tool calls when the model said nothing else.
      content: result.toolCalls.length > 0 && result.text === '' ? null : result.text,
      refusal: null,
      ...(result.reasoning !== '' ? { reasoning_content: result.reasoning } : {}),
      ...(result.toolCalls.length > 0
        ? {
            tool_calls: result.toolCalls.map((call) => ({
              id: call.id,
              type: 'function',
              function: { name: call.name, arguments: call.arguments },
            })),
          }
        : {}),
    },
    logprobs: result.logprobs ? chatLogprobs(result.logprobs) : null,
    finish_reason: finishReason,
  }),
  chunkChoice: (delta, finishReason, index) => ({
    index,
    delta: finishReason ? {} : delta === undefined ? { role: 'assistant', content: '' } : chatDelta(delta),
    logprobs: delta && 'logprobs' in delta && delta.logprobs ? chatLogprobs(delta.logprobs) : null,
    finish_reason: finishReason,
  }),
};

/** OpenAI's choice.logprobs: each answer token with its log probability, bytes and top alternatives. */
function chatLogprobs(entries: readonly TokenLogprob[]): Record<string, unknown> {
  return {
    content: entries.map((entry) => ({
      token: entry.token,
      logprob: entry.logprob,
      bytes: entry.bytes,
      top_logprobs: entry.top.map(({ token, logprob, bytes }) => ({ token, logprob, bytes })),
    })),
    refusal: null,
  };
}

/** OpenAI's streamed delta: a tool call's first piece carries its id and name, the next ones argument text. */
function chatDelta(delta: ChoiceDelta): Record<string, unknown> {
  if ('text' in delta) return { content: delta.text };
  if ('reasoning' in delta) return { reasoning_content: delta.reasoning };
  const call = delta.toolCall;
  return {
    tool_calls: [
      call.id === undefined
        ? { index: call.index, function: { arguments: call.argumentsDelta } }
        : {
            index: call.index,
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.argumentsDelta },
          },
    ],
  };
}

export const chatCompletionsRoute: FastifyPluginAsyncTypebox<InferenceRoutesOptions> = async (
  app,
  options,
) => {
  app.post(
    '/chat/completions',
    { schema: { body: chatCompletionBody(options.limits) } },
    async (request, reply) => {
      const body = withFunctionsAsTools(request.body);
      if (body.top_logprobs != null && body.logprobs !== true)
        throw invalidRequest('top_logprobs needs logprobs: true', 'top_logprobs');
      return respondWithGeneration(
        request,
        reply,
        request.body.functions == null ? chatShape : functionCallShape(chatShape),
        {
          model: body.model,
          input: { kind: 'chat', messages: withFunctionTurnsAsTools(body.messages).map(toChatTurn) },
          sampling: {
            ...samplingFromBody(body, body.max_completion_tokens ?? body.max_tokens),
            logprobs: body.logprobs === true ? (body.top_logprobs ?? 0) : undefined,
          },
          constraints: constraintsOf(body),
          n: body.n ?? 1,
          stream: body.stream === true,
          includeUsage: body.stream_options?.include_usage === true,
        },
        options,
      );
    },
  );
};

function constraintsOf(body: ChatCompletionBody): GenerationConstraints {
  const constraints: GenerationConstraints = {};
  const requested = body.tool_choice ?? 'auto';
  // The tools tool_choice names: a named function, or allowed_tools (that subset, called as its mode says).
  let choice: ToolChoice;
  let named: string[] = [];
  if (typeof requested !== 'object') choice = requested;
  else if (requested.type === 'allowed_tools') {
    choice = requested.allowed_tools.mode;
    named = requested.allowed_tools.tools.map((tool) => tool.function.name);
  } else {
    choice = { name: requested.function.name };
    named = [choice.name];
  }
  if (body.tools != null && body.tools.length > 0) {
    const declared = body.tools.map((tool, index) => {
      if (tool.type !== 'function')
        throw invalidRequest(
          'Custom tools (free-form input) are not supported; declare a function tool.',
          `tools[${index}].type`,
        );
      return {
        name: tool.function.name,
        description: tool.function.description,
        parameters: tool.function.parameters,
        parametersPath: `tools[${index}].function.parameters`,
      };
    });
    for (const name of named)
      if (!declared.some((d) => d.name === name))
        throw invalidRequest(`tool_choice names '${name}', which is not in tools`, 'tool_choice');
    constraints.tools = {
      definitions: named.length > 0 ? declared.filter((d) => named.includes(d.name)) : declared,
      choice,
      parallel: body.parallel_tool_calls !== false,
    };
  } else if (choice === 'required' || typeof choice === 'object') {
    throw invalidRequest(
      'tool_choice asks for a tool call, but the request declares no tools',
      'tool_choice',
    );
  }
  const format = body.response_format;
  if (format?.type === 'json_object') constraints.output = { kind: 'json' };
  if (format?.type === 'json_schema')
    constraints.output = { kind: 'json_schema', schema: format.json_schema.schema ?? { type: 'object' } };
  if (constraints.output && constraints.tools && constraints.tools.choice !== 'none')
    unsupported('response_format', 'a structured output together with tools is not supported');
  if (body.reasoning_effort != null) constraints.reasoningEffort = body.reasoning_effort;
  // Schemas the grammar cannot enforce are refused before anything is generated or streamed.
  checkConstraints(constraints);
  return constraints;
}

function toChatTurn(message: ChatMessage, index: number): ChatTurn {
  const content = textOf(message, index);
  switch (message.role) {
    case 'tool':
    case 'function': // read as a tool turn first (withFunctionTurnsAsTools)
      if (message.tool_call_id == null)
        throw invalidRequest('a tool message needs tool_call_id', `messages[${index}].tool_call_id`);
      return { role: 'tool', toolCallId: message.tool_call_id, content };
    case 'assistant':
      return {
        role: 'assistant',
        content,
        reasoning: message.reasoning_content ?? undefined,
        toolCalls: message.tool_calls?.map((call) => ({
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
        })),
      };
    default:
      return { role: message.role, content };
  }
}

/** The text of a message; parts the model cannot take are refused with their path. */
function textOf(message: ChatMessage, index: number): string {
  const content = message.content;
  if (content == null) {
    // Only an assistant turn (beside its tool calls) may come without content.
    if (message.role === 'assistant') return '';
    throw invalidRequest(`a ${message.role} message needs content`, `messages[${index}].content`);
  }
  if (typeof content === 'string') return content;
  return content
    .map((part, partIndex) => {
      if (part.type === 'text' && typeof part.text === 'string') return part.text;
      if (part.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
      const param = `messages[${index}].content[${partIndex}]`;
      if (['image_url', 'input_audio', 'file', 'image', 'audio'].includes(part.type))
        throw invalidRequest(
          `This model cannot take ${part.type} content: it reads text only.`,
          param,
          'unsupported_content',
        );
      throw invalidRequest(`Unknown content part type '${part.type}'.`, `${param}.type`);
    })
    .join('');
}
