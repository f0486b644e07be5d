import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findElectronBinary } from '../../electron/binary.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lmx-electron-bin-'));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

async function installPackage(withBinary: boolean): Promise<string> {
  const dir = path.join(root, 'node_modules', 'electron');
  await mkdir(path.join(dir, 'dist'), { recursive: true });
  await writeFile(path.join(dir, 'package.json'), '{"name":"electron"}');
  if (withBinary) {
    await writeFile(path.join(dir, 'path.txt'), 'electron');
    await writeFile(path.join(dir, 'dist', 'electron'), '');
  }
  return dir;
}

describe('findElectronBinary', () => {
  it('says why when the package or its binary is missing (never downloading it)', async () => {
    expect(findElectronBinary(root, {})).toEqual({
      found: false,
      reason: 'the electron package is not installed',
    });
    await installPackage(false);
    const missing = findElectronBinary(root, {});
    expect(missing.found).toBe(false);
    expect(missing.found === false && missing.reason).toMatch(/path\.txt is missing/);
  });

  it('finds the binary as the electron package would', async () => {
    const dir = await installPackage(true);
    expect(findElectronBinary(root, {})).toEqual({ found: true, path: path.join(dir, 'dist', 'electron') });
    expect(findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: path.join(root, 'nowhere') }).found).toBe(
      false,
    );
  });

  it('reports this checkout truthfully', () => {
    const result = findElectronBinary(path.resolve(import.meta.dirname, '../..'));
    // Here (offline Linux) there is no binary; on a Mac after `npm ci` there is. Either way it answers.
    expect(typeof result.found).toBe('boolean');
  });
});
