import { rateLimited } from '../errors.ts';

export interface AdmissionLimits {
  /** Generations that may run at once. */
  concurrency: number;
  /** Requests that may wait; one more is refused with queue_full. */
  maxQueued: number;
  /** How long a request may wait before it is refused with queue_timeout. */
  timeoutMs: number;
}

interface Waiter {
  grant: (release: () => void) => void;
  fail: (error: unknown) => void;
}

/**
 * Per-model admission control: at most `concurrency` holders, then a bounded FIFO queue with a wait
 * timeout. A waiter whose signal aborts (client gone) leaves the queue at once.
 */
export class AdmissionQueue {
  #running = 0;
  readonly #waiting: Waiter[] = [];

  constructor(private readonly limits: AdmissionLimits) {}

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Resolves with a release function once a slot is free. Call release exactly once. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#running < this.limits.concurrency && this.#waiting.length === 0) {
      this.#running++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiting.length >= this.limits.maxQueued) {
      return Promise.reject(
        rateLimited(
          'The server is at capacity for this model and its queue is full; retry later.',
          'queue_full',
          1,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
      };
      const waiter: Waiter = {
        grant: (release) => {
          leave();
          resolve(release);
        },
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      const onAbort = () => waiter.fail(signal?.reason);
      const timer = setTimeout(
        () =>
          waiter.fail(
            rateLimited(
              `The request waited ${this.limits.timeoutMs} ms in the queue without a free slot; retry later.`,
              'queue_timeout',
              Math.max(1, Math.ceil(this.limits.timeoutMs / 1000)),
            ),
          ),
        this.limits.timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Refuses everyone still waiting (used when a model unloads or the server drains). */
  rejectWaiting(error: unknown): void {
    for (const waiter of [...this.#waiting]) waiter.fail(error);
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting[0];
      if (next) next.grant(this.#releaser());
      else this.#running--;
    };
  }
}
