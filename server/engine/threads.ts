import type { Backend } from './llama.ts';

export interface ThreadChoice {
  /** Undefined: leave node-llama-cpp's own default. */
  threads: number | undefined;
  reason: string;
}

/** Placeholder policy until the engine-throughput measurements land (issue 8). */
export function chooseThreads({
  backend,
  configured,
}: {
  backend: Backend;
  configured: number;
}): ThreadChoice {
  if (configured > 0) return { threads: configured, reason: 'configured (engine.threads)' };
  if (backend !== 'cpu') return { threads: undefined, reason: `${backend}: the GPU does the work` };
  return { threads: 1, reason: 'cpu: one thread avoids per-decode thread creation' };
}
