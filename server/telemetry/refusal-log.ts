/**
 * Refusals (429, 503) come in storms: clients retry at once, thousands a second. Logged like other
 * requests (with the error and its stack), a storm writes megabytes a second, the log transport's
 * buffer fills and the event loop blocks on it, health checks included. So a refusal gets one short
 * line, and past `perSecond` in a second only a count: one line a second says how many went unlogged.
 */

interface LineSink {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export class RefusalLog {
  #windowStartedAt = -Infinity;
  #loggedInWindow = 0;
  #unlogged = 0;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: LineSink,
    private readonly perSecond = 10,
  ) {}

  /** One refusal: a line on the request's logger while under the rate, else counted. */
  record(requestLog: LineSink, fields: object): void {
    const now = Date.now();
    if (now - this.#windowStartedAt >= 1000) {
      this.#flush();
      this.#windowStartedAt = now;
      this.#loggedInWindow = 0;
    }
    if (this.#loggedInWindow < this.perSecond) {
      this.#loggedInWindow++;
      requestLog.info(fields, 'request refused');
      return;
    }
    this.#unlogged++;
    this.#flushTimer ??= setTimeout(() => this.#flush(), 1000).unref();
  }

  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#unlogged === 0) return;
    this.logger.warn({ unlogged: this.#unlogged }, 'refusals not logged one by one (too many)');
    this.#unlogged = 0;
  }
}
