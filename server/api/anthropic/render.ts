import type { GenerationResult } from '../../engine/generation.ts';

/** What every message of one request shares: its id and the model that answered. */
export interface MessageHeader {
  id: string;
  model: string;
  /** thinking.display 'omitted': thinking blocks come back empty (as Anthropic sends them then). */
  omitThinking: boolean;
}

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';

export function stopReason(result: GenerationResult): StopReason {
  if (result.cause === 'tool_calls') return 'tool_use';
  if (result.cause === 'length' || result.cause === 'timeout') return 'max_tokens';
  return result.stopSequence === undefined ? 'end_turn' : 'stop_sequence';
}

/**
 * Anthropic's usage: input_tokens are the prompt tokens evaluated now, cache_read_input_tokens those the
 * prompt cache already held (their sum is the whole prompt, as in Anthropic's API).
 */
export function usageOf(result: GenerationResult) {
  return {
    input_tokens: result.promptTokens - result.cachedPromptTokens,
    output_tokens: result.completionTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: result.cachedPromptTokens,
    output_tokens_details: { thinking_tokens: result.reasoningTokens },
  };
}

/** A whole (not streamed) message: thinking, then text, then tool calls, as the model produced them. */
export function renderMessage(header: MessageHeader, result: GenerationResult) {
  const content: Record<string, unknown>[] = [];
  if (result.reasoning !== '')
    content.push({ type: 'thinking', thinking: header.omitThinking ? '' : result.reasoning, signature: '' });
  if (result.text !== '') content.push({ type: 'text', text: result.text, citations: null });
  for (const call of result.toolCalls)
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.name,
      input: JSON.parse(call.arguments) as unknown,
    });
  return {
    ...messageStart(header),
    content,
    stop_reason: stopReason(result),
    stop_sequence: result.stopSequence ?? null,
    usage: usageOf(result),
  };
}

/** The message as a stream opens it: no content yet, and no usage until message_delta. */
export function messageStart(header: MessageHeader) {
  return {
    id: header.id,
    type: 'message',
    role: 'assistant',
    model: header.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}
