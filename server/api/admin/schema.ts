import Type, { type Static } from 'typebox';

/**
 * Shapes of the model-library part of the admin API (/tmp contract: GET /admin/models, downloads,
 * events). Request bodies are TypeBox schemas (validation and type at once); responses are plain types.
 */

export type {
  DownloadJob,
  DownloadState,
  LoadedModelView,
  ModelEntry,
  ModelState,
} from '../../../shared/admin-api.ts';
import { modelKinds } from '../../../shared/admin-api.ts';

const ModelName = Type.String({ minLength: 1, maxLength: 1024 });

export const LoadModelBody = Type.Object(
  {
    model: ModelName,
    contextSize: Type.Optional(Type.Integer({ minimum: 64, maximum: 1_048_576 })),
    parallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    gpuLayers: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    kind: Type.Optional(Type.Enum([...modelKinds])),
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
