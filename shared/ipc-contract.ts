/**
 * The messages that cross LMX's process boundaries, as types only (`import type` from everywhere):
 *
 * - Electron main ⇄ server utility process (`utilityProcess` parentPort, or a child_process IPC channel
 *   standing in for it in tests): {@link MainToServer} and {@link ServerToMain}.
 * - Electron main ⇄ renderer (the preload bridge `window.lmx`): {@link LmxNativeBridge}.
 *
 * Nothing here has a runtime value, so the server, the app and the UI can share it without
 * importing each other (the value lists the messages are checked against are in host-signals.ts).
 */

import type { PowerEvent, ThermalState } from './host-signals.ts';

export type { PowerEvent, ThermalState };

/** The server process's own view of its life (not readiness: a ready server may have no model loaded). */
export type ServerProcessState = 'starting' | 'ready' | 'draining' | 'stopped';

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertKind =
  | 'thermal'
  | 'memory'
  | 'shedding'
  | 'breaker'
  | 'safe_mode'
  | 'download'
  | 'crash_loop'
  | 'start_failed'
  | 'model_crash'
  | 'disk';

/** Same shape as the `alert` event of GET /admin/events. */
export interface Alert {
  id: string;
  severity: AlertSeverity;
  kind: AlertKind;
  message: string;
  /** ISO timestamp. */
  at: string;
}

// ── Electron main → server ───────────────────────────────────────────────────────────────────────

/**
 * The first message, sent once the server has said `starting` (so nothing is lost before it listens).
 * Secrets travel here, never in argv (visible to `ps`) and preferably not in the environment.
 */
export interface InitMessage {
  type: 'init';
  adminKey?: string;
  apiKey?: string;
  /** Start without restoring models; /readyz says safe_mode until an admin leaves it. */
  safeMode?: boolean;
  safeModeReason?: string;
  /** Config values keyed like server/config/schema.ts; they win over file and LMX_* environment. */
  config?: Record<string, unknown>;
  /** How many times the supervisor has restarted the server since the app started. */
  restarts?: number;
}

/** Stop accepting, finish in-flight requests, free models, exit 0. */
export interface DrainMessage {
  type: 'drain';
}

export interface ThermalMessage {
  type: 'thermal';
  state: ThermalState;
}

export interface SpeedLimitMessage {
  type: 'speed-limit';
  /** The CPU speed limit in percent (100 = unthrottled). */
  percent: number;
}

export interface PowerMessage {
  type: 'power';
  event: PowerEvent;
}

export type HostSignalMessage = ThermalMessage | SpeedLimitMessage | PowerMessage;
export type MainToServer = InitMessage | DrainMessage | HostSignalMessage;

// ── server → Electron main ───────────────────────────────────────────────────────────────────────

export interface StateMessage {
  type: 'state';
  state: ServerProcessState;
  reason?: string;
}

export interface ListeningMessage {
  type: 'listening';
  /** e.g. http://127.0.0.1:1235 (no /v1). */
  url: string;
}

export type AlertMessage = { type: 'alert' } & Alert;

/** What the power guard needs to decide whether the Mac must stay awake; sent when it changes. */
export interface ActivityMessage {
  type: 'activity';
  loadedModels: number;
  loadingModels: number;
  inflight: number;
}

export type ServerToMain = StateMessage | ListeningMessage | AlertMessage | ActivityMessage;

// ── renderer ⇄ Electron main (preload bridge) ────────────────────────────────────────────────────

/** When the app keeps the Mac awake. */
export type KeepAwakePolicy = 'never' | 'while-model-loaded' | 'while-serving-requests';

export type SupervisorStatus =
  'idle' | 'starting' | 'running' | 'backoff' | 'safe-mode' | 'draining' | 'stopped' | 'failed';

/** Everything the tray and the window show about the app itself. */
export interface AppStatus {
  supervisor: SupervisorStatus;
  server: ServerProcessState | null;
  /** http://127.0.0.1:PORT while the server listens (loopback even when it is shared on the network). */
  serverUrl: string | null;
  /** http://<this Mac's address>:PORT while the server is shared on the network; else null. */
  networkUrl: string | null;
  safeMode: boolean;
  restarts: number;
  keepAwake: { policy: KeepAwakePolicy; held: boolean };
  launchAtLogin: boolean;
  /** macOS registered the login item but waits for the user's approval in System Settings. */
  launchAtLoginNeedsApproval: boolean;
  /** Whether the app checks for updates (at start and daily) and installs them on quit. */
  autoUpdate: boolean;
  /** The version downloaded and installed when the app quits, if any. */
  updateReady: string | null;
  thermal: ThermalState;
  speedLimitPercent: number | null;
  lastError: string | null;
}

export interface ServerConnection {
  /** http://127.0.0.1:PORT (no /v1). */
  url: string;
  adminKey: string;
}

/** `window.lmx`, present only inside the Electron app. */
export interface LmxNativeBridge {
  getConnection(): Promise<ServerConnection | null>;
  getStatus(): Promise<AppStatus>;
  setLaunchAtLogin(enabled: boolean): Promise<AppStatus>;
  /** Opens System Settings → General → Login Items, where macOS asks the user to approve the app. */
  openLoginItemsSettings(): Promise<void>;
  setAutoUpdate(enabled: boolean): Promise<AppStatus>;
  /** The window rotated the admin key: the app keeps the new one for the server's next start. */
  adminKeyRotated(adminKey: string): Promise<void>;
  setKeepAwake(policy: KeepAwakePolicy): Promise<AppStatus>;
  revealLogs(): Promise<void>;
  quit(): Promise<void>;
  /** Status pushes from the main process; returns the unsubscribe function. */
  onStatus(listener: (status: AppStatus) => void): () => void;
}

/** IPC channel names, one per bridge method; the preload and the main process must agree. */
export type IpcInvokeChannel =
  | 'lmx:get-connection'
  | 'lmx:get-status'
  | 'lmx:set-launch-at-login'
  | 'lmx:open-login-items-settings'
  | 'lmx:set-auto-update'
  | 'lmx:admin-key-rotated'
  | 'lmx:set-keep-awake'
  | 'lmx:reveal-logs'
  | 'lmx:quit';
export type IpcPushChannel = 'lmx:status';
