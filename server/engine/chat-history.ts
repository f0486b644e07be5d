import type { ChatHistoryItem, ChatModelResponse } from 'node-llama-cpp';
import type { ChatTurn } from './generation.ts';

/**
 * Dialect-neutral turns → node-llama-cpp's chat history, which the model's chat wrapper formats in its own
 * template (tool calls and their results included, in the format the model was trained on).
 * A tool call's result is the `tool` turn that answers its id; the calls of one assistant turn and
 * their results form one function-calling chunk.
 */
export function toChatHistory(turns: readonly ChatTurn[]): ChatHistoryItem[] {
  const results = new Map<string, string>();
  for (const turn of turns) if (turn.role === 'tool') results.set(turn.toolCallId, turn.content);

  const history: ChatHistoryItem[] = [];
  for (const turn of turns) {
    switch (turn.role) {
      case 'system':
      case 'developer':
        history.push({ type: 'system', text: turn.content });
        break;
      case 'user':
        history.push({ type: 'user', text: turn.content });
        break;
      case 'tool':
        // Placed beside the call it answers (below); a result with no call is kept as context.
        if (!turns.some((t) => t.role === 'assistant' && t.toolCalls?.some((c) => c.id === turn.toolCallId)))
          history.push({ type: 'user', text: turn.content });
        break;
      case 'assistant': {
        const response: ChatModelResponse['response'] = [];
        if (turn.reasoning)
          response.push({ type: 'segment', segmentType: 'thought', text: turn.reasoning, ended: true });
        if (turn.content !== '') response.push(turn.content);
        turn.toolCalls?.forEach((call, index) =>
          response.push({
            type: 'functionCall',
            name: call.name,
            params: parseArguments(call.arguments),
            result: results.get(call.id) ?? '',
            startsNewChunk: index === 0,
          }),
        );
        // Consecutive model turns (a tool loop: call, then answer) continue one model response.
        const last = history.at(-1);
        if (last?.type === 'model' && endsWithCall(last)) last.response.push(...response);
        else history.push({ type: 'model', response });
      }
    }
  }
  // An empty model turn at the end asks for the next reply (unless the client is continuing one, or the
  // last turn is a tool result: the model answers in the turn that made the call).
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

function endsWithCall(item: ChatModelResponse): boolean {
  const last = item.response.at(-1);
  return typeof last === 'object' && last.type === 'functionCall';
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
