import type { ChatHistoryItem, ChatModelResponse, ChatWrapper } from 'node-llama-cpp';
import type { ChatTurn } from './generation.ts';

/**
 * Dialect-neutral turns → node-llama-cpp's chat history, which the model's chat wrapper formats in its own
 * template (tool calls and their results included, in the format the model was trained on).
 * A tool call's result is the `tool` turn that answers its id; the calls of one assistant turn and
 * their results form one function-calling chunk.
 * A tool result that is JSON text goes in as its value: node-llama-cpp writes results as JSON (a string in
 * quotes), so the text itself would reach the model as an escaped string literal. An assistant turn's reasoning
 * goes in as its thought only for a wrapper with thought segments: the others would write it as answer text.
 */
export function toChatHistory(turns: readonly ChatTurn[], wrapper: ChatWrapper): ChatHistoryItem[] {
  const thoughts = wrapper.settings.segments?.thought != null;
  const results = new Map<string, unknown>();
  for (const turn of turns) if (turn.role === 'tool') results.set(turn.toolCallId, parseJson(turn.content));

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
        if (turn.reasoning && thoughts)
          response.push({ type: 'segment', segmentType: 'thought', text: turn.reasoning, ended: true });
        if (turn.content !== '') response.push(turn.content);
        turn.toolCalls?.forEach((call, index) =>
          response.push({
            type: 'functionCall',
            name: call.name,
            params: parseJson(call.arguments),
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
