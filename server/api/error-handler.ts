import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import {
  ApiError,
  bodyTooLarge,
  clientError,
  fromDomainError,
  internalError,
  invalidRequest,
} from '../errors.ts';

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** An API whose routes answer errors in its own shape (Anthropic's under /v1/messages). */
export interface ErrorDialect {
  /** Whether a path is the dialect's (unknown paths under its prefix too). */
  owns(path: string): boolean;
  body(error: ApiError, requestId: string): unknown;
}

/**
 * The one error handler: every error leaves as OpenAI's error shape, or its dialect's on a dialect's
 * paths. 4xx say what was wrong and with which field; 5xx hide their cause from the client and log it
 * with the request id.
 */
export function installErrorHandling(app: FastifyInstance, dialects: readonly ErrorDialect[] = []): void {
  const bodyOf = (error: ApiError, request: FastifyRequest) => {
    const path = request.url.split('?')[0] ?? '';
    return dialects.find((dialect) => dialect.owns(path))?.body(error, request.id) ?? error.toBody();
  };
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.statusCode >= 500 && !fromDomainError(error)) {
      request.log.error({ err: error }, 'request failed');
    }
    // Fastify closes the connection after a body error; for a body over the limit that resets it under a
    // client still sending, which then never reads the 413. Kept open, Node reads the rest and discards it
    // (bounded by the request and body-idle timeouts).
    if (apiError.statusCode === 413) reply.removeHeader('connection');
    void reply.code(apiError.statusCode).headers(apiError.headers).send(bodyOf(apiError, request));
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError(
      404,
      'invalid_request_error',
      `Unknown route: ${request.method} ${request.url.split('?')[0]}`,
      'unknown_route',
    );
    void reply.code(404).send(bodyOf(error, request));
  });
}

function toApiError(thrown: FastifyError | ApiError): ApiError {
  const known = fromDomainError(thrown);
  if (known) return known;
  const error = thrown as FastifyError;
  if (error.validation)
    return validationError(error.validation as ValidationIssue[], error.validationContext);
  const status = error.statusCode ?? 500;
  if (status === 413) {
    return bodyTooLarge();
  }
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return invalidRequest(`The request body is not valid JSON: ${error.message}`, null, 'invalid_json');
  }
  if (status >= 400 && status < 500) return clientError(status, error.message, error.code ?? null);
  return internalError();
}

/**
 * A value matching none of a union's branches (`anyOf`) has one issue per branch: a wrong type in most,
 * while the branch of the right type says what is wrong with it (too many items, too long). That one.
 */
function telling(issues: ValidationIssue[]): ValidationIssue | undefined {
  if (issues.at(-1)?.keyword !== 'anyOf') return issues[0];
  return issues.find((issue) => issue.keyword !== 'type' && issue.keyword !== 'anyOf') ?? issues[0];
}

function validationError(issues: ValidationIssue[], context: string | undefined): ApiError {
  const issue = telling(issues);
  if (!issue) return invalidRequest('The request is invalid.');
  const unknownKey =
    issue.keyword === 'additionalProperties' ? String(issue.params.additionalProperty ?? '') : '';
  const field = fieldName(issue.instancePath, unknownKey);
  if (unknownKey) {
    return invalidRequest(`Unrecognized request argument supplied: ${field}`, field, 'unsupported_parameter');
  }
  if (issue.keyword === 'required') {
    const missing = fieldName(issue.instancePath, String(issue.params.missingProperty ?? ''));
    return invalidRequest(`Missing required parameter: '${missing}'.`, missing, 'missing_required_parameter');
  }
  const where = field || context || 'body';
  const allowed =
    issue.keyword === 'enum' ? (issue.params.allowedValues as unknown[] | undefined) : undefined;
  const problem = allowed
    ? `must be one of ${allowed.map((value) => `'${String(value)}'`).join(', ')}`
    : issue.message;
  return invalidRequest(`Invalid value for '${where}': ${problem ?? 'invalid'}.`, where, 'invalid_value');
}

/** /messages/0/role → messages[0].role, the way OpenAI names fields. */
function fieldName(instancePath: string, child: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (child) parts.push(child);
  return parts.reduce(
    (name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part),
    '',
  );
}
