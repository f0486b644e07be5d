/**
 * `window.lmx`: what the Electron preload exposes (contextBridge). In a plain browser at /ui it is
 * absent and every native control is hidden.
 *
 * The shape is the one shared/ipc-contract.ts gives the preload (`LmxNativeBridge`), repeated here
 * structurally so the renderer keeps to its own tsconfig and the browser build needs nothing from
 * electron/. Server URL and admin key come through getConnection(); launch at login, keep awake,
 * quit and reveal logs are the native actions.
 */

export type KeepAwakePolicy = 'never' | 'while-model-loaded' | 'while-serving-requests';

export interface NativeConnection {
  /** http://127.0.0.1:PORT (no /v1). */
  url: string;
  adminKey: string;
}

/** The part of the app's status the window uses. */
export interface NativeStatus {
  serverUrl: string | null;
  launchAtLogin: boolean;
  /** macOS waits for the user to allow LMX in System Settings → General → Login Items. */
  launchAtLoginNeedsApproval: boolean;
  autoUpdate: boolean;
  keepAwake: { policy: KeepAwakePolicy; held: boolean };
  lastError: string | null;
}

export interface NativeBridge {
  /** Null while the server is not listening yet. */
  getConnection(): Promise<NativeConnection | null>;
  getStatus(): Promise<NativeStatus>;
  setLaunchAtLogin(enabled: boolean): Promise<NativeStatus>;
  openLoginItemsSettings(): Promise<void>;
  setAutoUpdate(enabled: boolean): Promise<NativeStatus>;
  /** Tells the app the admin key was rotated, so its next server start uses the new one. */
  adminKeyRotated(adminKey: string): Promise<void>;
  setKeepAwake(policy: KeepAwakePolicy): Promise<NativeStatus>;
  revealLogs(): Promise<void>;
  quit(): Promise<void>;
  /** Status pushes from the main process; returns the unsubscribe function. */
  onStatus(listener: (status: NativeStatus) => void): () => void;
}

declare global {
  interface Window {
    lmx?: NativeBridge;
  }
}

export function nativeBridge(): NativeBridge | undefined {
  return typeof window === 'undefined' ? undefined : window.lmx;
}
