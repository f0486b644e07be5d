import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';

/**
 * A server-sent events response: `data: <json>` frames, ended with `data: [DONE]` as OpenAI does.
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

  send(data: unknown): void {
    if (!this.#stream.writableEnded) this.#stream.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    if (this.#stream.writableEnded) return;
    this.#stream.end('data: [DONE]\n\n');
  }
}
