import type { ChatCompletionBody, ChatMessage } from './schema.ts';
import type { ResponseShape } from './respond.ts';
import { invalidRequest } from '../../errors.ts';

/**
 * OpenAI's deprecated function-calling API (`functions`, `function_call`, role `function`), which older
 * clients still send: read as tools with one call at most, answered in its own shape (`message.function_call`,
 * `finish_reason: "function_call"`). Turns that carry it are read as tool calls and results whichever API
 * the request uses.
 */

/** The request with `functions`/`function_call` as `tools`/`tool_choice` (one call, as that API makes). */
export function withFunctionsAsTools(body: ChatCompletionBody): ChatCompletionBody {
  if (body.functions == null) {
    if (body.function_call != null && body.function_call !== 'none' && body.function_call !== 'auto')
      throw invalidRequest(
        'function_call names a function, but the request declares no functions',
        'function_call',
      );
    return body;
  }
  if (body.tools != null || body.tool_choice != null)
    throw invalidRequest(
      'Use tools and tool_choice, or the deprecated functions and function_call, not both.',
      'functions',
    );
  const choice = body.function_call;
  return {
    ...body,
    tools: body.functions.map((definition) => ({ type: 'function' as const, function: definition })),
    tool_choice:
      choice == null || typeof choice === 'string'
        ? (choice ?? 'auto')
        : { type: 'function', function: { name: choice.name } },
    parallel_tool_calls: false,
  };
}

/** An assistant `function_call` as a tool call, and a `function` turn as the result of the latest such call. */
export function withFunctionTurnsAsTools(messages: readonly ChatMessage[]): ChatMessage[] {
  let lastCall: { id: string; name: string } | undefined;
  return messages.map((message, index) => {
    if (message.role === 'assistant' && message.function_call != null && message.tool_calls == null) {
      lastCall = { id: `call_function_${index}`, name: message.function_call.name };
      return {
        ...message,
        function_call: undefined,
        tool_calls: [{ id: lastCall.id, type: 'function', function: message.function_call }],
      };
    }
    if (message.role !== 'function') return message;
    if (message.name == null)
      throw invalidRequest('a function message needs name', `messages[${index}].name`);
    // A result whose call is not the latest function_call of that name is kept as context (toChatHistory).
    const answers = lastCall?.name === message.name ? lastCall.id : `unanswered_${index}`;
    return { ...message, role: 'tool', tool_call_id: answers };
  });
}

/** The chat shape answering in the deprecated API's form: one `function_call`, not `tool_calls`. */
export function functionCallShape(shape: ResponseShape): ResponseShape {
  return {
    ...shape,
    choice: (result, finishReason, index) =>
      asFunctionCall(shape.choice(result, finishReason, index), 'message'),
    chunkChoice: (delta, finishReason, index) =>
      asFunctionCall(shape.chunkChoice(delta, finishReason, index), 'delta'),
  };
}

/** A choice whose `message` (or streamed `delta`) has its first tool call as `function_call`. */
function asFunctionCall(choice: Record<string, unknown>, part: 'message' | 'delta'): Record<string, unknown> {
  const { tool_calls: calls, ...rest } = choice[part] as { tool_calls?: { function: unknown }[] };
  return {
    ...choice,
    [part]: calls ? { ...rest, function_call: calls[0]!.function } : rest,
    finish_reason: choice.finish_reason === 'tool_calls' ? 'function_call' : choice.finish_reason,
  };
}
