import { readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import type { KeepAwakePolicy } from '../../shared/ipc-contract.ts';

/** The app's own settings (the server's live in its config.json; the login item lives in the OS). */
export interface AppSettings {
  keepAwake: KeepAwakePolicy;
  /** Check for updates at start and daily, download them, install at quit. */
  autoUpdate: boolean;
  /** A generic update feed (a folder with latest-mac.yml and the zip) instead of GitHub Releases. */
  updateFeedUrl?: string;
}

export const defaultAppSettings: AppSettings = { keepAwake: 'while-model-loaded', autoUpdate: true };

const policies: readonly KeepAwakePolicy[] = ['never', 'while-model-loaded', 'while-serving-requests'];

/** Reads the settings file; anything missing or invalid falls back to its default. */
export async function readAppSettings(file: string): Promise<AppSettings> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return { ...defaultAppSettings };
  }
  const stored = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const settings: AppSettings = {
    keepAwake: policies.includes(stored.keepAwake as KeepAwakePolicy)
      ? (stored.keepAwake as KeepAwakePolicy)
      : defaultAppSettings.keepAwake,
    autoUpdate: typeof stored.autoUpdate === 'boolean' ? stored.autoUpdate : defaultAppSettings.autoUpdate,
  };
  if (typeof stored.updateFeedUrl === 'string' && /^https?:\/\//.test(stored.updateFeedUrl))
    settings.updateFeedUrl = stored.updateFeedUrl;
  return settings;
}

export async function writeAppSettings(file: string, settings: AppSettings): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(settings, null, 2)}\n`);
}
