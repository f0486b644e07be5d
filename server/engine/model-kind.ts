import type { GgufFileInfo } from 'node-llama-cpp';
import type { ModelKind } from '../../shared/admin-api.ts';

/** llama.cpp's enum llama_pooling_type, as GGUF files store it in `<arch>.pooling_type`. */
const POOLING_RANK = 4;
const POOLING_NONE = 0;

/** Architectures that are encoders only: they produce embeddings, never text. */
const encoderArchitectures = new Set([
  'bert',
  'nomic-bert',
  'nomic-bert-moe',
  'jina-bert-v2',
  'neo-bert',
  'modern-bert',
]);

/** GGUF has no standard key for Matryoshka training; LMX reads this one (a list of the trained sizes). */
export const MATRYOSHKA_KEY = 'lmx.matryoshka_dimensions';

export interface KindInfo {
  kind: ModelKind;
  /** Embedding sizes the model was trained to be truncated to (Matryoshka); empty when it declares none. */
  matryoshkaDimensions: number[];
}

/**
 * What a file is for, from its metadata: a classifier head (cls.*) or rank pooling makes a reranker; a
 * pooling type or an encoder-only architecture makes an embedding model; everything else generates text.
 */
export function kindOfModelFile(info: GgufFileInfo): KindInfo {
  const metadata = info.metadata as unknown as Record<string, unknown>;
  const architecture = String(
    (metadata.general as { architecture?: unknown } | undefined)?.architecture ?? '',
  );
  const archSection = metadata[architecture] as Record<string, unknown> | undefined;
  const pooling = typeof archSection?.pooling_type === 'number' ? archSection.pooling_type : undefined;
  const hasClassifier = (info.fullTensorInfo ?? []).some(
    (tensor) => tensor.name === 'cls.weight' || tensor.name === 'cls.output.weight',
  );
  const matryoshkaDimensions = matryoshkaOf(metadata);
  if (pooling === POOLING_RANK || hasClassifier) return { kind: 'reranker', matryoshkaDimensions: [] };
  if ((pooling !== undefined && pooling !== POOLING_NONE) || encoderArchitectures.has(architecture))
    return { kind: 'embedding', matryoshkaDimensions };
  return { kind: 'chat', matryoshkaDimensions: [] };
}

function matryoshkaOf(metadata: Record<string, unknown>): number[] {
  // node-llama-cpp nests dotted keys: lmx.matryoshka_dimensions → metadata.lmx.matryoshka_dimensions.
  const [section, key] = MATRYOSHKA_KEY.split('.') as [string, string];
  const value = (metadata[section] as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(value)
    ? value.filter((item): item is number => Number.isInteger(item) && item > 0)
    : [];
}
