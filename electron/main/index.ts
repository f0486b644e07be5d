/**
 * The composition root of the menu-bar app: the only file that touches Electron's APIs. Every concern
 * lives in its own module (tested without Electron) and is wired here.
 */
import path from 'node:path';
import {
  app,
  clipboard,
  ipcMain,
  Menu,
  Notification,
  powerMonitor,
  powerSaveBlocker,
  safeStorage,
  session,
  shell,
  utilityProcess,
  type MenuItemConstructorOptions,
} from 'electron';
import log from 'electron-log/main.js';
import electronUpdater from 'electron-updater';
import { menubar } from 'menubar';
import type { Alert, AppStatus, IpcPushChannel, KeepAwakePolicy } from '../../shared/ipc-contract.ts';
import { AdminKeys } from './admin-key.ts';
import { appFiles } from './app-files.ts';
import { appFolders } from './app-folders.ts';
import { appLogFile, rotateLogFiles } from './app-logs.ts';
import { readAppSettings, writeAppSettings } from './app-settings.ts';
import { appStatus } from './app-status.ts';
import { HostMonitor } from './host-monitor.ts';
import { registerBridgeHandlers } from './ipc.ts';
import { parseLaunchFlags } from './launch-flags.ts';
import { LoginItem, loginItemsSettingsUrl } from './login-item.ts';
import { PowerGuard } from './power-guard.ts';
import { probeReadiness } from './readiness.ts';
import { SecretStore } from './secrets.ts';
import {
  contentSecurityPolicy,
  guardNavigation,
  guardPermissions,
  secureWebPreferences,
  TrustedPages,
  withContentSecurityPolicy,
} from './security.ts';
import { appLogLevel } from './server-output.ts';
import type { ForkServer, ServerProcessHandle } from './server-process.ts';
import { ServerSupervisor } from './supervisor.ts';
import { trayMenu } from './tray-menu.ts';
import { AutoUpdates } from './updater.ts';

const appRoot = path.resolve(import.meta.dirname, '..', '..');
const paths = appFiles(appRoot);
const statusChannel: IpcPushChannel = 'lmx:status';
const LOG_FILE_MAX_BYTES = 10 * 1024 * 1024;
const LOG_FILES_KEPT = 5;

app.setName('LMX');
// `npm start -- <flags>` / `open LMX.app --args <flags>`: `lmx serve`'s flags, for the server.
const launch = parseLaunchFlags(process.argv.slice(app.isPackaged ? 1 : 2));
const folders = appFolders(
  app.getPath('appData'),
  (launch.config.dataDir as string | undefined) ?? process.env.LMX_DATA_DIR,
);
// Before the single-instance lock, which lives in the user-data folder.
app.setPath('userData', folders.userData);

// One app per user: a second launch only shows the first one's window.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  configureLogging();
  void app.whenReady().then(main, (error: unknown) => {
    log.error('the app failed to start', error);
    app.exit(1);
  });
}

function configureLogging(): void {
  const file = appLogFile(app.getPath('logs'));
  log.transports.file.resolvePathFn = () => file;
  log.transports.file.maxSize = LOG_FILE_MAX_BYTES;
  log.transports.file.archiveLogFn = (oldFile) => rotateLogFiles(oldFile.path, LOG_FILES_KEPT);
  log.transports.file.level = 'info';
  // Logged, never a modal dialog: a menu-bar app's error must not block the user's screen.
  log.errorHandler.startCatching({ showDialog: false });
}

/** Electron's UtilityProcess adapted to the supervisor's narrow interface. */
const forkUtility: ForkServer = (modulePath, options) => {
  const child = utilityProcess.fork(modulePath, [], {
    env: options.env,
    serviceName: options.serviceName,
    stdio: options.stdio,
    cwd: options.cwd,
  });
  const handle: ServerProcessHandle = {
    get pid() {
      return child.pid;
    },
    stdout: child.stdout,
    stderr: child.stderr,
    postMessage: (message) => child.postMessage(message),
    kill: () => child.kill(),
    on: (event: 'spawn' | 'exit' | 'message', listener: (...args: never[]) => void) =>
      child.on(event as 'spawn', listener as () => void),
  };
  child.on('error', (type, location) => log.error(`server process ${type} at ${location}`));
  return handle;
};

async function main(): Promise<void> {
  const serverLog = log.scope('server');
  const appLog = log.scope('app');
  const userData = app.getPath('userData');
  const settingsFile = path.join(userData, 'app-settings.json');
  const settings = await readAppSettings(settingsFile);
  const secrets = new SecretStore(safeStorage, path.join(userData, 'secrets.json'));
  const pages = new TrustedPages(paths.startingPage);

  // The admin key: Keychain-backed where safeStorage works; otherwise the server's own key file.
  const adminKeys = await AdminKeys.open({
    secrets,
    serverKeyFile: path.join(folders.serverData, 'admin-key'),
    configured: launch.adminKey,
  });
  if (adminKeys.source === 'server-file')
    appLog.warn('safeStorage is not available: the admin key stays in the server’s own 0600 key file');
  const apiKey = launch.apiKey ?? (await secrets.read()).apiKey;
  if (launch.ignored.length) appLog.info(`flags not for the server: ${launch.ignored.join(' ')}`);

  const supervisor = new ServerSupervisor(
    {
      modulePath: paths.utilityEntry,
      env: stringEnv(process.env),
      serviceName: 'LMX Server',
      cwd: appRoot,
    },
    {
      fork: forkUtility,
      initPayload: async () => ({
        adminKey: adminKeys.forInit(),
        apiKey,
        config: { ...launch.config, dataDir: folders.serverData },
      }),
      log: appLog,
    },
  );
  const powerGuard = new PowerGuard(powerSaveBlocker, settings.keepAwake, (held) => {
    appLog.info(held ? 'keeping the Mac awake while serving' : 'no longer keeping the Mac awake');
    pushStatus();
  });
  const loginItem = new LoginItem(app);
  electronUpdater.autoUpdater.logger = log.scope('updater');
  const updates = new AutoUpdates(electronUpdater.autoUpdater, {
    enabled: settings.autoUpdate,
    feedUrl: process.env.LMX_UPDATE_FEED_URL ?? settings.updateFeedUrl,
    log: appLog,
    onChange: () => pushStatus(),
  });
  const host = new HostMonitor({
    powerMonitor,
    notify: (title, body) => {
      if (Notification.isSupported()) new Notification({ title, body }).show();
    },
    forward: (message) => supervisor.sendHostSignal(message),
    alert: (alert) => onAlert(alert),
    log: appLog,
    onResume: () => {
      const url = supervisor.serverUrl;
      if (!url) return;
      void probeReadiness(url).then((readiness) =>
        appLog.info(`after wake-up, /readyz: ${JSON.stringify(readiness)}`),
      );
    },
  });

  const status = (): AppStatus => appStatus({ supervisor, powerGuard, loginItem, updates, host });

  // ── window and tray ─────────────────────────────────────────────────────────────────────────────
  const hardenedSession = session.defaultSession;
  guardPermissions(hardenedSession, pages);
  hardenedSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: withContentSecurityPolicy(
        details.responseHeaders,
        contentSecurityPolicy(pages.serverOrigin),
      ),
    });
  });
  app.on('web-contents-created', (_event, contents) =>
    guardNavigation(contents, pages, (url) => void shell.openExternal(url), appLog),
  );

  const bar = menubar({
    index: paths.startingPage,
    icon: paths.trayIcon,
    tooltip: 'LMX',
    showDockIcon: false,
    preloadWindow: true,
    browserWindow: {
      width: 420,
      height: 640,
      resizable: false,
      show: false,
      webPreferences: secureWebPreferences(paths.preload),
    },
  });
  const serverUi = () => (supervisor.serverUrl ? `${supervisor.serverUrl}/ui/` : null);
  bar.on('after-create-window', () => {
    const ui = serverUi();
    if (ui) void bar.window?.loadURL(ui);
  });
  bar.on('ready', () => {
    bar.tray.on('right-click', () => bar.tray.popUpContextMenu(buildMenu()));
    refreshTray();
  });
  app.on('second-instance', () => void bar.showWindow());

  const actions = {
    openDashboard: (url: string) => void shell.openExternal(url),
    copyEndpoint: (endpoint: string) =>
      void clipboard.writeText(endpoint).catch((error: unknown) => appLog.error('cannot copy', error)),
    setLaunchAtLogin: (enabled: boolean) => {
      const state = loginItem.set(enabled);
      if (state.needsApproval) appLog.info('the login item waits for approval in System Settings');
      pushStatus();
    },
    openLoginItemsSettings: () => void shell.openExternal(loginItemsSettingsUrl),
    setAutoUpdate: (enabled: boolean) => {
      updates.setEnabled(enabled);
      saveSettings({ autoUpdate: enabled });
    },
    setKeepAwake: (enabled: boolean) => setKeepAwake(enabled ? 'while-model-loaded' : 'never'),
    revealLogs: () => void shell.openPath(app.getPath('logs')),
    quit: () => app.quit(),
  };
  const buildMenu = () => Menu.buildFromTemplate(trayMenu(status(), actions) as MenuItemConstructorOptions[]);

  function saveSettings(change: Partial<typeof settings>): void {
    Object.assign(settings, change);
    void writeAppSettings(settingsFile, settings).catch((error: unknown) =>
      appLog.error('cannot save the app settings', error),
    );
    pushStatus();
  }

  function setKeepAwake(policy: KeepAwakePolicy): void {
    powerGuard.setPolicy(policy);
    saveSettings({ keepAwake: policy });
  }

  function refreshTray(): void {
    if (!bar.tray) return;
    const current = status();
    bar.tray.setToolTip(trayMenu(current, actions)[0]?.label ?? 'LMX');
  }

  let pushQueued = false;
  function pushStatus(): void {
    if (pushQueued) return;
    pushQueued = true;
    queueMicrotask(() => {
      pushQueued = false;
      refreshTray();
      bar.window?.webContents.send(statusChannel, status());
    });
  }

  function onAlert(alert: Alert): void {
    appLog.warn(`alert (${alert.kind}, ${alert.severity}): ${alert.message}`);
    if (alert.kind === 'crash_loop' && Notification.isSupported())
      new Notification({ title: 'LMX server keeps crashing', body: alert.message }).show();
    pushStatus();
  }

  // ── server lifecycle ────────────────────────────────────────────────────────────────────────────
  supervisor.on('output', ({ stream, line }) => serverLog[appLogLevel(line, stream)](line));
  supervisor.on('alert', onAlert);
  supervisor.on('status', (value) => {
    if (value !== 'running' && value !== 'safe-mode') powerGuard.update(null);
    pushStatus();
  });
  supervisor.on('message', (message) => {
    if (message.type === 'activity') powerGuard.update(message);
    if (message.type === 'listening') {
      pages.setServerOrigin(supervisor.serverUrl);
      const ui = serverUi();
      if (ui && bar.window && bar.window.webContents.getURL() !== ui) void bar.window.loadURL(ui);
    }
    pushStatus();
  });
  host.onChange(pushStatus);

  registerBridgeHandlers(
    ipcMain,
    {
      getConnection: async () => {
        const url = supervisor.serverUrl;
        const adminKey = url ? await adminKeys.current() : null;
        return url && adminKey ? { url, adminKey } : null;
      },
      getStatus: status,
      setLaunchAtLogin: (enabled) => (actions.setLaunchAtLogin(enabled), status()),
      openLoginItemsSettings: () => shell.openExternal(loginItemsSettingsUrl),
      setAutoUpdate: (enabled) => (actions.setAutoUpdate(enabled), status()),
      adminKeyRotated: async (key) => {
        await adminKeys.adopt(key, supervisor.serverUrl);
        appLog.info('the admin key was rotated from the window; the next server start uses it');
      },
      setKeepAwake: (policy) => (setKeepAwake(policy), status()),
      revealLogs: async () => {
        await shell.openPath(app.getPath('logs'));
      },
      quit: () => app.quit(),
    },
    (url, isMainFrame) => pages.allowsIpcFrom(url, isMainFrame),
    appLog,
  );

  // Quit (menu, Cmd-Q, shutdown, app.quit()): drain first, up to the supervisor's 60 s; a second
  // quit while draining does not wait.
  let quitting: 'no' | 'draining' | 'done' = 'no';
  app.on('before-quit', (event) => {
    if (quitting === 'done') return;
    event.preventDefault();
    if (quitting === 'draining') {
      appLog.warn('second quit: not waiting for the server');
      void supervisor.quit({ force: true });
      return;
    }
    quitting = 'draining';
    appLog.info('quitting: draining the server');
    void supervisor.quit().finally(() => {
      powerGuard.release();
      quitting = 'done';
      app.quit();
    });
  });
  // A menu-bar app lives on without windows.
  app.on('window-all-closed', () => {});

  host.start();
  supervisor.start();
  // Only a packaged app has a release feed (app-update.yml); electron-updater skips the check otherwise.
  if (app.isPackaged || process.env.LMX_UPDATE_FEED_URL) updates.start();
  appLog.info(`LMX ${app.getVersion()} started; logs in ${app.getPath('logs')}`);
}

/** process.env without undefined values, as the fork's env wants it. */
function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
