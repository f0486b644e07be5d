import type {
  AppStatus,
  KeepAwakePolicy,
  ServerProcessState,
  SupervisorStatus,
  ThermalState,
} from '../../shared/ipc-contract.ts';

/** Where each part of the status comes from (the modules that own it). */
export interface StatusSources {
  supervisor: {
    status: SupervisorStatus;
    serverState: ServerProcessState | null;
    serverUrl: string | null;
    networkUrl: string | null;
    safeMode: boolean;
    restarts: number;
    lastError: string | null;
  };
  powerGuard: { currentPolicy: KeepAwakePolicy; held: boolean };
  loginItem: { state: { enabled: boolean; needsApproval: boolean } };
  updates: { enabled: boolean; readyVersion: string | null };
  host: { thermalState: ThermalState; speedLimitPercent: number | null };
}

/** The status the tray, the window and the bridge show, read fresh from its owners. */
export function appStatus(sources: StatusSources): AppStatus {
  const { supervisor, powerGuard, loginItem, updates, host } = sources;
  const login = loginItem.state;
  return {
    supervisor: supervisor.status,
    server: supervisor.serverState,
    serverUrl: supervisor.serverUrl,
    networkUrl: supervisor.networkUrl,
    safeMode: supervisor.safeMode,
    restarts: supervisor.restarts,
    keepAwake: { policy: powerGuard.currentPolicy, held: powerGuard.held },
    launchAtLogin: login.enabled,
    launchAtLoginNeedsApproval: login.needsApproval,
    autoUpdate: updates.enabled,
    updateReady: updates.readyVersion,
    thermal: host.thermalState,
    speedLimitPercent: host.speedLimitPercent,
    lastError: supervisor.lastError,
  };
}
