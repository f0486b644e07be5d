import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/server.ts';
import { writeStubElectronApp } from './stub-electron-app.ts';

const run = promisify(execFile);

export interface PackagedApp {
  /** Resources/app, copied out of the build tree (nothing above it has a node_modules). */
  appDir: string;
  /** The .app bundle electron-builder made, inside the temporary tree. */
  bundle: string;
  /** The temporary, built tree (its dist/cli is what `npm pack` would ship). */
  tree: string;
  /** Seconds per step, for the report. */
  timings: Record<string, number>;
  dispose(): Promise<void>;
}

async function step<T>(timings: Record<string, number>, name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[name] = Math.round((performance.now() - started) / 100) / 10;
  }
}

/**
 * The packaged Mac app as a release would make it, here: the working tree copied to a temporary
 * folder (tracked and new files, as `git ls-files` lists them), built, then installed for macOS arm64
 * (`npm ci --os=darwin --cpu=arm64 --ignore-scripts`, the patch step) and packed by electron-builder
 * `--mac dir --arm64` against a stub Electron.app.
 *
 * The build runs before the darwin install, with this machine's node_modules linked in: the build
 * tools (esbuild, vite's rolldown) are native, and a darwin tree has only their Mac binaries. Their
 * output is platform-independent JavaScript.
 */
export async function packageApp(): Promise<PackagedApp> {
  const timings: Record<string, number> = {};
  const work = await mkdtemp(path.join(tmpdir(), 'lmx-package-'));
  const tree = path.join(work, 'tree');
  const electronDist = path.join(work, 'electron-dist');
  const env = {
    ...process.env,
    CI: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    // What the release workflow sets; app-update.yml and publishing read them.
    LMX_RELEASE_OWNER: 'lmx-package-test',
    LMX_RELEASE_REPO: 'lmx',
    CSC_IDENTITY_AUTO_DISCOVERY: 'false',
  };
  const sh = (file: string, args: string[], cwd = tree) =>
    run(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });

  await step(timings, 'copy the tree', async () => {
    const { stdout } = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
    });
    const files = stdout.split('\0').filter(Boolean);
    for (const file of files) {
      await mkdir(path.dirname(path.join(tree, file)), { recursive: true });
      await cp(path.join(repoRoot, file), path.join(tree, file), { force: true }).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error; // deleted in the working tree, not yet in git
        },
      );
    }
  });
  await step(timings, 'npm run build', async () => {
    await symlink(path.join(repoRoot, 'node_modules'), path.join(tree, 'node_modules'));
    await sh('npm', ['run', 'build']);
    await rm(path.join(tree, 'node_modules'));
  });
  await step(timings, 'npm ci --os=darwin --cpu=arm64 --ignore-scripts', () =>
    sh('npm', ['ci', '--os=darwin', '--cpu=arm64', '--ignore-scripts']),
  );
  await step(timings, 'npx patch-package', () => sh('npx', ['patch-package']));
  // The folder `npm run build:engine` leaves on a Mac (no Metal build can be made here): what ships of it.
  await step(timings, 'stage a Metal addon build', () => stageMetalAddonBuild(tree));
  await step(timings, 'electron-builder --mac dir --arm64', async () => {
    await writeStubElectronApp(electronDist);
    await sh(process.execPath, [
      path.join(tree, 'node_modules', 'electron-builder', 'cli.js'),
      '--mac',
      'dir',
      '--arm64',
      '--publish',
      'never',
      `-c.electronDist=${electronDist}`,
      '-c.electronVersion=45.5.0',
    ]);
  });
  const bundle = path.join(tree, 'dist', 'app', 'mac-arm64', 'LMX.app');
  const appDir = path.join(work, 'copied', 'app');
  await step(timings, 'copy Resources/app out', () =>
    cp(path.join(bundle, 'Contents', 'Resources', 'app'), appDir, {
      recursive: true,
      verbatimSymlinks: true,
    }),
  );
  return { appDir, bundle, tree, timings, dispose: () => rm(work, { recursive: true, force: true }) };
}

/** A Mach-O file's first bytes (64-bit, little-endian). */
const MACH_O_MAGIC = Buffer.from('cffaedfe', 'hex');

/** A build folder as node-llama-cpp's `source build` files it, with its intermediates; matches no patch. */
export const STAGED_METAL_BUILD = 'mac-arm64-metal-lmxpackagetest';

async function stageMetalAddonBuild(tree: string): Promise<void> {
  const folder = path.join(tree, 'node_modules/node-llama-cpp/llama/localBuilds', STAGED_METAL_BUILD);
  const files: Record<string, Buffer | string> = {
    'Release/llama-addon.node': MACH_O_MAGIC,
    'Release/libggml-metal.dylib': MACH_O_MAGIC,
    'Release/_nlcBuildMetadata.json': '{"buildOptions":{"customCmakeOptions":{}}}',
    'buildDone.status': '',
    'bin/libggml-metal.dylib': MACH_O_MAGIC,
    'CMakeFiles/llama-addon.dir/addon.cpp.o': 'object',
    'llama.cpp/src/llama.cpp.o': 'object',
    'CMakeCache.txt': 'cache',
    'build.ninja': 'ninja',
    '.ninja_log': 'log',
  };
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(folder, file)), { recursive: true });
    await writeFile(path.join(folder, file), content);
  }
}
