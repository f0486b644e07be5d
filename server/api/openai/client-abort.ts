import type { FastifyReply } from 'fastify';
import { ApiError } from '../../errors.ts';

/**
 * An AbortSignal that fires when the client goes away before the response is complete, so that
 * generation stops at once and its sequence is freed.
 */
export function abortOnClientGone(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(clientClosed());
  });
  return controller;
}

/** Nobody reads this answer; 499 (as nginx logs it) keeps it out of the 5xx figures. */
function clientClosed(): ApiError {
  return new ApiError(499, 'invalid_request_error', 'The client closed the request.', 'client_closed');
}
