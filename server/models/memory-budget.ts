import type { MemoryAvailability } from '../engine/engine.ts';
import type { MemoryNeed } from '../engine/gguf.ts';

export type { MemoryNeed };

export function totalBytes(need: MemoryNeed): number {
  return need.ramBytes + need.vramBytes;
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
