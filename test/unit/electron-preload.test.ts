import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { invokeChannels } from '../../electron/main/ipc.ts';
import { repoRoot } from '../helpers/server.ts';

// The sandboxed preload runs as a CommonJS script that can require only 'electron'. Here it runs in a
// fresh VM context with stand-ins for contextBridge and ipcRenderer that record what it does.

interface Recorded {
  exposed: Map<string, Record<string, (...args: unknown[]) => unknown>>;
  invoked: [string, unknown[]][];
  listeners: Map<string, Set<(...args: unknown[]) => void>>;
  required: string[];
}

function runPreload(): Recorded {
  const recorded: Recorded = { exposed: new Map(), invoked: [], listeners: new Map(), required: [] };
  const ipcRenderer = {
    invoke: (channel: string, ...args: unknown[]) => {
      recorded.invoked.push([channel, args]);
      return Promise.resolve('answer');
    },
    on: (channel: string, listener: (...args: unknown[]) => void) => {
      if (!recorded.listeners.has(channel)) recorded.listeners.set(channel, new Set());
      recorded.listeners.get(channel)!.add(listener);
    },
    removeListener: (channel: string, listener: (...args: unknown[]) => void) =>
      recorded.listeners.get(channel)?.delete(listener),
    send: () => {
      throw new Error('the preload must not use send');
    },
  };
  const contextBridge = {
    exposeInMainWorld: (name: string, api: Record<string, (...args: unknown[]) => unknown>) =>
      recorded.exposed.set(name, api),
  };
  const source = readFileSync(path.join(repoRoot, 'electron/preload/index.cjs'), 'utf8');
  const require = (name: string) => {
    recorded.required.push(name);
    if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
    return { contextBridge, ipcRenderer };
  };
  vm.runInNewContext(source, { require, module: { exports: {} }, exports: {} });
  return recorded;
}

/** Method names of the renderer's NativeBridge interface (renderer/native-bridge.ts), read from source. */
function rendererBridgeMethods(): string[] {
  const source = readFileSync(path.join(repoRoot, 'renderer/native-bridge.ts'), 'utf8');
  const body = /export interface NativeBridge \{([\s\S]*?)\n\}/.exec(source)?.[1] ?? '';
  return [...body.matchAll(/^\s+(\w+)\(/gm)].map((match) => match[1]!);
}

describe('preload bridge', () => {
  it('exposes exactly window.lmx, frozen, with the methods the renderer expects', () => {
    const { exposed, required } = runPreload();
    expect([...exposed.keys()]).toEqual(['lmx']);
    expect(required).toEqual(['electron']);
    const bridge = exposed.get('lmx')!;
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.keys(bridge).sort()).toEqual(rendererBridgeMethods().sort());
    // No raw IPC escapes to the page.
    expect(Object.values(bridge).every((value) => typeof value === 'function')).toBe(true);
    expect(Object.keys(bridge)).not.toContain('ipcRenderer');
  });

  it('calls only the channels the main process handles, with coerced arguments', async () => {
    const { exposed, invoked } = runPreload();
    const bridge = exposed.get('lmx')!;
    await bridge.getConnection!();
    await bridge.getStatus!();
    await bridge.setLaunchAtLogin!('yes'); // not a boolean true: sent as false
    await bridge.setKeepAwake!('never');
    await bridge.openLoginItemsSettings!();
    await bridge.setAutoUpdate!(true);
    await bridge.adminKeyRotated!('lmx-new-key-0123456789');
    await bridge.revealLogs!();
    await bridge.quit!();
    expect(invoked).toEqual([
      ['lmx:get-connection', []],
      ['lmx:get-status', []],
      ['lmx:set-launch-at-login', [false]],
      ['lmx:set-keep-awake', ['never']],
      ['lmx:open-login-items-settings', []],
      ['lmx:set-auto-update', [true]],
      ['lmx:admin-key-rotated', ['lmx-new-key-0123456789']],
      ['lmx:reveal-logs', []],
      ['lmx:quit', []],
    ]);
    expect(new Set(invoked.map(([channel]) => channel))).toEqual(new Set(invokeChannels));
  });

  it('relays status pushes without the IPC event, and unsubscribes', () => {
    const { exposed, listeners } = runPreload();
    const seen: unknown[] = [];
    const unsubscribe = exposed.get('lmx')!.onStatus!((status: unknown) => seen.push(status)) as () => void;
    const [relay] = listeners.get('lmx:status')!;
    relay!({ sender: 'the IPC event must not reach the page' }, { supervisor: 'running' });
    expect(seen).toEqual([{ supervisor: 'running' }]);
    unsubscribe();
    expect(listeners.get('lmx:status')!.size).toBe(0);
    expect(() => exposed.get('lmx')!.onStatus!('not a function')).toThrow(/needs a function/);
  });
});
