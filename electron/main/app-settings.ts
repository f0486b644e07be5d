import { readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import type { KeepAwakePolicy } from '../../shared/ipc-contract.ts';

/** The app's own settings (the server's live in its config.json; the login item lives in the OS). */
export interface AppSettings {
  keepAwake: KeepAwakePolicy;
}

export const defaultAppSettings: AppSettings = { keepAwake: 'while-model-loaded' };

const policies: readonly KeepAwakePolicy[] = ['never', 'while-model-loaded', 'while-serving-requests'];

/** Reads the settings file; anything missing or invalid falls back to its default. */
export async function readAppSettings(file: string): Promise<AppSettings> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return { ...defaultAppSettings };
  }
  const keepAwake = (parsed as { keepAwake?: unknown } | null)?.keepAwake;
  return {
    keepAwake: policies.includes(keepAwake as KeepAwakePolicy)
      ? (keepAwake as KeepAwakePolicy)
      : defaultAppSettings.keepAwake,
  };
}

export async function writeAppSettings(file: string, settings: AppSettings): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(settings, null, 2)}\n`);
}
