import path from 'node:path';

export interface AppFolders {
  /** Electron's own: Chromium's caches and storage, the app's settings and its encrypted secrets. */
  userData: string;
  /** The server's: models, config.json, runtime state, logs — the same folder `lmx serve` uses. */
  serverData: string;
}

/**
 * Two folders, never one: Electron's default user-data folder (`Application Support/LMX`) is the
 * server's data folder, where Chromium's files would mix with the model library and the server's lock.
 * The server keeps the name it has headless, so the app and `lmx serve` share models and settings.
 */
export function appFolders(appData: string, serverDataDir: string | undefined): AppFolders {
  return {
    userData: path.join(appData, 'LMX App'),
    serverData: serverDataDir ? path.resolve(serverDataDir) : path.join(appData, 'LMX'),
  };
}
