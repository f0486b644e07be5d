import CircuitBreaker from 'opossum';
import { HelperFailedError, HelperRefusedError } from './errors.ts';

export type HelperRole = 'embed' | 'rerank';

export interface HelperSettings {
  name: string;
  url: string;
  apiKey?: string;
  roles: readonly HelperRole[];
  models?: readonly string[];
  timeoutMs: number;
}

export interface BreakerSettings {
  failureThreshold: number;
  resetTimeoutMs: number;
}

/** 0 closed, 1 half-open, 2 open: the values of lmx_helper_circuit_state. */
export type CircuitState = 'closed' | 'half_open' | 'open';
export const circuitStateValue: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

export type HelperOutcome = 'success' | 'error' | 'timeout' | 'refused' | 'rejected';

export interface HelperObserver {
  onStateChange(helper: HelperNode, state: CircuitState): void;
  onCall(helper: HelperNode, outcome: HelperOutcome, seconds: number): void;
}

interface HelperCall {
  path: string;
  body: unknown;
  signal: AbortSignal;
}

/**
 * One helper node behind an opossum circuit breaker. opossum trips on an error percentage; the issue's
 * rule is consecutive failures, so the count is kept here and the breaker is opened by hand at the
 * threshold; opossum then runs the half-open timer and closes on a trial's success (or reopens on its failure).
 * A helper's own refusal (4xx) and the client going away do not count against it.
 */
export class HelperNode {
  /** Calls under way: the least busy helper is tried first. */
  outstanding = 0;
  #consecutiveFailures = 0;
  #lastError: { message: string; at: string } | null = null;
  #openedAt = 0;
  readonly #breaker: CircuitBreaker<[HelperCall], unknown>;

  constructor(
    readonly settings: HelperSettings,
    readonly breakerSettings: BreakerSettings,
    private readonly observer: HelperObserver,
  ) {
    this.#breaker = new CircuitBreaker((call: HelperCall) => this.#post(call), {
      timeout: false,
      resetTimeout: breakerSettings.resetTimeoutMs,
      // Never trips on its own (no rate exceeds 100%): the consecutive count below opens it.
      errorThresholdPercentage: 100,
      errorFilter: (error: unknown) => !(error instanceof HelperFailedError),
    });
    this.#breaker.on('success', () => (this.#consecutiveFailures = 0));
    this.#breaker.on('failure', (error: unknown) => {
      if (!(error instanceof HelperFailedError)) return;
      this.#consecutiveFailures++;
      this.#lastError = { message: error.message, at: new Date().toISOString() };
      if (this.#consecutiveFailures >= breakerSettings.failureThreshold) this.#breaker.open();
    });
    this.#breaker.on('open', () => {
      this.#openedAt = Date.now();
      observer.onStateChange(this, 'open');
    });
    this.#breaker.on('halfOpen', () => observer.onStateChange(this, 'half_open'));
    this.#breaker.on('close', () => {
      this.#consecutiveFailures = 0;
      observer.onStateChange(this, 'closed');
    });
  }

  get name(): string {
    return this.settings.name;
  }

  get state(): CircuitState {
    if (this.#breaker.opened) return 'open';
    return this.#breaker.halfOpen ? 'half_open' : 'closed';
  }

  /** Failures (network error, timeout, 5xx, bad answer) since the last success. */
  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** The last failure that counted against the helper, kept after it recovers. */
  get lastError(): { message: string; at: string } | null {
    return this.#lastError;
  }

  /** Whether a call now would be let through (closed, or half-open for a trial). */
  get accepting(): boolean {
    return this.state !== 'open';
  }

  /** Seconds until an open breaker lets a trial through (0 when it is not open). */
  get retryAfterSeconds(): number {
    if (this.state !== 'open') return 0;
    const left = this.#openedAt + this.breakerSettings.resetTimeoutMs - Date.now();
    return Math.max(1, Math.ceil(left / 1000));
  }

  serves(role: HelperRole, model: string, loadedLocally: boolean): boolean {
    if (!this.settings.roles.includes(role)) return false;
    return this.settings.models ? this.settings.models.includes(model) : !loadedLocally;
  }

  /** POSTs `body` to the helper's `path` (under /v1) through the breaker; the answer's JSON. */
  async call(path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    const started = performance.now();
    this.outstanding++;
    try {
      const answer = await this.#breaker.fire({ path, body, signal });
      this.observer.onCall(this, 'success', (performance.now() - started) / 1000);
      return answer;
    } catch (error) {
      const outcome: HelperOutcome =
        error instanceof HelperFailedError
          ? error.outcome
          : error instanceof HelperRefusedError
            ? 'refused'
            : this.#breaker.opened
              ? 'rejected'
              : 'error';
      if (!signal.aborted) this.observer.onCall(this, outcome, (performance.now() - started) / 1000);
      throw error;
    } finally {
      this.outstanding--;
    }
  }

  shutdown(): void {
    this.#breaker.shutdown();
  }

  async #post({ path, body, signal }: HelperCall): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.settings.url.replace(/\/$/, '')}/v1${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.settings.apiKey ? { authorization: `Bearer ${this.settings.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, timeout]),
      });
      const text = await response.text();
      if (response.status >= 400 && response.status < 500) throw refusal(this.name, response.status, text);
      if (!response.ok) throw new HelperFailedError(this.name, 'error', `HTTP ${response.status}`);
      return JSON.parse(text) as unknown;
    } catch (error) {
      // The client went away: not the helper's fault (the error filter keeps it off the count).
      if (signal.aborted) throw signal.reason;
      if (error instanceof HelperRefusedError || error instanceof HelperFailedError) throw error;
      if (timeout.aborted)
        throw new HelperFailedError(this.name, 'timeout', `no answer within ${this.settings.timeoutMs} ms`);
      throw new HelperFailedError(this.name, 'error', String((error as Error).cause ?? error));
    }
  }
}

function refusal(helper: string, status: number, text: string): HelperRefusedError {
  let error: Partial<HelperRefusedError['body']> = {};
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
  } catch {
    // Not OpenAI's error shape: the status alone says it.
  }
  return new HelperRefusedError(helper, status, {
    message: error.message ?? `The helper answered ${status}.`,
    type: error.type ?? 'invalid_request_error',
    code: error.code ?? null,
    param: error.param ?? null,
  });
}
