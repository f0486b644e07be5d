import type { GgufInsights, Llama } from 'node-llama-cpp';
import { ApiError } from '../errors.ts';

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

/**
 * node-llama-cpp's own estimate of a load (GgufInsights), before anything is allocated. With a GPU and
 * no gpuLayers given, the estimate assumes every layer is offloaded (node-llama-cpp's 'auto' offloads
 * as much as fits).
 */
export function estimateLoad(insights: GgufInsights, shape: LoadShape, gpu: boolean): MemoryNeed {
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

export function totalBytes(need: MemoryNeed): number {
  return need.ramBytes + need.vramBytes;
}

export interface MemoryAvailability {
  /** RAM that can be allocated now (node-llama-cpp's view; unified memory on Apple silicon). */
  freeRamBytes: number;
  /** Free VRAM on a discrete GPU; undefined when the GPU shares system memory or there is none. */
  freeVramBytes: number | undefined;
}

export async function measureAvailability(llama: Llama): Promise<MemoryAvailability> {
  const ram = await llama.getRamState();
  if (llama.gpu === false) return { freeRamBytes: ram.free, freeVramBytes: undefined };
  const vram = await llama.getVramState();
  const unified = vram.unifiedSize > 0 || vram.total === 0;
  return { freeRamBytes: ram.free, freeVramBytes: unified ? undefined : vram.free };
}

export interface BudgetModel {
  id: string;
  need: MemoryNeed;
  lastUsedAt: number;
  /** No request in flight or queued: may be evicted. */
  idle: boolean;
}

export interface BudgetLimits {
  /** Kept free for the rest of the machine (memory.reserveBytes). */
  reserveBytes: number;
  /** Cap on what all loaded models together may use (memory.budgetBytes); 0 = no cap. */
  budgetBytes: number;
}

export type FitPlan =
  | { fits: true; evict: string[] }
  | { fits: false; neededBytes: number; availableBytes: number; busy: string[] };

/**
 * Whether a model needing `need` fits, and which idle models (least recently used first) must be
 * unloaded to make it fit. Pure: the caller measures, plans, then acts.
 */
export function planFit(
  need: MemoryNeed,
  loaded: readonly BudgetModel[],
  available: MemoryAvailability,
  limits: BudgetLimits,
): FitPlan {
  const unifiedNeed = available.freeVramBytes === undefined ? totalBytes(need) : need.ramBytes;
  const used = loaded.reduce((sum, model) => sum + totalBytes(model.need), 0);
  const deficits = (freedRam: number, freedVram: number, freedTotal: number) => {
    const ram = unifiedNeed - (available.freeRamBytes + freedRam - limits.reserveBytes);
    const vram =
      available.freeVramBytes === undefined ? 0 : need.vramBytes - (available.freeVramBytes + freedVram);
    const cap = limits.budgetBytes > 0 ? totalBytes(need) - (limits.budgetBytes - used + freedTotal) : 0;
    return Math.max(ram, vram, cap);
  };
  const evictable = loaded.filter((model) => model.idle).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  const evict: string[] = [];
  let freedRam = 0;
  let freedVram = 0;
  let freedTotal = 0;
  for (const model of evictable) {
    if (deficits(freedRam, freedVram, freedTotal) <= 0) break;
    evict.push(model.id);
    freedRam += available.freeVramBytes === undefined ? totalBytes(model.need) : model.need.ramBytes;
    freedVram += model.need.vramBytes;
    freedTotal += totalBytes(model.need);
  }
  if (deficits(freedRam, freedVram, freedTotal) <= 0) return { fits: true, evict };
  const availableBytes = Math.max(
    0,
    Math.min(
      available.freeRamBytes + freedRam - limits.reserveBytes,
      limits.budgetBytes > 0 ? limits.budgetBytes - used + freedTotal : Infinity,
    ),
  );
  return {
    fits: false,
    neededBytes: totalBytes(need),
    availableBytes,
    busy: loaded.filter((model) => !model.idle).map((model) => model.id),
  };
}

export function insufficientMemory(id: string, plan: Extract<FitPlan, { fits: false }>): ApiError {
  const busy = plan.busy.length > 0 ? `; busy models that were not unloaded: ${plan.busy.join(', ')}` : '';
  return new ApiError(
    507,
    'insufficient_storage_error',
    `Not enough memory to load '${id}': it needs about ${megabytes(plan.neededBytes)} and ` +
      `${megabytes(plan.availableBytes)} can be used after unloading idle models` +
      ` (memory.reserveBytes and memory.budgetBytes apply)${busy}.`,
    'insufficient_memory',
    'model',
  );
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}
