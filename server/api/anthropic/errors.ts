import type { ApiError } from '../../errors.ts';
import type { ErrorDialect } from '../error-handler.ts';

/** Anthropic's error types, by HTTP status (its documented pairs; the rest are the nearest). */
function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** `{"type":"error","error":{"type","message"},"request_id"}`, as Anthropic's API answers errors. */
export function anthropicErrorBody(error: ApiError, requestId: string) {
  return {
    type: 'error',
    error: { type: anthropicErrorType(error.statusCode), message: error.message },
    request_id: requestId,
  };
}

/** Every path under /v1/messages answers errors in Anthropic's shape (unknown ones and refusals included). */
export const anthropicErrors: ErrorDialect = {
  owns: (path) => path === '/v1/messages' || path.startsWith('/v1/messages/'),
  body: anthropicErrorBody,
};
