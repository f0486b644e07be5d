import { unavailable } from '../errors.ts';

/**
 * Graceful drain: once started, new inference is refused (503 draining) while work already admitted
 * or queued finishes; past the deadline, what still runs is aborted through `signal`.
 */
export class Drain {
  readonly #abort = new AbortController();
  #started = false;
  #openResponses = 0;

  /** Counts a response until its connection has sent it (or died): what a drain waits for. */
  track(response: { once(event: 'close', listener: () => void): unknown }): void {
    this.#openResponses++;
    response.once('close', () => this.#openResponses--);
  }

  get openResponses(): number {
    return this.#openResponses;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Aborts every generation still running when the drain deadline passes. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  refuseIfDraining(): void {
    if (this.#started) throw drainingError();
  }

  /**
   * Refuses new work, waits (bounded) until every tracked response is sent, and past the deadline
   * aborts what still runs, then waits (bounded) for those responses to say so. Returns whether it
   * drained without aborting anything.
   */
  async run(timeoutMs: number, graceMs = 5000): Promise<boolean> {
    this.#started = true;
    if (await this.#waitForResponses(timeoutMs)) return true;
    this.#abort.abort(drainingError());
    await this.#waitForResponses(graceMs);
    return false;
  }

  async #waitForResponses(timeoutMs: number, pollMs = 25): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#openResponses > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    return true;
  }
}

export function drainingError() {
  return unavailable(
    'The server is shutting down and accepts no new requests. Retry on another server.',
    'draining',
    5,
  );
}
