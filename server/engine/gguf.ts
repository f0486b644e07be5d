import { GgmlType, GgufFileType, GgufInsights, readGgufFileInfo, type Llama } from 'node-llama-cpp';
import { validateGgufFile } from './gguf-validate.ts';
import { kindOfModelFile, type KindInfo } from './model-kind.ts';

/** The shape of a load, for estimating what it costs before anything is allocated. */
export interface LoadShape {
  contextSize: number;
  parallel: number;
  gpuLayers?: number;
  batchSize?: number;
}

/** What one loaded model costs: weights plus its context (KV cache and compute buffers). */
export interface MemoryNeed {
  ramBytes: number;
  vramBytes: number;
}

export interface ModelFileInfo {
  architecture: string | null;
  parameters: number | null;
  quantization: string | null;
  trainedContext: number | null;
  /** From the metadata (see model-kind.ts); null when the file could not be read. */
  kind: KindInfo | null;
  /** Null when the file is a readable GGUF; otherwise what is wrong with it. */
  error: string | null;
  /** node-llama-cpp's estimate of a load of this file; null when the file could not be read. */
  estimate: ((shape: LoadShape, gpu: boolean) => MemoryNeed) | null;
}

/** GGUF metadata of a file and node-llama-cpp's insights into it. Never throws: a bad file has `error`. */
export async function readModelFileInfo(file: string, llama: Llama | undefined): Promise<ModelFileInfo> {
  try {
    await validateGgufFile(file);
    const info = await readGgufFileInfo(file, { readTensorInfo: true });
    const insights = await GgufInsights.from(info, llama);
    const architecture = info.metadata?.general?.architecture ?? null;
    return {
      architecture: architecture === null ? null : String(architecture),
      parameters: insights.totalParameters || null,
      quantization: quantizationName(info.metadata?.general?.file_type, insights.dominantTensorType),
      trainedContext: insights.trainContextSize ?? null,
      kind: kindOfModelFile(info),
      error: insights.isSupportedByLlamaCpp
        ? null
        : `architecture '${String(architecture)}' is not supported by llama.cpp`,
      estimate: (shape, gpu) => estimateLoad(insights, shape, gpu),
    };
  } catch (error) {
    return unreadableModelFile(`not a valid GGUF file: ${(error as Error).message}`);
  }
}

export function unreadableModelFile(error: string): ModelFileInfo {
  return {
    architecture: null,
    parameters: null,
    quantization: null,
    trainedContext: null,
    kind: null,
    error,
    estimate: null,
  };
}

/** Throws when a file does not read as a GGUF model (a finished download is checked with it). */
export async function assertGgufFile(file: string): Promise<void> {
  await validateGgufFile(file);
  await readGgufFileInfo(file, { readTensorInfo: true });
}

/**
 * node-llama-cpp's own estimate of a load (GgufInsights). With a GPU and no gpuLayers given, the estimate
 * assumes every layer is offloaded (node-llama-cpp's 'auto' offloads as much as fits).
 */
function estimateLoad(insights: GgufInsights, shape: LoadShape, gpu: boolean): MemoryNeed {
  const gpuLayers = gpu ? Math.min(shape.gpuLayers ?? insights.totalLayers, insights.totalLayers) : 0;
  const contextSize = Math.min(shape.contextSize, insights.trainContextSize ?? shape.contextSize);
  const model = insights.estimateModelResourceRequirements({ gpuLayers });
  const context = insights.estimateContextResourceRequirements({
    contextSize,
    modelGpuLayers: gpuLayers,
    sequences: shape.parallel,
    batchSize: shape.batchSize,
  });
  return { ramBytes: model.cpuRam + context.cpuRam, vramBytes: model.gpuVram + context.gpuVram };
}

function quantizationName(fileType: number | undefined, dominant: GgmlType | undefined): string | null {
  const name =
    fileType !== undefined ? GgufFileType[fileType] : dominant !== undefined ? GgmlType[dominant] : undefined;
  return name ? name.replace(/^(MOSTLY|ALL)_/, '') : null;
}
