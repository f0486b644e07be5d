import Type, { type Static } from 'typebox';

/**
 * Shapes of the model-library part of the admin API (/tmp contract: GET /admin/models, downloads,
 * events). Request bodies are TypeBox schemas (validation and type at once); responses are plain types.
 */

export type ModelState = 'unloaded' | 'loading' | 'loaded' | 'unloading' | 'failed';

export interface LoadedModelView {
  contextSize: number;
  parallel: number;
  gpuLayers: number | null;
  memoryBytes: number;
  loadedAt: string;
  lastUsedAt: string;
  inflight: number;
  queued: number;
  tokensPerSecond: number | null;
}

export interface ModelEntry {
  id: string;
  path: string;
  sizeBytes: number;
  architecture: string | null;
  parameters: number | null;
  quantization: string | null;
  trainedContext: number | null;
  state: ModelState;
  error: string | null;
  loaded: LoadedModelView | null;
}

export type DownloadState = 'running' | 'done' | 'failed' | 'cancelled';

export interface DownloadJob {
  id: string;
  uri: string;
  fileName: string;
  bytesDone: number;
  bytesTotal: number | null;
  speedBytesPerSecond: number;
  state: DownloadState;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

const ModelName = Type.String({ minLength: 1, maxLength: 1024 });

export const LoadModelBody = Type.Object(
  {
    model: ModelName,
    contextSize: Type.Optional(Type.Integer({ minimum: 64, maximum: 1_048_576 })),
    parallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    gpuLayers: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
export type LoadModelBody = Static<typeof LoadModelBody>;

export const UnloadModelBody = Type.Object({ model: ModelName }, { additionalProperties: false });

export const ModelIdParams = Type.Object({ id: ModelName });

export const DownloadBody = Type.Object(
  { uri: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);

export const DownloadIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
