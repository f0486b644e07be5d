import { unavailable } from '../errors.ts';

/**
 * Graceful drain: once started, new inference is refused (503 draining) while work already admitted
 * or queued finishes; past the deadline, what still runs is aborted through `signal`.
 */
export class Drain {
  readonly #abort = new AbortController();
  #started = false;

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

  /** Waits (bounded) until `idle()` holds; aborts what is left at the deadline. Returns whether it drained cleanly. */
  async run(idle: () => boolean, timeoutMs: number, pollMs = 25): Promise<boolean> {
    this.#started = true;
    const deadline = Date.now() + timeoutMs;
    while (!idle()) {
      if (Date.now() >= deadline) {
        this.#abort.abort(drainingError());
        return false;
      }
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
