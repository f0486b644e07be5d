import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';

/**
 * A server-sent events response: `data: <json>` frames (named with `event:` where the dialect names them),
 * ended with `data: [DONE]` as OpenAI does, or after the last event.
 * The body is a stream handed to Fastify, so its hooks (logging, metrics) see the whole response.
 */
export class SseStream {
  readonly #stream = new PassThrough();

  constructor(reply: FastifyReply) {
    reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      // No `connection: keep-alive`: Node decides, and honours a client's `Connection: close`.
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no');
    void reply.send(this.#stream);
  }

  /** One event; `event` names it (`event: <name>`), as Anthropic's named-event streams do. */
  send(data: unknown, event?: string): void {
    if (this.#stream.writableEnded) return;
    this.#stream.write(`${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends OpenAI's way, with `data: [DONE]`. */
  done(): void {
    this.end('data: [DONE]\n\n');
  }

  /** Ends after the last event (named-event streams have no [DONE]). */
  end(last = ''): void {
    if (!this.#stream.writableEnded) this.#stream.end(last);
  }
}
