import { randomBytes } from 'node:crypto';
import type { ChatTurn, ToolCall } from '../../engine/generation.ts';
import { invalidRequest } from '../../errors.ts';
import type { ResponseItem } from './responses-schema.ts';

/** An id in OpenAI's style: a prefix and 48 hex digits (resp_…, msg_…, fc_…, rs_…). */
export function itemId(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

const itemIdPrefix: Record<string, string> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  reasoning: 'rs',
};

/**
 * A request's input as the items OpenAI lists for it: a string is one user message; every item gets an id
 * and a type, so /input_items can list them and a continuation can read them back.
 */
export function normalizeInput(input: string | readonly ResponseItem[]): ResponseItem[] {
  const items = typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : input;
  return items.map((item, index) => {
    const type = item.type ?? (typeof item.role === 'string' ? 'message' : undefined);
    const prefix = type === undefined ? undefined : itemIdPrefix[type];
    if (prefix === undefined)
      throw invalidRequest(
        type === undefined
          ? 'An input item needs a type.'
          : `Input items of type '${type}' are not supported: LMX takes message, function_call, function_call_output and reasoning items.`,
        `input[${index}].type`,
        'unsupported_input_item',
      );
    const id = typeof item.id === 'string' ? item.id : itemId(prefix);
    // As OpenAI lists a message: its text as a content part.
    if (type === 'message' && typeof item.content === 'string')
      return {
        ...item,
        type,
        id,
        content: [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: item.content }],
      };
    return { ...item, type, id };
  });
}

/**
 * Input items → the generation core's chat turns. Reasoning, an assistant message and function calls that
 * follow one another are one assistant turn (as the model produced them); a function call's output is the
 * tool turn answering its call_id.
 */
export function toChatTurns(instructions: string | undefined, items: readonly ResponseItem[]): ChatTurn[] {
  const turns: ChatTurn[] = instructions ? [{ role: 'system', content: instructions }] : [];
  let open: AssistantTurn | undefined;
  /** The assistant turn the item belongs to: the open one if it may go on, else a new one. */
  const assistantTurn = (goesOn: (turn: AssistantTurn) => boolean) => {
    if (open && goesOn(open)) return open;
    open = { role: 'assistant', content: '', reasoning: '', toolCalls: [] };
    turns.push(open);
    return open;
  };
  const saidNothingYet = (turn: AssistantTurn) => turn.content === '' && turn.toolCalls.length === 0;
  items.forEach((item, index) => {
    const where = `input[${index}]`;
    switch (item.type) {
      case 'message': {
        const role = item.role;
        const content = messageText(item.content, `${where}.content`);
        if (role === 'assistant') {
          assistantTurn(saidNothingYet).content = content;
          return;
        }
        if (role !== 'user' && role !== 'system' && role !== 'developer')
          throw invalidRequest(
            `Invalid value for '${where}.role': must be one of 'user', 'assistant', 'system', 'developer'.`,
            `${where}.role`,
            'invalid_value',
          );
        open = undefined;
        turns.push({ role, content });
        return;
      }
      case 'reasoning':
        assistantTurn(saidNothingYet).reasoning += reasoningText(item);
        return;
      case 'function_call':
        assistantTurn(() => true).toolCalls.push({
          id: requiredString(item.call_id, `${where}.call_id`),
          name: requiredString(item.name, `${where}.name`),
          arguments: requiredString(item.arguments, `${where}.arguments`),
        });
        return;
      case 'function_call_output':
        open = undefined;
        turns.push({
          role: 'tool',
          toolCallId: requiredString(item.call_id, `${where}.call_id`),
          content:
            typeof item.output === 'string' ? item.output : messageText(item.output, `${where}.output`),
        });
        return;
    }
  });
  return turns;
}

interface AssistantTurn {
  role: 'assistant';
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
}

/** The text of a message's content: a string, or parts (input_text, output_text, refusal). */
function messageText(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content))
    throw invalidRequest(
      `Invalid value for '${where}': must be a string or an array of content parts.`,
      where,
    );
  return content
    .map((part: unknown, index) => {
      const { type, text, refusal } = (part ?? {}) as Record<string, unknown>;
      const param = `${where}[${index}]`;
      if ((type === 'input_text' || type === 'output_text') && typeof text === 'string') return text;
      if (type === 'refusal' && typeof refusal === 'string') return refusal;
      if (type === 'input_image' || type === 'input_file' || type === 'input_audio')
        throw invalidRequest(
          `This model cannot take ${type} content: it reads text only.`,
          param,
          'unsupported_content',
        );
      throw invalidRequest(`Unknown content part type '${String(type)}'.`, `${param}.type`);
    })
    .join('');
}

/** A reasoning item sent back: its reasoning_text content, else its summary (encrypted content is OpenAI's). */
function reasoningText(item: ResponseItem): string {
  const parts = [item.content, item.summary].find((list) => Array.isArray(list) && list.length > 0);
  return ((parts as { text?: unknown }[] | undefined) ?? [])
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .join('');
}

function requiredString(value: unknown, where: string): string {
  if (typeof value !== 'string')
    throw invalidRequest(`Missing required parameter: '${where}'.`, where, 'missing_required_parameter');
  return value;
}
