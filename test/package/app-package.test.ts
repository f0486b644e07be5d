import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { init, parse } from 'es-module-lexer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkWithNode } from '../../electron/main/node-fork.ts';
import { ServerSupervisor } from '../../electron/main/supervisor.ts';
import type { ServerToMain } from '../../shared/ipc-contract.ts';
import { testModelPath } from '../fixtures/models.ts';
import { repoRoot, testConfigLayer } from '../helpers/server.ts';
import { packageApp, STAGED_METAL_BUILD, type PackagedApp } from './package-app.ts';

/**
 * The app folder's budget (Resources/app; Electron's own framework comes on top). LanceDB's Mac library is
 * 111 MB of it (the RAG store); the app measured 160 MiB with it (2026-12-02).
 */
const SIZE_BUDGET_BYTES = 200 * 1024 * 1024;

let app: PackagedApp;
beforeAll(async () => {
  app = await packageApp();
  process.stdout.write(`[package] steps (s): ${JSON.stringify(app.timings)}\n`);
});
afterAll(async () => app?.dispose());

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

const rel = (file: string) => path.relative(app.appDir, file);
const builtins = new Set((await import('node:module')).builtinModules);
const isBare = (specifier: string) =>
  !/^(\.|\/|node:|data:|file:)/.test(specifier) && !builtins.has(specifier.split('/')[0]!);
const packageName = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

/** Node's node_modules lookup from `fromDir`, stopped at the app folder (never above it). */
function findPackage(fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; dir.startsWith(app.appDir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === app.appDir) break;
  }
  return undefined;
}

describe('the packaged Mac app (electron-builder --mac dir --arm64, copied out of the tree)', () => {
  it('has nothing above it that Node could fall back to', () => {
    for (let dir = path.dirname(app.appDir); dir !== path.dirname(dir); dir = path.dirname(dir))
      expect(existsSync(path.join(dir, 'node_modules')), dir).toBe(false);
  });

  it('resolves every bare import of its own code, and every dependency of every package it ships', async () => {
    await init;
    const ours = (await filesUnder(path.join(app.appDir, 'dist', 'main'))).filter((f) =>
      /\.(m?js|cjs)$/.test(f),
    );
    expect(ours.map(rel)).toContain('dist/main/electron-main.js');
    const specifiers = new Map<string, string>();
    for (const file of ours) {
      const source = await readFile(file, 'utf8');
      const found = file.endsWith('.cjs')
        ? [...source.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!)
        : parse(source)[0].flatMap((entry) => (entry.n ? [entry.n] : []));
      for (const specifier of found.filter(isBare)) specifiers.set(specifier, rel(file));
    }
    // `electron` is built into Electron itself; everything else must be shipped.
    specifiers.delete('electron');
    expect([...specifiers.keys()]).toEqual(
      expect.arrayContaining([
        'fastify',
        'node-llama-cpp',
        'electron-log/main.js',
        'menubar',
        'electron-updater',
      ]),
    );
    const missing = [...specifiers].filter(
      ([specifier]) => !findPackage(path.join(app.appDir, 'dist', 'main'), packageName(specifier)),
    );
    expect(missing).toEqual([]);

    // Resolved as Node resolves them (package exports, conditions), from where the code lives.
    const probe = path.join(app.appDir, 'dist', 'main', '.resolve-probe.mjs');
    await writeFile(
      probe,
      'const out = {};\nfor (const s of process.argv.slice(2)) { try { out[s] = import.meta.resolve(s); } catch (e) { out[s] = `ERROR ${e.code}`; } }\nprocess.stdout.write(JSON.stringify(out));\n',
    );
    const resolved = JSON.parse(await runNode([probe, ...specifiers.keys()], app.appDir)) as Record<
      string,
      string
    >;
    await rm(probe);
    for (const [specifier, target] of Object.entries(resolved)) {
      expect(target, specifier).toMatch(/^file:/);
      expect(target.startsWith(`file://${app.appDir}/`), `${specifier} → ${target}`).toBe(true);
    }

    // The closure: every installed package's dependencies (not optional ones) are there too.
    const manifests = (await filesUnder(path.join(app.appDir, 'node_modules'))).filter(
      (file) =>
        path.basename(file) === 'package.json' &&
        path.basename(path.dirname(path.dirname(file))).match(/^(node_modules|@[^/]+)$/),
    );
    const unmet: string[] = [];
    for (const manifest of manifests) {
      const pkg = JSON.parse(await readFile(manifest, 'utf8')) as {
        name?: string;
        dependencies?: Record<string, string>;
      };
      if (!pkg.name) continue;
      for (const dependency of Object.keys(pkg.dependencies ?? {}))
        if (!findPackage(path.dirname(manifest), dependency)) unmet.push(`${pkg.name} → ${dependency}`);
    }
    expect(manifests.length).toBeGreaterThan(50);
    expect(unmet).toEqual([]);
  });

  it('`lmx` from an installed package imports only runtime dependencies (dev-only ones are bundled in)', async () => {
    await init;
    const manifest = JSON.parse(await readFile(path.join(app.tree, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      files: string[];
    };
    expect(manifest.files).toEqual(['bin/lmx.js', 'dist/cli', 'dist/renderer']);
    const cli = (await filesUnder(path.join(app.tree, 'dist', 'cli'))).filter((f) => f.endsWith('.js'));
    const packages = new Set<string>();
    for (const file of cli)
      for (const entry of parse(await readFile(file, 'utf8'))[0])
        if (entry.n && isBare(entry.n)) packages.add(packageName(entry.n));
    expect([...packages].filter((name) => !(name in manifest.dependencies))).toEqual([]);
    expect(packages.has('node-llama-cpp')).toBe(true);
  });

  it('carries node-llama-cpp’s Apple-silicon Metal binary and no Linux, Windows, CUDA or Vulkan one', async () => {
    expect(
      existsSync(path.join(app.appDir, 'node_modules/@node-llama-cpp/mac-arm64-metal/package.json')),
    ).toBe(true);
    expect(await readdir(path.join(app.appDir, 'node_modules/@node-llama-cpp'))).toEqual(['mac-arm64-metal']);
    const natives = (await filesUnder(app.appDir)).filter((f) => /\.(node|so|dylib|dll|exe)$|\.so\./.test(f));
    expect(natives.map(rel)).toContain(
      'node_modules/@node-llama-cpp/mac-arm64-metal/bins/mac-arm64-metal/llama-addon.node',
    );
    for (const file of natives) {
      expect(rel(file)).not.toMatch(/linux|win32|windows|cuda|vulkan|x64/i);
      // Mach-O 64-bit (0xfeedfacf, little-endian), not ELF or PE.
      const handle = await open(file);
      const { buffer } = await handle.read(Buffer.alloc(4), 0, 4, 0);
      await handle.close();
      expect(buffer.toString('hex'), rel(file)).toBe('cffaedfe');
    }
  });

  it('ships of LMX’s own addon build only what loads (Release/ and its done-marker), not its intermediates', async () => {
    const build = path.join(app.appDir, 'node_modules/node-llama-cpp/llama/localBuilds', STAGED_METAL_BUILD);
    expect((await filesUnder(build)).map((f) => path.relative(build, f)).sort()).toEqual([
      'Release/_nlcBuildMetadata.json',
      'Release/libggml-metal.dylib',
      'Release/llama-addon.node',
      'buildDone.status',
    ]);
  });

  it('ships compiled code, the renderer and the tray icon — no sources, tests, benchmarks or dev-only packages', async () => {
    const top = (await readdir(app.appDir)).sort();
    expect(top).toEqual(['build', 'dist', 'electron', 'native', 'node_modules', 'package.json']);
    // The addon patches, and nothing else of native/: they name the build of LMX's addon the app loads.
    const patches = (await readdir(path.join(repoRoot, 'native/addon'))).filter((f) => f.endsWith('.patch'));
    expect(patches.length).toBeGreaterThan(0);
    expect((await filesUnder(path.join(app.appDir, 'native'))).map(rel).sort()).toEqual(
      patches.map((f) => `native/addon/${f}`).sort(),
    );
    expect((await readdir(path.join(app.appDir, 'dist'))).sort()).toEqual(['main', 'renderer']);
    expect(await readdir(path.join(app.appDir, 'electron'))).toEqual(['static']);
    expect(existsSync(path.join(app.appDir, 'dist/renderer/index.html'))).toBe(true);
    expect(
      (await readdir(path.join(app.appDir, 'dist/renderer/assets'))).some((f) => f.endsWith('.js')),
    ).toBe(true);
    expect(existsSync(path.join(app.appDir, 'build/trayTemplate.png'))).toBe(true);
    const ownFiles = (await filesUnder(app.appDir)).filter((f) => !rel(f).startsWith('node_modules/'));
    expect(ownFiles.filter((f) => /\.(ts|tsx|map)$/.test(f)).map(rel)).toEqual([]);
    for (const devOnly of [
      'tsx',
      'autocannon',
      'electron',
      'electron-builder',
      'vite',
      'esbuild',
      'typescript',
      'vitest',
      'react',
      '@playwright/test',
      'patch-package',
      'openai',
    ])
      expect(existsSync(path.join(app.appDir, 'node_modules', devOnly)), devOnly).toBe(false);
    // llama.cpp's sources (34 MB) are for building from source; the app ships the built addon.
    expect(existsSync(path.join(app.appDir, 'node_modules/node-llama-cpp/llama/gitRelease.bundle'))).toBe(
      false,
    );
    const manifest = JSON.parse(await readFile(path.join(app.appDir, 'package.json'), 'utf8')) as {
      main: string;
    };
    expect(manifest.main).toBe('dist/main/electron-main.js');
  });

  it(`fits the size budget (${SIZE_BUDGET_BYTES / 1024 / 1024} MB)`, async () => {
    let bytes = 0;
    for (const file of await filesUnder(app.appDir)) bytes += (await stat(file)).size;
    process.stdout.write(`[package] Resources/app: ${(bytes / 1024 / 1024).toFixed(1)} MB\n`);
    expect(bytes).toBeLessThan(SIZE_BUDGET_BYTES);
  });

  it('is a Dock-less app with its icon and English only', async () => {
    const plist = await readFile(path.join(app.bundle, 'Contents/Info.plist'), 'utf8');
    expect(plist).toMatch(/<key>LSUIElement<\/key>\s*<true\/>/);
    expect(plist).toMatch(/<key>CFBundleIconFile<\/key>\s*<string>icon.icns<\/string>/);
    expect(existsSync(path.join(app.bundle, 'Contents/Resources/icon.icns'))).toBe(true);
    const locales = path.join(
      app.bundle,
      'Contents/Frameworks/Electron Framework.framework/Versions/A/Resources',
    );
    expect(await readdir(locales)).toEqual(['en.lproj']);
  });

  it('loads its main entry under plain Node with `electron` stubbed (past module loading)', async () => {
    const output = await runNode(
      [
        '--import',
        new URL('./electron-stub.mjs', import.meta.url).href,
        '--input-type=module',
        '-e',
        "await import('./dist/main/electron-main.js'); setTimeout(() => process.stdout.write(JSON.stringify(globalThis.__electronStubCalls)), 200);",
      ],
      app.appDir,
    );
    const calls = JSON.parse(output) as string[];
    // The entry ran to its single-instance check (the stub refuses the lock, so main() does not start).
    expect(calls).toContain('app.requestSingleInstanceLock');
    expect(calls.some((call) => call.startsWith('app.setPath(userData'))).toBe(true);
  });

  it('runs its server: the copied utility-process entry forked under plain Node loads a model, answers, drains, exits 0', async () => {
    // Node here is Linux: node-llama-cpp's and LanceDB's Linux binaries are put beside the Mac ones for this
    // run only.
    const lancedbBinaries = (await readdir(path.join(repoRoot, 'node_modules/@lancedb'))).filter((name) =>
      name.startsWith(`lancedb-${process.platform}-${process.arch}`),
    );
    const hostBinaries = [
      `@node-llama-cpp/${process.platform}-${process.arch}`,
      ...lancedbBinaries.map((name) => `@lancedb/${name}`),
    ];
    for (const binary of hostBinaries)
      await cp(path.join(repoRoot, 'node_modules', binary), path.join(app.appDir, 'node_modules', binary), {
        recursive: true,
      });
    const dataDir = path.join(path.dirname(app.appDir), 'server-data');
    const messages: ServerToMain[] = [];
    const output: string[] = [];
    const exits: number[] = [];
    const supervisor = new ServerSupervisor(
      {
        modulePath: path.join(app.appDir, 'dist/main/utility-process.js'),
        env: { PATH: process.env.PATH ?? '', HOME: dataDir },
        cwd: app.appDir,
      },
      {
        fork: forkWithNode,
        initPayload: async () => ({
          adminKey: 'lmx-package-test-admin-key',
          config: {
            ...testConfigLayer(dataDir),
            logLevel: 'info',
            startupModels: [await testModelPath()],
            // The first load runs in the copy's own probe process (dist/main/model-probe.js).
            models: { probeFirstLoad: true },
          },
        }),
        log: { info: () => {}, warn: () => {}, error: () => {} },
      },
    );
    supervisor.on('message', (message) => messages.push(message));
    supervisor.on('output', ({ line }) => output.push(line));
    supervisor.on('exit', ({ code, expected }) => exits.push(expected ? code : -1));
    try {
      supervisor.start();
      await until(() => messages.some((m) => m.type === 'activity' && m.loadedModels === 1), 120_000, output);
      const url = supervisor.serverUrl!;
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: models.data[0]!.id,
          messages: [{ role: 'user', content: 'Hello' }],
          max_tokens: 8,
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        choices: { message: { content: string } }[];
        usage: { completion_tokens: number };
      };
      expect(body.usage.completion_tokens).toBeGreaterThan(0);
      expect(typeof body.choices[0]!.message.content).toBe('string');
      // Served by the compiled code in the copy, not by the repository's sources.
      expect(output.join('\n')).not.toContain(repoRoot);
      expect(output.join('\n')).toContain('model probe passed');
      await supervisor.quit();
      expect(exits).toEqual([0]);
      expect(messages.filter((m) => m.type === 'state').map((m) => (m as { state: string }).state)).toEqual([
        'starting',
        'ready',
        'draining',
        'stopped',
      ]);
    } finally {
      await supervisor.quit({ force: true });
      for (const binary of hostBinaries)
        await rm(path.join(app.appDir, 'node_modules', binary), { recursive: true, force: true });
    }
  });
});

function runNode(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

async function until(predicate: () => boolean, timeoutMs: number, output: string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out; server output:\n${output.slice(-20).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
