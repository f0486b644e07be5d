import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { rateLimited } from '../errors.ts';

export interface RateLimitOptions {
  perMinute: number;
  exemptLoopback: boolean;
  /** Requests that are not counted at all (e.g. admin requests carrying the valid admin key). */
  exempt?: (request: FastifyRequest) => boolean;
  onLimited: () => void;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function isLoopback(ip: string): boolean {
  return LOOPBACK.test(ip);
}

/**
 * Per-IP limits for every route of the scope it is registered in (@fastify/rate-limit, in memory).
 * 429 with Retry-After and x-ratelimit-* headers, in OpenAI's error shape.
 */
export async function limitRequestsPerIp(scope: FastifyInstance, options: RateLimitOptions): Promise<void> {
  await scope.register(rateLimit, {
    max: options.perMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.ip,
    allowList: (request) =>
      (options.exemptLoopback && isLoopback(request.ip)) ||
      // Listing models costs nothing and clients poll it.
      request.url.split('?')[0]?.startsWith('/v1/models') === true ||
      (options.exempt?.(request) ?? false),
    onExceeded: () => options.onLimited(),
    errorResponseBuilder: (_request, context) => {
      // The same seconds in the body as in Retry-After (the plugin's own text rounds differently).
      const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000));
      return rateLimited(
        `Rate limit reached: ${context.max} requests per minute from one address. Retry in ${retryAfter} s.`,
        'rate_limited',
        retryAfter,
      );
    },
  });
}
