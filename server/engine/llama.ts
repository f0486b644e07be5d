import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import type { Logger } from 'pino';
import type { GpuChoice } from '../config/schema.ts';

export type Backend = 'metal' | 'cuda' | 'vulkan' | 'cpu';

export interface LlamaRuntime {
  llama: Llama;
  backend: Backend;
}

/**
 * One Llama instance for the process. A GPU backend that cannot be had falls back to the CPU with a
 * logged warning rather than refusing to start. Never builds from source: prebuilt binaries only.
 */
export async function createLlamaRuntime(gpu: GpuChoice, logger: Logger): Promise<LlamaRuntime> {
  const logLlama = (level: LlamaLogLevel, message: string) => {
    const text = message.trim();
    if (!text) return;
    if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) logger.error({ llama: true }, text);
    else if (level === LlamaLogLevel.warn) logger.warn({ llama: true }, text);
    else logger.debug({ llama: true }, text);
  };
  const common = {
    build: 'never',
    logLevel: LlamaLogLevel.warn,
    logger: logLlama,
    progressLogs: false,
  } as const;
  let llama: Llama;
  try {
    llama = await getLlama({ ...common, gpu: gpu === 'off' ? false : gpu });
  } catch (error) {
    if (gpu === 'off') throw error;
    logger.warn({ err: error, requested: gpu }, 'GPU backend unavailable; falling back to CPU');
    llama = await getLlama({ ...common, gpu: false });
  }
  const backend: Backend = llama.gpu === false ? 'cpu' : llama.gpu;
  if (gpu !== 'auto' && gpu !== 'off' && backend !== gpu) {
    logger.warn({ requested: gpu, backend }, 'requested GPU backend not available; using %s', backend);
  }
  return { llama, backend };
}
