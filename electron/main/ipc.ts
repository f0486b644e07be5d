import type {
  AppStatus,
  IpcInvokeChannel,
  KeepAwakePolicy,
  ServerConnection,
} from '../../shared/ipc-contract.ts';

/** What the bridge can ask the main process to do. */
export interface BridgeHandlers {
  getConnection(): ServerConnection | null | Promise<ServerConnection | null>;
  getStatus(): AppStatus;
  setLaunchAtLogin(enabled: boolean): AppStatus;
  openLoginItemsSettings(): void | Promise<void>;
  setAutoUpdate(enabled: boolean): AppStatus;
  adminKeyRotated(adminKey: string): Promise<void>;
  setKeepAwake(policy: KeepAwakePolicy): AppStatus;
  revealLogs(): void | Promise<void>;
  quit(): void;
}

/** The part of an IPC invoke event the checks read (Electron's IpcMainInvokeEvent). */
export interface InvokeEvent {
  senderFrame: { url: string; parent: unknown } | null;
}

export interface IpcMainApi {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => unknown): void;
}

export class IpcRejection extends Error {
  override name = 'IpcRejection';
}

const keepAwakePolicies = new Set<KeepAwakePolicy>(['never', 'while-model-loaded', 'while-serving-requests']);

type Route = (handlers: BridgeHandlers, args: unknown[]) => unknown;

function noArguments(args: unknown[]): void {
  if (args.length !== 0) throw new IpcRejection('this call takes no arguments');
}

function oneBoolean(args: unknown[]): boolean {
  const [value] = args;
  if (args.length !== 1 || typeof value !== 'boolean') throw new IpcRejection('expected one boolean');
  return value;
}

/** An admin key as the server makes them (printable, no spaces), never anything large. */
const adminKeyPattern = /^[\x21-\x7e]{16,256}$/;

/** Every channel with its argument check; nothing reaches a handler unchecked. */
export const routes: Readonly<Record<IpcInvokeChannel, Route>> = {
  'lmx:get-connection': (handlers, args) => (noArguments(args), handlers.getConnection()),
  'lmx:get-status': (handlers, args) => (noArguments(args), handlers.getStatus()),
  'lmx:set-launch-at-login': (handlers, args) => handlers.setLaunchAtLogin(oneBoolean(args)),
  'lmx:open-login-items-settings': (handlers, args) => (noArguments(args), handlers.openLoginItemsSettings()),
  'lmx:set-auto-update': (handlers, args) => handlers.setAutoUpdate(oneBoolean(args)),
  'lmx:admin-key-rotated': (handlers, args) => {
    const [key] = args;
    if (args.length !== 1 || typeof key !== 'string' || !adminKeyPattern.test(key))
      throw new IpcRejection('expected one admin key');
    return handlers.adminKeyRotated(key);
  },
  'lmx:set-keep-awake': (handlers, args) => {
    const [policy] = args;
    if (args.length !== 1 || !keepAwakePolicies.has(policy as KeepAwakePolicy))
      throw new IpcRejection(`expected one of ${[...keepAwakePolicies].join(', ')}`);
    return handlers.setKeepAwake(policy as KeepAwakePolicy);
  },
  'lmx:reveal-logs': (handlers, args) => (noArguments(args), handlers.revealLogs()),
  'lmx:quit': (handlers, args) => (noArguments(args), handlers.quit()),
};

export const invokeChannels = Object.keys(routes) as IpcInvokeChannel[];

/**
 * Registers the bridge's handlers. A call from any frame but the trusted page's top frame, or with
 * wrong arguments, is rejected (the renderer's promise rejects) and logged.
 */
export function registerBridgeHandlers(
  ipcMain: IpcMainApi,
  handlers: BridgeHandlers,
  isTrusted: (frameUrl: string | undefined, isMainFrame: boolean) => boolean,
  log: { warn(message: string): void },
): void {
  for (const channel of invokeChannels) {
    ipcMain.handle(channel, (event, ...args) => {
      const frame = event.senderFrame;
      if (!isTrusted(frame?.url, frame !== null && frame.parent === null)) {
        log.warn(`refused ${channel} from an untrusted sender (${frame?.url ?? 'no frame'})`);
        throw new IpcRejection('untrusted sender');
      }
      try {
        return routes[channel](handlers, args);
      } catch (error) {
        if (error instanceof IpcRejection) log.warn(`refused ${channel}: ${error.message}`);
        throw error;
      }
    });
  }
}
