import type { ToolCallDelta } from '../../engine/generation.ts';
import { itemId } from './responses-input.ts';

export type OutputItem = Record<string, unknown> & { type: string; id: string };
export type ResponseEvent = Record<string, unknown> & { type: string; sequence_number: number };

type OpenItem =
  | { type: 'message'; item: OutputItem; text: string }
  | { type: 'reasoning'; item: OutputItem; text: string }
  | { type: 'function_call'; item: OutputItem; text: string; callIndex: number };

/**
 * A response's output items, built from the generation's pieces as they come (streamed or, whole, at the
 * end), and the streaming events that say so, in the order the SDK's responses.stream() accumulates them:
 * output_item.added → content_part.added → deltas → …done → content_part.done → output_item.done.
 * One builder per response; it numbers every event it emits (sequence_number).
 */
export class ResponseOutputBuilder {
  readonly items: OutputItem[] = [];
  #open: OpenItem | undefined;
  #sequence = 0;

  constructor(private readonly emit: (event: ResponseEvent) => void = () => undefined) {}

  /** Any event of this response, numbered. */
  event(type: string, fields: Record<string, unknown> = {}): void {
    this.emit({ type, sequence_number: this.#sequence++, ...fields });
  }

  text(delta: string): void {
    const open = this.#openOf('message');
    open.text += delta;
    this.event('response.output_text.delta', { ...this.#where(open), content_index: 0, delta, logprobs: [] });
  }

  reasoning(delta: string): void {
    const open = this.#openOf('reasoning');
    open.text += delta;
    this.event('response.reasoning_text.delta', { ...this.#where(open), content_index: 0, delta });
  }

  toolCall(delta: ToolCallDelta): void {
    let open = this.#open;
    if (open?.type !== 'function_call' || open.callIndex !== delta.index) {
      this.#close('completed');
      const item = {
        type: 'function_call',
        id: itemId('fc'),
        call_id: delta.id ?? itemId('call'),
        name: delta.name ?? '',
        arguments: '',
        status: 'in_progress',
      };
      open = { type: 'function_call', item, text: '', callIndex: delta.index };
      this.#add(open);
    }
    open.text += delta.argumentsDelta;
    this.event('response.function_call_arguments.delta', {
      ...this.#where(open),
      delta: delta.argumentsDelta,
    });
  }

  /** Closes the last item; a response with nothing to show still has its (empty) message. */
  finish(status: 'completed' | 'incomplete'): void {
    if (!this.items.some((item) => item.type === 'message' || item.type === 'function_call'))
      this.#openOf('message');
    this.#close(status);
  }

  /** The answer's text, as the SDK's output_text: every output_text part, in order. */
  get outputText(): string {
    return this.items
      .filter((item) => item.type === 'message')
      .flatMap((item) => item.content as { text: string }[])
      .map((part) => part.text)
      .join('');
  }

  #openOf(type: 'message' | 'reasoning'): OpenItem {
    if (this.#open?.type === type) return this.#open;
    this.#close('completed');
    const open: OpenItem =
      type === 'message'
        ? {
            type,
            text: '',
            item: { type, id: itemId('msg'), status: 'in_progress', role: 'assistant', content: [] },
          }
        : { type, text: '', item: { type, id: itemId('rs'), summary: [], content: [] } };
    this.#add(open);
    this.event('response.content_part.added', {
      ...this.#where(open),
      content_index: 0,
      part: emptyPart(type),
    });
    return open;
  }

  #add(open: OpenItem): void {
    this.#open = open;
    this.items.push(open.item);
    this.event('response.output_item.added', { output_index: this.items.length - 1, item: { ...open.item } });
  }

  #close(status: 'completed' | 'incomplete'): void {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    const where = this.#where(open);
    const item = open.item;
    if (open.type === 'function_call') {
      item.arguments = open.text;
      item.status = status;
      this.event('response.function_call_arguments.done', {
        ...where,
        name: item.name,
        arguments: open.text,
      });
    } else {
      const part =
        open.type === 'message'
          ? { type: 'output_text', text: open.text, annotations: [], logprobs: [] }
          : { type: 'reasoning_text', text: open.text };
      item.content = [part];
      if (open.type === 'message') {
        item.status = status;
        this.event('response.output_text.done', {
          ...where,
          content_index: 0,
          text: open.text,
          logprobs: [],
        });
      } else {
        this.event('response.reasoning_text.done', { ...where, content_index: 0, text: open.text });
      }
      this.event('response.content_part.done', { ...where, content_index: 0, part });
    }
    this.event('response.output_item.done', { output_index: where.output_index, item: { ...item } });
  }

  #where(open: OpenItem): { item_id: string; output_index: number } {
    return { item_id: open.item.id, output_index: this.items.indexOf(open.item) };
  }
}

function emptyPart(type: 'message' | 'reasoning') {
  return type === 'message'
    ? { type: 'output_text', text: '', annotations: [], logprobs: [] }
    : { type: 'reasoning_text', text: '' };
}
