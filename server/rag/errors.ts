/** Named errors of the RAG store; the API maps them to HTTP (server/errors.ts). */

export class CollectionNotFoundError extends Error {
  override readonly name = 'CollectionNotFoundError';
  constructor(readonly collection: string) {
    super(`The collection '${collection}' does not exist.`);
  }
}

export class CollectionExistsError extends Error {
  override readonly name = 'CollectionExistsError';
  constructor(readonly collection: string) {
    super(`The collection '${collection}' already exists.`);
  }
}

export class DocumentExistsError extends Error {
  override readonly name = 'DocumentExistsError';
  constructor(
    readonly collection: string,
    readonly documentId: string,
  ) {
    super(`The collection '${collection}' already holds a document '${documentId}'; delete it first.`);
  }
}

export class DocumentNotFoundError extends Error {
  override readonly name = 'DocumentNotFoundError';
  constructor(
    readonly collection: string,
    readonly documentId: string,
  ) {
    super(`The collection '${collection}' holds no document '${documentId}'.`);
  }
}

/** A chunk of a document has more tokens than the embedding model's context. */
export class ChunkTooLongError extends Error {
  override readonly name = 'ChunkTooLongError';
  constructor(
    readonly documentIndex: number,
    readonly length: number,
    readonly limit: number,
  ) {
    super(
      `A chunk of document ${documentIndex} is ${length} tokens, longer than the embedding model's context of ${limit} tokens; use a collection with a smaller chunk_size.`,
    );
  }
}
