#!/usr/bin/env node
// The server, the `lmx` command, the app's main process and its preload compiled to JavaScript with
// esbuild (`npm run build` runs this after building the renderer with vite). What runs from a package
// — the packaged app or an installed `lmx` — is this output: no TypeScript loader at run time.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import * as esbuild from 'esbuild';

const repoRoot = path.resolve(import.meta.dirname, '..');

/**
 * The entry points (move a source, change it here): the `lmx` command for an installed package, and
 * the app's two processes, built apart so the app carries nothing only the command needs (the load
 * generator, autocannon).
 */
export const builds = {
  'dist/cli': {
    lmx: 'cli/main.ts', // bin/lmx.js runs it
    'model-probe': 'server/engine/model-probe-child.ts', // forked by the server beside it (model-probe.ts)
  },
  'dist/main': {
    'utility-process': 'server/hosts/utility-process.ts', // the server as the app's utility process
    'model-probe': 'server/engine/model-probe-child.ts', // forked by the server beside it (model-probe.ts)
    'electron-main': 'electron/main/index.ts', // the app's main process (its package.json "main")
  },
};
/** The sandboxed preload (CommonJS that may require only `electron`), beside the main process. */
export const preload = { entry: 'electron/preload/index.cjs', outDir: 'dist/main' };

const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

/**
 * Runtime dependencies stay imports, resolved from node_modules as they would be from the sources.
 * Everything else the entries reach is bundled in — so a dev-only package (autocannon, reached by
 * `lmx bench`) is never imported from a package that does not ship it.
 */
const external = [
  'electron',
  ...Object.keys(manifest.dependencies ?? {}).flatMap((name) => [name, `${name}/*`]),
  ...builtinModules.flatMap((name) => [name, `node:${name}`]),
];

/**
 * `import.meta.url` / `dirname` / `filename` keep meaning the SOURCE file's location: the code finds
 * package.json and dist/renderer relative to where it is written, and every bundle lands in one
 * folder. Rewritten lexically, so the source folders need not exist beside the output.
 */
const sourceLocation = (outDir) => ({
  name: 'source-location',
  setup(build) {
    const outAbs = path.join(repoRoot, outDir);
    build.onLoad({ filter: /\.(ts|mts|mjs)$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.')) return undefined;
      const relFile = path.relative(outAbs, args.path).split(path.sep).join('/');
      const relDir = path.posix.dirname(relFile);
      const contents = text.replace(/\bimport\.meta\.(dirname|filename|url)\b/g, (_match, what) => {
        if (what === 'url') return `new URL(${JSON.stringify(relFile)}, import.meta.url).href`;
        const target = what === 'dirname' ? relDir : relFile;
        return `__lmxPath.join(import.meta.dirname, ${JSON.stringify(target)})`;
      });
      return { contents, loader: args.path.endsWith('.ts') || args.path.endsWith('.mts') ? 'ts' : 'js' };
    });
  },
});

export async function compile() {
  for (const [outDir, entryPoints] of Object.entries(builds)) await compileEntries(outDir, entryPoints);
  await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: { preload: preload.entry },
    outdir: preload.outDir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20.12',
    external: ['electron'],
    logLevel: 'warning',
  });
}

async function compileEntries(outDir, entryPoints) {
  await rm(path.join(repoRoot, outDir), { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints,
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.12',
    external,
    define: { LMX_COMPILED: 'true' },
    // CommonJS bundled into ESM (autocannon's tree) may still call require(); and the location rewrite
    // needs path.
    banner: {
      js: [
        "import { createRequire as __lmxCreateRequire } from 'node:module';",
        "import __lmxPath from 'node:path';",
        'const require = __lmxCreateRequire(import.meta.url);',
      ].join('\n'),
    },
    // Chunks beside the entries: the location rewrite assumes every output file is in outDir itself.
    chunkNames: '[name]-[hash]',
    keepNames: true,
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [sourceLocation(outDir)],
  });
}

if (process.argv[1] === import.meta.filename) await compile();
