import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type ElectronBinary = { found: true; path: string } | { found: false; reason: string };

/**
 * Where the Electron executable is, found the way the `electron` package finds it — but without
 * `require('electron')`, which tries to download a missing binary (impossible offline).
 */
export function findElectronBinary(repoRoot: string, env: NodeJS.ProcessEnv = process.env): ElectronBinary {
  const packageDir = path.join(repoRoot, 'node_modules', 'electron');
  if (!existsSync(path.join(packageDir, 'package.json')))
    return { found: false, reason: 'the electron package is not installed' };
  const pathFile = path.join(packageDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const distDir = env.ELECTRON_OVERRIDE_DIST_PATH || path.join(packageDir, 'dist');
  const executable = path.join(distDir, relative || 'electron');
  if (!relative && !env.ELECTRON_OVERRIDE_DIST_PATH)
    return {
      found: false,
      reason: `no Electron binary: ${pathFile} is missing (the binary was never downloaded)`,
    };
  if (!existsSync(executable)) return { found: false, reason: `no Electron binary at ${executable}` };
  return { found: true, path: executable };
}
