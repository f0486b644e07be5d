import { describe, expect, it } from 'vitest';
import type { AppStatus, IpcInvokeChannel } from '../../shared/ipc-contract.ts';
import {
  invokeChannels,
  IpcRejection,
  registerBridgeHandlers,
  type BridgeHandlers,
  type InvokeEvent,
  type IpcMainApi,
} from '../../electron/main/ipc.ts';

const status = { supervisor: 'running' } as AppStatus;

function setup() {
  const registered = new Map<string, (event: InvokeEvent, ...args: unknown[]) => unknown>();
  const ipcMain: IpcMainApi = { handle: (channel, listener) => void registered.set(channel, listener) };
  const calls: [string, unknown][] = [];
  const handlers: BridgeHandlers = {
    getConnection: () => ({ url: 'http://127.0.0.1:1235', adminKey: 'lmx-key' }),
    getStatus: () => status,
    setLaunchAtLogin: (enabled) => (calls.push(['setLaunchAtLogin', enabled]), status),
    openLoginItemsSettings: () => void calls.push(['openLoginItemsSettings', undefined]),
    setAutoUpdate: (enabled) => (calls.push(['setAutoUpdate', enabled]), status),
    adminKeyRotated: async (key) => void calls.push(['adminKeyRotated', key]),
    setKeepAwake: (policy) => (calls.push(['setKeepAwake', policy]), status),
    revealLogs: () => void calls.push(['revealLogs', undefined]),
    quit: () => void calls.push(['quit', undefined]),
  };
  const warnings: string[] = [];
  registerBridgeHandlers(
    ipcMain,
    handlers,
    (url, isMainFrame) => isMainFrame && url === 'http://127.0.0.1:1235/ui/',
    { warn: (message) => warnings.push(message) },
  );
  const trusted: InvokeEvent = { senderFrame: { url: 'http://127.0.0.1:1235/ui/', parent: null } };
  const invoke = (channel: IpcInvokeChannel, event: InvokeEvent, ...args: unknown[]) =>
    Promise.resolve().then(() => registered.get(channel)!(event, ...args));
  return { registered, calls, warnings, trusted, invoke };
}

describe('bridge IPC handlers', () => {
  it('registers one handler per bridge channel', () => {
    const { registered } = setup();
    expect([...registered.keys()].sort()).toEqual([...invokeChannels].sort());
    expect(invokeChannels).toHaveLength(9);
  });

  it('answers the trusted page with valid arguments', async () => {
    const { invoke, trusted, calls } = setup();
    expect(await invoke('lmx:get-connection', trusted)).toEqual({
      url: 'http://127.0.0.1:1235',
      adminKey: 'lmx-key',
    });
    expect(await invoke('lmx:set-launch-at-login', trusted, true)).toBe(status);
    expect(await invoke('lmx:set-keep-awake', trusted, 'while-serving-requests')).toBe(status);
    expect(await invoke('lmx:set-auto-update', trusted, false)).toBe(status);
    await invoke('lmx:open-login-items-settings', trusted);
    await invoke('lmx:admin-key-rotated', trusted, 'lmx-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789-abcde');
    await invoke('lmx:quit', trusted);
    expect(calls).toEqual([
      ['setLaunchAtLogin', true],
      ['setKeepAwake', 'while-serving-requests'],
      ['setAutoUpdate', false],
      ['openLoginItemsSettings', undefined],
      ['adminKeyRotated', 'lmx-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789-abcde'],
      ['quit', undefined],
    ]);
  });

  it('refuses other senders: another origin, a subframe, no frame', async () => {
    const { invoke, calls, warnings } = setup();
    const senders: InvokeEvent[] = [
      { senderFrame: { url: 'https://evil.example/', parent: null } },
      { senderFrame: { url: 'http://127.0.0.1:1235/ui/', parent: {} } },
      { senderFrame: null },
    ];
    for (const event of senders) {
      await expect(invoke('lmx:get-connection', event)).rejects.toThrow(/untrusted sender/);
      await expect(invoke('lmx:quit', event)).rejects.toBeInstanceOf(IpcRejection);
    }
    expect(calls).toEqual([]);
    expect(warnings).toHaveLength(6);
  });

  it('refuses bad arguments before any handler runs', async () => {
    const { invoke, trusted, calls } = setup();
    await expect(invoke('lmx:set-launch-at-login', trusted, 'yes')).rejects.toThrow(/one boolean/);
    await expect(invoke('lmx:set-launch-at-login', trusted)).rejects.toThrow(/one boolean/);
    for (const key of ['short', 'has spaces in the middle of it', 'x'.repeat(1000), 42])
      await expect(invoke('lmx:admin-key-rotated', trusted, key)).rejects.toThrow(/one admin key/);
    await expect(invoke('lmx:set-launch-at-login', trusted, true, false)).rejects.toThrow(/one boolean/);
    await expect(invoke('lmx:set-keep-awake', trusted, 'always')).rejects.toThrow(/expected one of/);
    await expect(invoke('lmx:set-keep-awake', trusted, { toString: () => 'never' })).rejects.toThrow();
    await expect(invoke('lmx:quit', trusted, 'now')).rejects.toThrow(/no arguments/);
    expect(calls).toEqual([]);
  });
});
