// @ts-check
// The preload of the LMX window. It runs sandboxed (CommonJS, only `electron` can be required), so it
// is plain JavaScript checked by tsc against shared/ipc-contract.ts. It exposes `window.lmx`: a few
// typed calls, never ipcRenderer itself.
// eslint-disable-next-line @typescript-eslint/no-require-imports, no-undef -- a sandboxed preload is CommonJS and may require only 'electron'
const { contextBridge, ipcRenderer } = require('electron');

/** @typedef {import('../../shared/ipc-contract.ts').LmxNativeBridge} LmxNativeBridge */
/** @typedef {import('../../shared/ipc-contract.ts').AppStatus} AppStatus */
/** @typedef {import('../../shared/ipc-contract.ts').IpcInvokeChannel} IpcInvokeChannel */
/** @typedef {import('../../shared/ipc-contract.ts').IpcPushChannel} IpcPushChannel */

/**
 * @param {IpcInvokeChannel} channel
 * @param {...unknown} args
 * @returns {Promise<any>} the main process validates and answers; the bridge's types say what
 */
function invoke(channel, ...args) {
  return ipcRenderer.invoke(channel, ...args);
}

/** @type {IpcPushChannel} */
const statusChannel = 'lmx:status';

/** @type {LmxNativeBridge} */
const bridge = {
  getConnection: () => invoke('lmx:get-connection'),
  getStatus: () => invoke('lmx:get-status'),
  setLaunchAtLogin: (enabled) => invoke('lmx:set-launch-at-login', enabled === true),
  openLoginItemsSettings: () => invoke('lmx:open-login-items-settings'),
  setAutoUpdate: (enabled) => invoke('lmx:set-auto-update', enabled === true),
  adminKeyRotated: (adminKey) => invoke('lmx:admin-key-rotated', String(adminKey)),
  setKeepAwake: (policy) => invoke('lmx:set-keep-awake', String(policy)),
  revealLogs: () => invoke('lmx:reveal-logs'),
  quit: () => invoke('lmx:quit'),
  onStatus: (listener) => {
    if (typeof listener !== 'function') throw new TypeError('onStatus needs a function');
    /** @param {unknown} _event @param {AppStatus} status */
    const relay = (_event, status) => listener(status);
    ipcRenderer.on(statusChannel, relay);
    return () => {
      ipcRenderer.removeListener(statusChannel, relay);
    };
  },
};

contextBridge.exposeInMainWorld('lmx', Object.freeze(bridge));
