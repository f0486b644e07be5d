import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// electron-builder's beforePack hook, called as electron-builder calls it, on small trees.
const beforePack = (
  createRequire(import.meta.url)('../../build/before-pack.cjs') as {
    default: (context: unknown) => Promise<void>;
  }
).default;

const ARM64 = 3; // electron-builder's Arch.arm64
let root: string;
const context = () => ({ packager: { projectDir: root }, electronPlatformName: 'darwin', arch: ARM64 });

async function put(file: string, at?: Date): Promise<void> {
  await mkdir(path.dirname(path.join(root, file)), { recursive: true });
  await writeFile(path.join(root, file), '');
  if (at) await utimes(path.join(root, file), at, at);
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lmx-before-pack-'));
  const sourcesAt = new Date(Date.now() - 60_000);
  for (const source of [
    'server/server.ts',
    'electron/main/index.ts',
    'shared/ipc-contract.ts',
    'renderer/App.tsx',
  ])
    await put(source, sourcesAt);
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('packaging refuses what would ship a broken app', () => {
  it('without a build (the renderer and the compiled main process)', async () => {
    await expect(beforePack(context())).rejects.toThrow(
      /dist\/main\/electron-main\.js is missing: run `npm run build`/,
    );
  });

  it('with a build older than its sources', async () => {
    for (const file of [
      'dist/main/electron-main.js',
      'dist/main/utility-process.js',
      'dist/renderer/index.html',
    ])
      await put(file, new Date(Date.now() - 120_000));
    await expect(beforePack(context())).rejects.toThrow(/older than its sources/);
  });

  it('from a tree installed for another platform (no Mac node-llama-cpp binary)', async () => {
    for (const file of [
      'dist/main/electron-main.js',
      'dist/main/utility-process.js',
      'dist/renderer/index.html',
    ])
      await put(file);
    await put('node_modules/@node-llama-cpp/linux-x64/package.json');
    await expect(beforePack(context())).rejects.toThrow(
      /mac-arm64-metal is not installed.*npm ci --os=darwin --cpu=arm64/,
    );
    await put('node_modules/@node-llama-cpp/mac-arm64-metal/package.json');
    await expect(beforePack(context())).resolves.toBeUndefined();
  });
});
