import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { RefusalLog } from '../telemetry/refusal-log.ts';

/**
 * Fastify's request log lines, as LMX writes them: one line per request when it completes (not one
 * more when it arrives), and refusals (429, 503) through the RefusalLog: short, and sampled in a storm.
 */
export class RequestLogController extends LogController {
  readonly #refusals: RefusalLog;

  constructor(refusals: RefusalLog) {
    super();
    this.#refusals = refusals;
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) return super.requestCompleted(error, request, reply);
    const fields = {
      method: request.method,
      url: request.url.slice(0, 200),
      remoteAddress: request.ip,
      statusCode: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (reply.statusCode === 429 || reply.statusCode === 503) this.#refusals.record(reply.log, fields);
    else reply.log.info(fields, 'request completed');
  }
}
