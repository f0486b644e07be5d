/** A store that could not be opened (its files unreadable, its directory not writable). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly store: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`The ${store} store could not be opened: ${why}`, { cause });
  }
}

/** The store is closing (the server stops): nothing more is opened or written. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  constructor(readonly store: string) {
    super(`The ${store} store is closing; retry on another node or after the restart.`);
  }
}

/**
 * A store opened by its first use, not at startup. LanceDB (the RAG and Responses stores) costs about
 * 45 MB of resident memory once loaded — its native library, its Arrow runtime — which a server that
 * never stores anything should not carry. `open` loads the store's module itself (a dynamic import), so
 * nothing of it is in memory before. An open that failed is tried again by the next use.
 */
export class OpenOnFirstUse<T extends { close(): Promise<void> }> {
  #opening: Promise<T> | undefined;
  #lastFailure: StoreUnavailableError | undefined;
  #stopped = false;

  constructor(
    /** What the errors call it: "RAG", "response". */
    readonly name: string,
    private readonly openStore: () => Promise<T>,
  ) {}

  /** True once an open succeeded or is under way. */
  get opened(): boolean {
    return this.#opening !== undefined;
  }

  /** Why the last open failed, while no open has succeeded since. */
  get lastFailure(): StoreUnavailableError | undefined {
    return this.#lastFailure;
  }

  /** The store, opened by the first call (and by the next one after an open failed). */
  open(): Promise<T> {
    if (this.#stopped) return Promise.reject(new StoreClosedError(this.name));
    this.#opening ??= this.openStore().then(
      (store) => {
        this.#lastFailure = undefined;
        return store;
      },
      (error: unknown) => {
        this.#opening = undefined;
        this.#lastFailure = new StoreUnavailableError(this.name, error);
        throw this.#lastFailure;
      },
    );
    return this.#opening;
  }

  /** No further opens; closes the store if it was opened (its writes under way finish first). */
  async close(): Promise<void> {
    this.#stopped = true;
    const store = await this.#opening?.catch(() => undefined);
    await store?.close();
  }
}
