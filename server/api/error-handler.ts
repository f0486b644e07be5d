import type { FastifyError, FastifyInstance } from 'fastify';
import {
  ApiError,
  bodyTooLarge,
  clientError,
  fromDomainError,
  internalError,
  invalidRequest,
  type OpenAiErrorBody,
} from '../errors.ts';

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * The one error handler: every error leaves as OpenAI's error shape. 4xx say what was wrong and with
 * which field; 5xx hide their cause from the client and log it with the request id.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.statusCode >= 500 && !fromDomainError(error)) {
      request.log.error({ err: error }, 'request failed');
    }
    // Fastify closes the connection after a body error; for a body over the limit that resets it under a
    // client still sending, which then never reads the 413. Kept open, Node reads the rest and discards it
    // (bounded by the request and body-idle timeouts).
    if (apiError.statusCode === 413) reply.removeHeader('connection');
    void reply.code(apiError.statusCode).headers(apiError.headers).send(apiError.toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    const body: OpenAiErrorBody = {
      error: {
        message: `Unknown route: ${request.method} ${request.url.split('?')[0]}`,
        type: 'invalid_request_error',
        param: null,
        code: 'unknown_route',
      },
    };
    void reply.code(404).send(body);
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

function validationError(issues: ValidationIssue[], context: string | undefined): ApiError {
  const issue = issues[0];
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
