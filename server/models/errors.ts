/**
 * What the model layer refuses, as named errors (like node-llama-cpp's InsufficientMemoryError): no HTTP
 * here. server/errors.ts maps each to the response clients see.
 */

export class ModelNotFoundError extends Error {
  override readonly name = 'ModelNotFoundError';
  constructor(
    readonly model: string,
    readonly detail = 'does not exist',
  ) {
    super(`The model '${model}' ${detail}.`);
  }
}

/** A model name or file the library will not touch: a NUL byte, a path outside the models dir, a --model file. */
export class ModelRefusedError extends Error {
  override readonly name = 'ModelRefusedError';
  constructor(
    message: string,
    readonly code: 'invalid_model' | 'model_path_outside_library' | 'model_outside_library',
    readonly param: 'model' | 'id' = 'model',
  ) {
    super(message);
  }
}

/** The model is in a state that forbids the operation (already loaded, not loaded, being unloaded, in use). */
export class ModelStateError extends Error {
  override readonly name = 'ModelStateError';
  constructor(
    message: string,
    readonly code: 'model_already_loaded' | 'model_not_loaded' | 'model_unloading' | 'model_loaded',
  ) {
    super(message);
  }
}

/** The model cannot serve for a moment (it is being unloaded, the server is stopping): retry shortly. */
export class ModelUnavailableError extends Error {
  override readonly name = 'ModelUnavailableError';
  constructor(
    message: string,
    readonly code: 'model_unloading' | 'server_stopping',
  ) {
    super(message);
  }
}

/** The file was found but cannot be loaded (not a GGUF, unsupported architecture, the engine refused it). */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(
    readonly model: string,
    readonly why: string,
  ) {
    super(`The model '${model}' cannot be loaded: ${why}`);
  }
}

/** The model does not fit in memory, even after unloading idle models. */
export class ModelMemoryError extends Error {
  override readonly name = 'ModelMemoryError';
  constructor(
    readonly model: string,
    readonly neededBytes: number,
    readonly availableBytes: number,
    readonly busy: readonly string[],
  ) {
    const busyNote = busy.length > 0 ? `; busy models that were not unloaded: ${busy.join(', ')}` : '';
    super(
      `Not enough memory to load '${model}': it needs about ${megabytes(neededBytes)} and ` +
        `${megabytes(availableBytes)} can be used after unloading idle models` +
        ` (memory.reserveBytes and memory.budgetBytes apply)${busyNote}.`,
    );
  }
}

export class DownloadRefusedError extends Error {
  override readonly name = 'DownloadRefusedError';
  constructor(message: string) {
    super(message);
  }
}

/** The models disk has less free space than downloads.reserveBytes: nothing is started. */
export class DownloadSpaceError extends Error {
  override readonly name = 'DownloadSpaceError';
  constructor(message: string) {
    super(message);
  }
}

export class DownloadConflictError extends Error {
  override readonly name = 'DownloadConflictError';
  constructor(readonly jobId: string) {
    super(`This URI is already being downloaded (job ${jobId}).`);
  }
}

export class DownloadNotFoundError extends Error {
  override readonly name = 'DownloadNotFoundError';
  constructor(readonly jobId: string) {
    super(`Download '${jobId}' not found.`);
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}
