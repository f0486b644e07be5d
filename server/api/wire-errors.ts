/**
 * Errors raised before a request reaches a route — Node's HTTP parser (malformed requests, headers too
 * large, request timeouts), Fastify's router (a URL that does not decode, a parameter over the length limit)
 * and Node's `Expect` check — answered in OpenAI's error shape like every other error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { clientError } from '../errors.ts';

/** An HTTP/1.1 response, raw, for a socket no response object owns; the connection closes after it. */
export function rawErrorResponse(status: number, message: string, code: string): string {
  const body = JSON.stringify(clientError(status, message, code).toBody());
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Answers on a socket (unless part of an answer is already out), then closes it. */
export function refuseOnSocket(socket: Socket, status: number, message: string, code: string): void {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.end(rawErrorResponse(status, message, code));
  socket.destroySoon();
}

/** Fastify's clientErrorHandler: Node's parser errors and request timeouts. */
export function clientErrorHandler(this: { log: FastifyBaseLogger }, error: Error, socket: Socket): void {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'ECONNRESET' || socket.destroyed) return;
  this.log.debug({ code }, 'client error');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    refuseOnSocket(socket, 408, 'The request did not arrive in time.', 'request_timeout');
  else if (code === 'HPE_HEADER_OVERFLOW')
    refuseOnSocket(socket, 431, 'The request headers are too large.', 'request_header_fields_too_large');
  else refuseOnSocket(socket, 400, 'The request is not valid HTTP.', 'bad_request');
}

/** Fastify's frameworkErrors: router errors, before any route runs. */
export function frameworkErrors(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  const [status, message, code] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'A path parameter of the URL is too long.', 'uri_too_long']
      : error.code === 'FST_ERR_BAD_URL'
        ? [400, 'The URL is not valid (a malformed percent-encoding).', 'invalid_url']
        : [400, 'The request could not be routed.', 'bad_request'];
  void reply.code(status).send(clientError(status, message, code).toBody());
}

/** Node answers a request whose `Expect` it cannot meet with a bare 417; this answers in OpenAI's shape. */
export function answerUnmetExpectations(app: FastifyInstance): void {
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify(
      clientError(
        417,
        `Expect: ${request.headers.expect ?? ''} is not supported.`,
        'expectation_failed',
      ).toBody(),
    );
    response
      .writeHead(417, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      })
      .end(body);
  });
}
