/**
 * LMX's build of node-llama-cpp's native addon: compiled from the llama.cpp source the npm package bundles
 * (`llama/gitRelease.bundle`), with LMX's patches to the addon's C++ applied first (native/addon/*.patch: a
 * persistent ggml threadpool per context and separate batch threads; bench/engine-study.md says why).
 *
 * node-llama-cpp files a local build under `llama/localBuilds/<platform>-<arch>[-<gpu>]-<hash of custom cmake
 * options>`, and `getLlama()` loads it in preference to the prebuilt binary when called with the same custom cmake
 * options. So the build carries one extra cmake option naming the patch and the build options
 * (`LMX_ADDON_PATCH=<hash>`, unused by cmake): the runtime asks for exactly the build of the patch it ships, and a
 * build of an older patch or other options is never loaded by mistake. `npm ci` wipes node_modules, so the built folder is also kept in a cache outside it, keyed
 * by node-llama-cpp's version, the platform and the patch (`npm run build:engine` fills and reuses it).
 */
import { createHash } from 'node:crypto';
import { access, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import envPaths from 'env-paths';

/** The cmake option that names the patch in node-llama-cpp's build folder name. */
export const patchCmakeOption = 'LMX_ADDON_PATCH';

/**
 * The cmake options LMX's build is made with. OpenMP off, as in node-llama-cpp's prebuilt binaries and
 * llama-server's CPU builds: with OpenMP, ggml computes every graph on an OpenMP team of the calling thread
 * instead of the context's persistent threadpool, so each libuv thread that runs a decode keeps a team of its
 * own whose threads spin between graphs, and on 2 cores a 4-token batch took 3.5× as long inside the server as
 * alone (bench/engine-study.md §0d).
 */
export const buildCmakeOptions: Readonly<Record<string, string>> = { GGML_OPENMP: 'OFF' };

/** `LMX_ENGINE_ADDON=prebuilt` loads node-llama-cpp's prebuilt binary even when the patched build exists. */
export const addonChoiceEnv = 'LMX_ENGINE_ADDON';

export interface EngineBuildKey {
  nodeLlamaCppVersion: string;
  /** First 16 hex digits of the SHA-256 of the build options and the patch files' contents, in name order. */
  patchHash: string;
  /** What getLlama() must be given (and the build must have been made with) to find the build. */
  cmakeOptions: Record<string, string>;
  /** The cache entry's name: version, platform, arch, GPU backend and patch. */
  cacheKey: string;
}

const require = createRequire(import.meta.url);

/** node-llama-cpp's package directory (its `llama/` holds the addon source and the local builds). */
export function nodeLlamaCppDir(): string {
  return path.resolve(path.dirname(require.resolve('node-llama-cpp')), '..');
}

/**
 * Where the addon patches live in this checkout (absent in a packaged app that ships no patches).
 * LMX_ENGINE_PATCH_DIR points elsewhere: a patch set that was never built makes LMX fall back to the prebuilt
 * binary, which is how the fallback is tested.
 */
export function addonPatchDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LMX_ENGINE_PATCH_DIR || path.resolve(import.meta.dirname, '../../native/addon');
}

/** The GPU backend LMX builds for on this platform: Metal on macOS, the CPU elsewhere. */
export function buildGpu(platform: NodeJS.Platform = process.platform): 'metal' | false {
  return platform === 'darwin' ? 'metal' : false;
}

/** The patch files, sorted by name; empty when the directory is missing. */
export async function addonPatchFiles(dir = addonPatchDir()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((name) => name.endsWith('.patch'))
    .sort()
    .map((name) => path.join(dir, name));
}

/** The key of the build for the shipped patches, or undefined when there are none. */
export async function engineBuildKey(dir = addonPatchDir()): Promise<EngineBuildKey | undefined> {
  const files = await addonPatchFiles(dir);
  if (files.length === 0) return undefined;
  const hash = createHash('sha256').update(JSON.stringify(buildCmakeOptions));
  for (const file of files) hash.update(await readFile(file));
  const patchHash = hash.digest('hex').slice(0, 16);
  const pkg = JSON.parse(await readFile(path.join(nodeLlamaCppDir(), 'package.json'), 'utf8')) as {
    version: string;
  };
  const gpu = buildGpu() || 'cpu';
  return {
    nodeLlamaCppVersion: pkg.version,
    patchHash,
    cmakeOptions: { ...buildCmakeOptions, [patchCmakeOption]: patchHash },
    cacheKey: `node-llama-cpp-${pkg.version}-${process.platform}-${process.arch}-${gpu}-${patchHash}`,
  };
}

/** The cache of built addons: LMX_ENGINE_CACHE_DIR, else the user's cache directory (~/.cache/lmx/engine). */
export function engineCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LMX_ENGINE_CACHE_DIR || path.join(envPaths('lmx', { suffix: '' }).cache, 'engine');
}

/** node-llama-cpp's folder of local builds (inside node_modules: `npm ci` wipes it). */
export function localBuildsDir(): string {
  return path.join(nodeLlamaCppDir(), 'llama', 'localBuilds');
}

/** The finished local build made for this key's patch (its metadata carries the patch's cmake option), if any. */
export async function findLocalBuild(
  key: EngineBuildKey,
  dir = localBuildsDir(),
): Promise<string | undefined> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const metadata = await readFile(path.join(dir, name, 'Release', '_nlcBuildMetadata.json'), 'utf8').catch(
      () => '',
    );
    const done = await access(path.join(dir, name, 'buildDone.status')).then(
      () => true,
      () => false,
    );
    if (done && metadata.includes(`"${patchCmakeOption}"`) && metadata.includes(`"${key.patchHash}"`))
      return name;
  }
  return undefined;
}
