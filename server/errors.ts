import type { OpenAiErrorBody } from '../shared/admin-api.ts';
import { UnsupportedSchemaError } from './engine/json-schema.ts';
import {
  DownloadConflictError,
  DownloadNotFoundError,
  DownloadRefusedError,
  DownloadSpaceError,
  ModelLoadError,
  ModelMemoryError,
  ModelNotFoundError,
  ModelRefusedError,
  ModelStateError,
  ModelUnavailableError,
} from './models/errors.ts';
import { ModelKindError } from './engine/loaded-model.ts';
import { DimensionsUnsupportedError, InputTooLongError, InvalidTokenError } from './engine/embedder.ts';
import { HelperRefusedError, HelpersUnavailableError } from './helpers/errors.ts';
import * as rag from './rag/errors.ts';
import { StoreClosedError, StoreUnavailableError } from './persistence/open-on-first-use.ts';
import { ContextLengthExceededError } from './engine/prompt-fit.ts';

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

/** 503 with Retry-After when the condition is passing; without it (a dashboard that is not built) when not. */
export const unavailable = (message: string, code: string, retryAfterSeconds?: number) =>
  new ApiError(
    503,
    'service_unavailable_error',
    message,
    code,
    null,
    retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
  );

export const unauthorized = (message: string, code = 'invalid_api_key') =>
  new ApiError(401, 'authentication_error', message, code);

export const bodyTooLarge = () =>
  new ApiError(413, 'invalid_request_error', 'The request body is too large.', 'request_too_large');

/** Nobody reads this answer; 499 (as nginx logs it) keeps it out of the 5xx figures. */
export const clientClosed = () =>
  new ApiError(499, 'invalid_request_error', 'The client closed the request.', 'client_closed');

/** Another 4xx Fastify or Node raised (bad URL, unsupported media type, …), in OpenAI's shape. */
export const clientError = (status: number, message: string, code: string | null) =>
  new ApiError(status, 'invalid_request_error', message, code);

/**
 * A write to the data dir failed: a full disk is 507 (retry once space is freed), an unwritable dir 503;
 * the reason is the client's to see, since only an operator can fix it.
 */
export const storageFailure = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
  const reason = `The data dir could not be written (${code}); nothing was changed.`;
  return code === 'ENOSPC' || code === 'EDQUOT'
    ? new ApiError(507, 'insufficient_storage_error', reason, 'insufficient_storage')
    : new ApiError(503, 'server_error', reason, 'storage_unavailable');
};

/** A generation failed after its answer had started streaming (the cause is logged, not sent). */
export const generationFailed = () => new ApiError(500, 'server_error', 'Generation failed.');

export const internalError = () =>
  new ApiError(
    500,
    'server_error',
    'The server had an error while processing your request.',
    'internal_error',
  );

/**
 * The one mapping of domain errors (named errors of the layers below the API, which know nothing of
 * HTTP) to what clients see. Anything else is not a domain error: undefined.
 */
export function fromDomainError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ModelNotFoundError) return modelNotFound(error.model, error.detail);
  if (error instanceof ModelKindError) return invalidRequest(error.message, 'model', 'model_kind_mismatch');
  if (error instanceof ContextLengthExceededError)
    return invalidRequest(error.message, error.param, 'context_length_exceeded');
  if (error instanceof InputTooLongError)
    return invalidRequest(error.message, `input[${error.index}]`, 'input_too_long');
  if (error instanceof DimensionsUnsupportedError)
    return invalidRequest(error.message, 'dimensions', 'unsupported_parameter');
  if (error instanceof InvalidTokenError)
    return invalidRequest(error.message, `input[${error.index}]`, 'invalid_token');
  if (error instanceof ModelRefusedError) return invalidRequest(error.message, error.param, error.code);
  if (error instanceof ModelStateError) return conflict(error.message, error.code);
  if (error instanceof ModelUnavailableError) return unavailable(error.message, error.code, 1);
  if (error instanceof ModelLoadError)
    return new ApiError(422, 'invalid_request_error', error.message, 'model_load_failed', 'model');
  if (error instanceof ModelMemoryError)
    return new ApiError(507, 'insufficient_storage_error', error.message, 'insufficient_memory', 'model');
  if (error instanceof UnsupportedSchemaError)
    return invalidRequest(error.message, error.path, 'unsupported_schema_keyword');
  if (error instanceof DownloadRefusedError) return invalidRequest(error.message, 'uri', 'invalid_uri');
  if (error instanceof DownloadSpaceError)
    return new ApiError(507, 'insufficient_storage_error', error.message, 'insufficient_storage', 'uri');
  if (error instanceof DownloadConflictError) return conflict(error.message, 'download_running');
  if (error instanceof DownloadNotFoundError)
    return new ApiError(404, 'not_found_error', error.message, 'not_found');
  if (error instanceof rag.CollectionNotFoundError || error instanceof rag.DocumentNotFoundError)
    return new ApiError(404, 'not_found_error', error.message, 'not_found');
  if (error instanceof rag.CollectionExistsError) return conflict(error.message, 'collection_exists');
  if (error instanceof rag.DocumentExistsError) return conflict(error.message, 'document_exists');
  if (error instanceof rag.ChunkTooLongError)
    return invalidRequest(error.message, `documents[${error.documentIndex}].text`, 'chunk_too_long');
  if (error instanceof HelpersUnavailableError)
    return unavailable(error.message, 'helpers_unavailable', error.retryAfterSeconds);
  if (error instanceof HelperRefusedError)
    return new ApiError(
      error.status,
      'invalid_request_error',
      error.body.message,
      error.body.code,
      error.body.param,
    );
  if (error instanceof StoreClosedError) return unavailable(error.message, 'store_closing', 1);
  if (error instanceof StoreUnavailableError) return unavailable(error.message, 'store_unavailable', 5);
  return undefined;
}
