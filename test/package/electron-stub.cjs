// The stand-in for `electron` as the MAIN process sees it (no ipcRenderer or contextBridge: electron-log
// tells main from preload by them), see electron-stub.mjs. Exports are assigned one by one so Node's ESM
// loader sees them as named exports of this CommonJS module.
const { tmpdir } = require('node:os');
const path = require('node:path');

const calls = [];
globalThis.__electronStubCalls = calls;

/** Any API: every property is another such API, every call is recorded and returns one. */
function anything(name) {
  const target = function () {};
  return new Proxy(target, {
    get: (_target, property) => {
      if (property === 'then') return undefined;
      if (property === Symbol.toPrimitive) return () => name;
      return anything(`${name}.${String(property)}`);
    },
    apply: () => {
      calls.push(name);
      return anything(`${name}()`);
    },
    construct: () => {
      calls.push(`new ${name}`);
      return anything(`new ${name}`);
    },
  });
}

const home = path.join(tmpdir(), 'lmx-electron-stub');
const app = new Proxy(
  {
    isPackaged: true,
    getPath: (name) => (calls.push(`app.getPath(${name})`), path.join(home, name)),
    setPath: (name, value) => calls.push(`app.setPath(${name}, ${value})`),
    getName: () => 'LMX',
    getVersion: () => '0.1.0',
    getAppPath: () => process.cwd(),
    setName: (name) => calls.push(`app.setName(${name})`),
    requestSingleInstanceLock: () => (calls.push('app.requestSingleInstanceLock'), false),
    quit: () => calls.push('app.quit'),
    whenReady: () => new Promise(() => {}),
    isReady: () => false,
    on: () => app,
    once: () => app,
  },
  {
    get: (target, property) => (property in target ? target[property] : anything(`app.${String(property)}`)),
  },
);

exports.app = app;
exports.autoUpdater = anything('autoUpdater');
exports.BrowserWindow = anything('BrowserWindow');
exports.clipboard = anything('clipboard');
exports.dialog = anything('dialog');
exports.ipcMain = anything('ipcMain');
exports.Menu = anything('Menu');
exports.net = anything('net');
exports.Notification = anything('Notification');
exports.powerMonitor = anything('powerMonitor');
exports.powerSaveBlocker = anything('powerSaveBlocker');
exports.safeStorage = anything('safeStorage');
exports.screen = anything('screen');
exports.session = anything('session');
exports.shell = anything('shell');
exports.Tray = anything('Tray');
exports.utilityProcess = anything('utilityProcess');
exports.webContents = anything('webContents');
