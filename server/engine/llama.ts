import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import type { Logger } from 'pino';
import type { GpuChoice } from '../config/schema.ts';
import { addonChoiceEnv, engineBuildKey, type EngineBuildKey } from './engine-build.ts';

export type Backend = 'metal' | 'cuda' | 'vulkan' | 'cpu';

/** Which native addon runs, and why: for the startup log and deep health. */
export interface AddonInfo {
  /** `patched`: LMX's build (persistent threadpool, batch threads); `prebuilt`: node-llama-cpp's binary. */
  kind: 'patched' | 'prebuilt';
  reason: string;
  /** The patched build's cache key (version, platform, backend, patch hash), when there is a patch. */
  buildKey?: string;
}

export interface LlamaRuntime {
  llama: Llama;
  backend: Backend;
  addon: AddonInfo;
}

/**
 * One Llama instance for the process. Prefers LMX's patched build of the addon (`npm run build:engine`, see
 * engine-build.ts) and falls back to node-llama-cpp's prebuilt binary with a warning when it is absent; a GPU
 * backend that cannot be had falls back to the CPU with a logged warning rather than refusing to start. Never
 * builds from source at run time.
 */
export async function createLlamaRuntime(
  gpu: GpuChoice,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LlamaRuntime> {
  const logLlama = (level: LlamaLogLevel, message: string) => {
    const text = message.trim();
    if (!text) return;
    if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) logger.error({ llama: true }, text);
    else if (level === LlamaLogLevel.warn) logger.warn({ llama: true }, text);
    else logger.debug({ llama: true }, text);
  };
  const forcePrebuilt = env[addonChoiceEnv] === 'prebuilt';
  const key = forcePrebuilt ? undefined : await engineBuildKey();
  const common = {
    build: 'never',
    // The patched build is found by its cmake options; without them node-llama-cpp loads the prebuilt binary.
    cmakeOptions: key?.cmakeOptions ?? {},
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
  const addon = describeAddon(llama.buildType, key, forcePrebuilt);
  if (addon.kind === 'prebuilt' && !forcePrebuilt)
    logger.warn({ addon: addon.kind, buildKey: addon.buildKey }, addon.reason);
  return { llama, backend, addon };
}

/** Why the addon that loaded is the one running. */
export function describeAddon(
  buildType: Llama['buildType'],
  key: EngineBuildKey | undefined,
  forcedPrebuilt: boolean,
): AddonInfo {
  if (forcedPrebuilt)
    return {
      kind: 'prebuilt',
      reason: `${addonChoiceEnv}=prebuilt: node-llama-cpp's prebuilt binary, as asked`,
    };
  if (!key)
    return {
      kind: 'prebuilt',
      reason: "no addon patches shipped (native/addon): node-llama-cpp's prebuilt binary",
    };
  if (buildType === 'localBuild')
    return {
      kind: 'patched',
      reason: `LMX's build of the addon (persistent threadpool per context, batch threads), patch ${key.patchHash}`,
      buildKey: key.cacheKey,
    };
  return {
    kind: 'prebuilt',
    reason:
      `LMX's build of the addon for patch ${key.patchHash} is missing or failed to load (run npm run build:engine): ` +
      "falling back to node-llama-cpp's prebuilt binary, without the persistent threadpool (slower with more than 1 thread)",
    buildKey: key.cacheKey,
  };
}
