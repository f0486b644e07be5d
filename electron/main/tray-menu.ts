import type { AppStatus } from '../../shared/ipc-contract.ts';

/** The subset of Electron's MenuItemConstructorOptions the tray menu uses. */
export interface MenuItemModel {
  id?: string;
  label?: string;
  type?: 'normal' | 'separator' | 'checkbox';
  checked?: boolean;
  enabled?: boolean;
  click?: () => void;
}

export interface TrayActions {
  openDashboard(url: string): void;
  copyEndpoint(endpoint: string): void;
  setLaunchAtLogin(enabled: boolean): void;
  openLoginItemsSettings(): void;
  setAutoUpdate(enabled: boolean): void;
  setKeepAwake(enabled: boolean): void;
  revealLogs(): void;
  quit(): void;
}

/** One line that says what the server is doing. */
export function statusLine(status: AppStatus): string {
  switch (status.supervisor) {
    case 'idle':
    case 'starting':
      return 'LMX: starting…';
    case 'running':
      return `LMX: serving on ${status.serverUrl ?? '…'}`;
    case 'safe-mode':
      return 'LMX: safe mode (crash loop)';
    case 'backoff':
      return `LMX: restarting after a crash (${status.restarts} so far)`;
    case 'draining':
      return 'LMX: stopping…';
    case 'stopped':
      return 'LMX: stopped';
    case 'failed':
      return `LMX: failed${status.lastError ? `: ${truncate(status.lastError, 60)}` : ''}`;
  }
}

/** The tray's context menu for a status. */
export function trayMenu(status: AppStatus, actions: TrayActions): MenuItemModel[] {
  const url = status.serverUrl;
  // Shared on the network, the endpoint to hand out is this Mac's address, not loopback.
  const endpoint = status.networkUrl ?? url;
  const thermalWarning =
    status.thermal === 'serious' || status.thermal === 'critical'
      ? [{ id: 'thermal', label: `Thermal state: ${status.thermal}`, enabled: false }]
      : [];
  return [
    { id: 'status', label: statusLine(status), enabled: false },
    ...thermalWarning,
    { type: 'separator' },
    {
      id: 'open-dashboard',
      label: 'Open Dashboard in Browser',
      enabled: url !== null,
      click: () => url && actions.openDashboard(`${url}/ui/`),
    },
    {
      id: 'copy-endpoint',
      label: status.networkUrl ? 'Copy Network Endpoint URL' : 'Copy Endpoint URL',
      enabled: endpoint !== null,
      click: () => endpoint && actions.copyEndpoint(`${endpoint}/v1`),
    },
    { type: 'separator' },
    {
      id: 'launch-at-login',
      label: 'Launch at Login',
      type: 'checkbox',
      checked: status.launchAtLogin,
      click: () => actions.setLaunchAtLogin(!status.launchAtLogin),
    },
    // macOS 13+ holds a new login item until the user allows it: say so, and take them there.
    ...(status.launchAtLoginNeedsApproval
      ? [
          {
            id: 'approve-login-item',
            label: 'Allow in System Settings → Login Items…',
            click: () => actions.openLoginItemsSettings(),
          },
        ]
      : []),
    {
      id: 'keep-awake',
      label: status.keepAwake.held ? 'Keep Awake (holding)' : 'Keep Awake',
      type: 'checkbox',
      checked: status.keepAwake.policy !== 'never',
      click: () => actions.setKeepAwake(status.keepAwake.policy === 'never'),
    },
    {
      id: 'auto-update',
      label: status.updateReady ? `Install Updates (${status.updateReady} at quit)` : 'Install Updates',
      type: 'checkbox',
      checked: status.autoUpdate,
      click: () => actions.setAutoUpdate(!status.autoUpdate),
    },
    { type: 'separator' },
    { id: 'reveal-logs', label: 'Reveal Logs', click: () => actions.revealLogs() },
    {
      id: 'quit',
      // While draining, a second Quit does not wait: say so.
      label: status.supervisor === 'draining' ? 'Force Quit' : 'Quit LMX',
      click: () => actions.quit(),
    },
  ];
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
