/** Named errors of helper calls; the API maps them to HTTP (server/errors.ts). */

/** No helper could take the call (breakers open or calls failed) and this node cannot serve the model. */
export class HelpersUnavailableError extends Error {
  override readonly name = 'HelpersUnavailableError';
  constructor(
    readonly model: string,
    /** When the first open breaker lets a trial call through. */
    readonly retryAfterSeconds: number,
  ) {
    super(`No helper node can serve the model '${model}' right now, and this node does not have it.`);
  }
}

/** A helper refused the request itself (4xx): the client's to fix, so it is passed on, not retried. */
export class HelperRefusedError extends Error {
  override readonly name = 'HelperRefusedError';
  constructor(
    readonly helper: string,
    readonly status: number,
    readonly body: { message: string; type: string; code: string | null; param: string | null },
  ) {
    super(`helper ${helper}: ${body.message}`);
  }
}

/** A helper call failed in a way that counts against its breaker: network error, timeout, 5xx, bad answer. */
export class HelperFailedError extends Error {
  override readonly name = 'HelperFailedError';
  constructor(
    readonly helper: string,
    readonly outcome: 'error' | 'timeout',
    detail: string,
  ) {
    super(`helper ${helper}: ${detail}`);
  }
}
