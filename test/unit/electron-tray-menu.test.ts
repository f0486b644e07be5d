import { describe, expect, it } from 'vitest';
import type { AppStatus } from '../../shared/ipc-contract.ts';
import { statusLine, trayMenu, type TrayActions } from '../../electron/main/tray-menu.ts';

const running: AppStatus = {
  supervisor: 'running',
  server: 'ready',
  serverUrl: 'http://127.0.0.1:1235',
  networkUrl: null,
  safeMode: false,
  restarts: 0,
  keepAwake: { policy: 'while-model-loaded', held: true },
  launchAtLogin: false,
  launchAtLoginNeedsApproval: false,
  autoUpdate: true,
  updateReady: null,
  thermal: 'nominal',
  speedLimitPercent: null,
  lastError: null,
};

function recordingActions() {
  const calls: [string, unknown][] = [];
  const actions: TrayActions = {
    openDashboard: (url) => calls.push(['openDashboard', url]),
    copyEndpoint: (endpoint) => calls.push(['copyEndpoint', endpoint]),
    setLaunchAtLogin: (enabled) => calls.push(['setLaunchAtLogin', enabled]),
    openLoginItemsSettings: () => calls.push(['openLoginItemsSettings', undefined]),
    setAutoUpdate: (enabled) => calls.push(['setAutoUpdate', enabled]),
    setKeepAwake: (enabled) => calls.push(['setKeepAwake', enabled]),
    revealLogs: () => calls.push(['revealLogs', undefined]),
    quit: () => calls.push(['quit', undefined]),
  };
  return { actions, calls };
}

const byId = (items: ReturnType<typeof trayMenu>, id: string) => items.find((item) => item.id === id)!;

describe('tray menu', () => {
  it('has the status line, dashboard, endpoint, login item, keep awake, logs and quit', () => {
    const { actions, calls } = recordingActions();
    const items = trayMenu(running, actions);
    expect(items.filter((item) => item.id).map((item) => item.id)).toEqual([
      'status',
      'open-dashboard',
      'copy-endpoint',
      'launch-at-login',
      'keep-awake',
      'auto-update',
      'reveal-logs',
      'quit',
    ]);
    expect(byId(items, 'status')).toMatchObject({
      label: 'LMX: serving on http://127.0.0.1:1235',
      enabled: false,
    });
    for (const item of items) item.click?.();
    expect(calls).toEqual([
      ['openDashboard', 'http://127.0.0.1:1235/ui/'],
      ['copyEndpoint', 'http://127.0.0.1:1235/v1'],
      ['setLaunchAtLogin', true],
      ['setKeepAwake', false],
      ['setAutoUpdate', false],
      ['revealLogs', undefined],
      ['quit', undefined],
    ]);
    expect(byId(items, 'keep-awake')).toMatchObject({ checked: true, label: 'Keep Awake (holding)' });
    expect(byId(items, 'launch-at-login')).toMatchObject({ type: 'checkbox', checked: false });
  });

  it('disables the server links while there is no server, and offers Force Quit while draining', () => {
    const { actions } = recordingActions();
    const items = trayMenu({ ...running, supervisor: 'draining', serverUrl: null }, actions);
    expect(byId(items, 'open-dashboard').enabled).toBe(false);
    expect(byId(items, 'copy-endpoint').enabled).toBe(false);
    expect(byId(items, 'quit').label).toBe('Force Quit');
  });

  it('says what is wrong: safe mode, failure, heat', () => {
    expect(statusLine({ ...running, supervisor: 'safe-mode' })).toMatch(/safe mode/);
    expect(
      statusLine({ ...running, supervisor: 'failed', lastError: 'lmx: Invalid configuration: port' }),
    ).toBe('LMX: failed: lmx: Invalid configuration: port');
    const { actions } = recordingActions();
    expect(byId(trayMenu({ ...running, thermal: 'critical' }, actions), 'thermal').label).toBe(
      'Thermal state: critical',
    );
  });

  it('hands out the network address, never 0.0.0.0, while the server is shared', () => {
    const { actions, calls } = recordingActions();
    const items = trayMenu({ ...running, networkUrl: 'http://192.168.1.20:1235' }, actions);
    expect(byId(items, 'copy-endpoint').label).toBe('Copy Network Endpoint URL');
    byId(items, 'copy-endpoint').click!();
    byId(items, 'open-dashboard').click!();
    expect(calls).toEqual([
      ['copyEndpoint', 'http://192.168.1.20:1235/v1'],
      ['openDashboard', 'http://127.0.0.1:1235/ui/'],
    ]);
  });

  it('takes the user to System Settings when macOS waits for the login item’s approval', () => {
    const { actions, calls } = recordingActions();
    const items = trayMenu({ ...running, launchAtLoginNeedsApproval: true }, actions);
    expect(byId(items, 'approve-login-item').label).toMatch(/System Settings/);
    byId(items, 'approve-login-item').click!();
    expect(calls).toEqual([['openLoginItemsSettings', undefined]]);
    expect(byId(trayMenu({ ...running, updateReady: '0.2.0' }, actions), 'auto-update').label).toBe(
      'Install Updates (0.2.0 at quit)',
    );
  });
});
