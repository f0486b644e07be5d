import type { FastifyReply } from 'fastify';
import type { GenerationResult } from '../../engine/generation.ts';
import type { ApiError } from '../../errors.ts';
import type { ChoiceDelta } from '../openai/respond.ts';
import { SseStream } from '../openai/sse.ts';
import { anthropicErrorBody } from './errors.ts';
import { messageStart, stopReason, usageOf, type MessageHeader } from './render.ts';

type BlockKind = 'text' | 'thinking' | 'tool_use';

/**
 * One streamed message in Anthropic's events, as the SDK's messages.stream() reads them: message_start
 * and a ping, then per block content_block_start, its deltas (text_delta, thinking_delta,
 * input_json_delta) and content_block_stop, then message_delta (stop reason, usage) and message_stop;
 * an `error` event if the run fails after the stream has opened.
 */
export class MessageEventStream {
  readonly #sse: SseStream;
  readonly #header: MessageHeader;
  #open: BlockKind | undefined;
  #blocks = 0;

  constructor(reply: FastifyReply, header: MessageHeader) {
    this.#header = header;
    this.#sse = new SseStream(reply);
    this.#event('message_start', { message: messageStart(header) });
    this.#event('ping', {});
  }

  delta(delta: ChoiceDelta): void {
    if ('text' in delta) {
      this.#into('text', { type: 'text', text: '', citations: null });
      this.#blockDelta({ type: 'text_delta', text: delta.text });
    } else if ('reasoning' in delta) {
      this.#into('thinking', { type: 'thinking', thinking: '', signature: '' });
      if (!this.#header.omitThinking) this.#blockDelta({ type: 'thinking_delta', thinking: delta.reasoning });
    } else {
      const call = delta.toolCall;
      if (call.id !== undefined)
        this.#into('tool_use', { type: 'tool_use', id: call.id, name: call.name, input: {} });
      if (call.argumentsDelta !== '')
        this.#blockDelta({ type: 'input_json_delta', partial_json: call.argumentsDelta });
    }
  }

  finish(result: GenerationResult): void {
    this.#closeBlock();
    this.#event('message_delta', {
      delta: { stop_reason: stopReason(result), stop_sequence: result.stopSequence ?? null },
      usage: usageOf(result),
    });
    this.#event('message_stop', {});
    this.#sse.end();
  }

  fail(error: ApiError, requestId: string): void {
    this.#sse.send(anthropicErrorBody(error, requestId), 'error');
    this.#sse.end();
  }

  /** Makes `block` the open one: the text and thinking pieces in a row share one block, a new call starts one. */
  #into(kind: BlockKind, start: Record<string, unknown>): void {
    if (this.#open === kind && kind !== 'tool_use') return;
    this.#closeBlock();
    this.#open = kind;
    this.#event('content_block_start', { index: this.#blocks, content_block: start });
  }

  #blockDelta(delta: Record<string, unknown>): void {
    this.#event('content_block_delta', { index: this.#blocks, delta });
  }

  #closeBlock(): void {
    if (!this.#open) return;
    this.#event('content_block_stop', { index: this.#blocks });
    this.#open = undefined;
    this.#blocks++;
  }

  #event(type: string, data: Record<string, unknown>): void {
    this.#sse.send({ type, ...data }, type);
  }
}
