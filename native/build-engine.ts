// `npm run build:engine`: node-llama-cpp's addon built from the llama.cpp source the package bundles, with LMX's
// patches to the addon's C++ (native/addon/*.patch), filed where getLlama() finds it (server/engine/engine-build.ts
// says how LMX then loads it). A build takes 10–15 minutes on 2 cores, so the result is kept in a cache outside
// node_modules keyed by node-llama-cpp's version, the platform and the patch; a second run copies it (seconds).
//
//   --cached-only   restore from the cache if there is an entry, never build (postinstall: npm ci wipes the build)
//   --rebuild       build even when the cache has an entry
//
// Offline: `source download` clones the package's own git bundle, and the build uses the machine's cmake and
// compiler. The addon's sources are restored to the published ones afterwards, whatever happens.

import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  addonPatchFiles,
  buildGpu,
  engineBuildKey,
  engineCacheDir,
  findLocalBuild,
  localBuildsDir,
  nodeLlamaCppDir,
  patchCmakeOption,
} from '../server/engine/engine-build.ts';

const cachedOnly = process.argv.includes('--cached-only');
const rebuild = process.argv.includes('--rebuild');

/** What the cache entry records next to the build folder. */
interface CacheRecord {
  folder: string;
  cacheKey: string;
  builtAt: string;
  /** Null when the build was adopted from node_modules rather than timed here. */
  buildSeconds: number | null;
}

async function main(): Promise<number> {
  const key = await engineBuildKey();
  if (!key) {
    log('no addon patches (native/addon/*.patch): nothing to build');
    return 0;
  }
  const pkgDir = nodeLlamaCppDir();
  // node-llama-cpp's own CLI, by path: `npx node-llama-cpp` run inside the package's folder finds no local
  // bin there and, with --no, fails on a machine whose npx cache never held it.
  const cli = path.join(pkgDir, 'dist', 'cli', 'cli.js');
  const localBuilds = localBuildsDir();
  const entry = path.join(engineCacheDir(), key.cacheKey);
  const record = await readRecord(entry);
  if (record && !rebuild) {
    const started = performance.now();
    const target = path.join(localBuilds, record.folder);
    await rm(target, { recursive: true, force: true });
    await mkdir(localBuilds, { recursive: true });
    await cp(path.join(entry, record.folder), target, { recursive: true, verbatimSymlinks: true });
    log(
      `restored ${record.folder} from ${entry} in ${seconds(started)} s (built ${record.builtAt}${record.buildSeconds === null ? '' : ` in ${record.buildSeconds} s`})`,
    );
    return 0;
  }
  // Built here before (by an earlier run whose cache was since cleared): keep it, and cache it.
  const existing = await findLocalBuild(key, localBuilds);
  if (existing && !rebuild) {
    if (!cachedOnly) await storeInCache(entry, localBuilds, existing, key.cacheKey, null);
    log(`${existing} is already built${cachedOnly ? '' : `; cached in ${entry}`}`);
    return 0;
  }
  if (cachedOnly) {
    log(
      `no cached build for ${key.cacheKey}; run npm run build:engine to build it (LMX uses the prebuilt binary until then)`,
    );
    return 0;
  }

  const started = performance.now();
  const gpu = buildGpu();
  const gpuArg = gpu === false ? 'false' : gpu;
  log(
    `building ${key.cacheKey} (node-llama-cpp ${key.nodeLlamaCppVersion}, gpu ${gpuArg}); this takes minutes`,
  );
  await run(process.execPath, [cli, 'source', 'download', '--skipBuild', '--gpu', gpuArg], pkgDir);
  const patches = await addonPatchFiles();
  const applied: string[] = [];
  try {
    for (const file of patches) {
      // A run that was killed may have left a patch applied: then it only needs reverting afterwards.
      const alreadyApplied = await run(
        'patch',
        ['-p1', '-R', '--dry-run', '--silent', '-i', file],
        pkgDir,
        {},
        'ignore',
      ).then(
        () => true,
        () => false,
      );
      if (!alreadyApplied) await run('patch', ['-p1', '--forward', '--silent', '-i', file], pkgDir);
      applied.push(file);
    }
    await run(
      process.execPath,
      [cli, 'source', 'build', '--gpu', gpuArg, '--noUsageExample'],
      pkgDir,
      Object.fromEntries(
        Object.entries(key.cmakeOptions).map(([name, value]) => [
          `NODE_LLAMA_CPP_CMAKE_OPTION_${name}`,
          value,
        ]),
      ),
    );
  } finally {
    for (const file of applied.reverse()) await run('patch', ['-p1', '-R', '--silent', '-i', file], pkgDir);
  }
  const folder = await findLocalBuild(key, localBuilds);
  if (!folder)
    throw new Error(
      `the build finished but no folder in ${localBuilds} carries ${patchCmakeOption}=${key.patchHash}`,
    );
  const buildSeconds = Number(seconds(started));
  await storeInCache(entry, localBuilds, folder, key.cacheKey, buildSeconds);
  log(`built ${folder} in ${buildSeconds} s; cached in ${entry}`);
  return 0;
}

/** Copies a finished build into the cache, under a temporary name renamed at the end (an entry is whole or absent). */
async function storeInCache(
  entry: string,
  localBuilds: string,
  folder: string,
  cacheKey: string,
  buildSeconds: number | null,
): Promise<void> {
  const partial = `${entry}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  // What node-llama-cpp loads (Release/: the addon, its libraries, the build metadata) and its done marker;
  // not the cmake tree.
  for (const part of ['Release', 'buildDone.status'])
    await cp(path.join(localBuilds, folder, part), path.join(partial, folder, part), {
      recursive: true,
      verbatimSymlinks: true,
    });
  const record: CacheRecord = { folder, cacheKey, builtAt: new Date().toISOString(), buildSeconds };
  await writeFile(path.join(partial, 'lmx-engine-build.json'), `${JSON.stringify(record, null, 2)}\n`);
  await rm(entry, { recursive: true, force: true });
  await rename(partial, entry);
}

async function readRecord(entry: string): Promise<CacheRecord | undefined> {
  try {
    const record = JSON.parse(
      await readFile(path.join(entry, 'lmx-engine-build.json'), 'utf8'),
    ) as CacheRecord;
    await stat(path.join(entry, record.folder, 'buildDone.status'));
    return record;
  } catch {
    return undefined;
  }
}

function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  stdio: 'inherit' | 'ignore' = 'inherit',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

function log(line: string): void {
  console.log(`[build:engine] ${line}`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[build:engine] failed: ${error instanceof Error ? error.message : String(error)}`);
    console.error("[build:engine] LMX will run node-llama-cpp's prebuilt binary (deep health says so)");
    process.exit(cachedOnly ? 0 : 1);
  },
);
