import type { Outcome } from './types.ts';

/** A non-2xx answer: its status, and the OpenAI error body when there is one. */
export function classifyHttpError(status: number, body: string): Outcome {
  const { code, message } = parseErrorBody(body);
  if (status === 429) return { class: 'rate_limited', status, code, message };
  if (status === 503) return { class: 'unavailable', status, code, message };
  return { class: 'error', status, code, message };
}

/**
 * A request that threw. Our own deadline (an AbortSignal.timeout, or the run's abort) is a client
 * timeout; anything else — connection refused, reset, a broken stream — is an error.
 */
export function classifyThrown(error: unknown, timedOut: boolean): Outcome {
  const name = error instanceof Error ? error.name : undefined;
  if (timedOut || name === 'TimeoutError') return { class: 'timeout', code: 'client_timeout' };
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : (name ?? 'error');
  const message = error instanceof Error ? error.message : String(error);
  return { class: 'error', code, message };
}

function parseErrorBody(body: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; type?: unknown; message?: unknown } };
    const error = parsed.error;
    if (typeof error !== 'object' || error === null) return { message: body.slice(0, 200) };
    const code =
      typeof error.code === 'string' ? error.code : typeof error.type === 'string' ? error.type : undefined;
    return { code, message: typeof error.message === 'string' ? error.message : undefined };
  } catch {
    return { message: body.slice(0, 200) || undefined };
  }
}
