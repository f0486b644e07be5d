import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** The bearer token of a request, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

/** The keys a /v1 request offers: its bearer token and Anthropic's `x-api-key` header (Anthropic SDKs send that). */
export function offeredApiKeys(request: FastifyRequest): string[] {
  const header = request.headers['x-api-key'];
  return [bearerToken(request), typeof header === 'string' ? header : undefined].filter(
    (key): key is string => key !== undefined,
  );
}

/** Constant-time comparison (hashing first makes the lengths equal, so length leaks nothing either). */
export function keysMatch(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
