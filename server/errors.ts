import type { OpenAiErrorBody } from '../shared/admin-api.ts';

/**
 * Typed API errors. Every error a client sees has OpenAI's shape:
 * {"error": {"message", "type", "param", "code"}}. Handlers throw these; the one error handler renders them.
 */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'service_unavailable_error'
  | 'conflict_error'
  | 'insufficient_storage_error';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly type: ApiErrorType,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export type { OpenAiErrorBody } from '../shared/admin-api.ts';

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new ApiError(400, 'invalid_request_error', message, code, param);

export const unsupportedParameter = (param: string, why: string) =>
  invalidRequest(`Unsupported parameter '${param}': ${why}`, param, 'unsupported_parameter');

export const modelNotFound = (model: string, detail = 'does not exist') =>
  new ApiError(404, 'invalid_request_error', `The model '${model}' ${detail}.`, 'model_not_found', 'model');

export const notFound = (what: string) =>
  new ApiError(404, 'not_found_error', `${what} not found.`, 'not_found');

export const conflict = (message: string, code = 'conflict') =>
  new ApiError(409, 'conflict_error', message, code);

export const rateLimited = (message: string, code: string, retryAfterSeconds: number) =>
  new ApiError(429, 'rate_limit_error', message, code, null, { 'retry-after': String(retryAfterSeconds) });

export const unavailable = (message: string, code: string, retryAfterSeconds: number) =>
  new ApiError(503, 'service_unavailable_error', message, code, null, {
    'retry-after': String(retryAfterSeconds),
  });

export const unauthorized = (message: string, code = 'invalid_api_key') =>
  new ApiError(401, 'authentication_error', message, code);
