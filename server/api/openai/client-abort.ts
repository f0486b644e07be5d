import type { FastifyReply } from 'fastify';
import { clientClosed } from '../../errors.ts';

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
