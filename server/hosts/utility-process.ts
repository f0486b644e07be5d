/**
 * The server as an Electron `utilityProcess` (electron/utility-entry.mjs loads this file).
 *
 * It talks to the app only through a port: Electron's `process.parentPort`, or — when a plain
 * `child_process.fork` stands in for it (tests, `npm start` without Electron) — the Node IPC channel.
 * Config comes from LMX_* environment variables plus the first `init` message; secrets only from that
 * message, never from argv. Nothing here imports electron.
 */
import type { Logger } from 'pino';
import type { InitMessage, MainToServer, ServerToMain } from '../../shared/ipc-contract.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { LmxServer } from '../server.ts';
import { hostSignals } from '../runtime/host-signals.ts';
import { createLogger } from '../telemetry/logger.ts';
import { parseMainMessage } from './app-messages.ts';
import { startFailureExitCode } from './start-failure.ts';
import { EXIT } from '../../shared/exit-codes.ts';

/** The part of a message port this process uses. */
interface ServerPort {
  postMessage(message: ServerToMain): void;
  onMessage(listener: (data: unknown) => void): void;
  /** The app went away (only a Node IPC channel can tell; Electron kills its utility processes). */
  onDisconnect(listener: () => void): void;
}

/** Electron adds `process.parentPort` in a utility process; typed here so the server needs no electron types. */
interface ElectronParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

/** How long to wait for `init` before starting from the environment alone. */
const INIT_TIMEOUT_MS = 10_000;
/** How often in-flight and loaded-model counts are sampled for the app's keep-awake decision. */
const ACTIVITY_INTERVAL_MS = 500;

function connectPort(): ServerPort | undefined {
  const parentPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (parentPort) {
    return {
      postMessage: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (event) => listener(event.data)),
      onDisconnect: () => {},
    };
  }
  const send = process.send?.bind(process);
  if (!send) return undefined;
  return {
    // A closed channel (the app is gone) is not this process's error: drop the message.
    postMessage: (message) => {
      if (process.connected) send(message, undefined, {}, () => {});
    },
    onMessage: (listener) => process.on('message', listener),
    onDisconnect: (listener) => process.once('disconnect', listener),
  };
}

const port = connectPort();
if (!port) {
  process.stderr.write(
    'lmx: server/hosts/utility-process.ts runs only as a utility process (no parent port)\n',
  );
  process.exit(EXIT.config);
}

let server: LmxServer | undefined;
let logger: Logger | undefined;
let draining = false;
let resolveInit: (message: InitMessage | undefined) => void = () => {};
const initReceived = new Promise<InitMessage | undefined>((resolve) => (resolveInit = resolve));

port.onMessage((data) => {
  const message = parseMainMessage(data);
  if (!message) {
    logger?.warn(
      { messageType: typeof data === 'object' && data ? (data as { type?: unknown }).type : typeof data },
      'ignored a malformed message from the app',
    );
    return;
  }
  handle(message);
});
port.onDisconnect(() => void drain('the app disconnected'));

function handle(message: MainToServer): void {
  switch (message.type) {
    case 'init':
      resolveInit(message);
      return;
    case 'drain':
      void drain('the app asked');
      return;
    case 'thermal':
      hostSignals.setThermalState(message.state);
      return;
    case 'speed-limit':
      hostSignals.setSpeedLimit(message.percent);
      return;
    case 'power':
      hostSignals.recordPowerEvent(message.event);
      logger?.info({ event: message.event }, 'power event from the host');
      return;
  }
}

/** Graceful stop: refuse new work, finish in-flight requests (bounded), free the models, exit 0. */
async function drain(why: string): Promise<void> {
  if (draining) return;
  draining = true;
  port!.postMessage({ type: 'state', state: 'draining', reason: why });
  let code = 0;
  if (server) {
    const running = server;
    logger?.info({ why }, 'draining');
    const timedOut = await Promise.race([
      running.stop().then(() => false),
      new Promise<boolean>((resolve) => setTimeout(resolve, running.config.drainTimeoutMs, true).unref()),
    ]).catch((error: unknown) => {
      logger?.error({ err: error }, 'drain failed');
      return true;
    });
    if (timedOut) {
      logger?.warn(
        { timeoutMs: running.config.drainTimeoutMs },
        'drain did not finish in time: exiting anyway',
      );
      code = 1;
    }
  }
  port!.postMessage({ type: 'state', state: 'stopped', reason: why });
  logger?.flush();
  // Let the IPC channel deliver `stopped` before the process ends.
  setTimeout(() => process.exit(code), 50);
}

function configFrom(init: InitMessage | undefined): Config {
  const flags: Record<string, unknown> = { ...init?.config };
  if (init?.adminKey) flags.adminKey = init.adminKey;
  if (init?.apiKey) flags.apiKey = init.apiKey;
  // Safe mode brings nothing back by itself: models load only through explicit admin calls.
  if (init?.safeMode) Object.assign(flags, { startupModels: [], autoload: false });
  return loadConfig({ flags });
}

function startActivityReports(running: LmxServer): void {
  let last = '';
  const timer = setInterval(() => {
    // The same counts /readyz reads, so the app's keep-awake decision and readiness never disagree.
    const counts = running.models.counts();
    const activity = {
      type: 'activity' as const,
      loadedModels: counts.loaded,
      loadingModels: counts.loading,
      inflight: running.models.loadedModels().reduce((sum, model) => sum + model.inflight, 0),
    };
    const key = JSON.stringify(activity);
    if (key === last) return;
    last = key;
    port!.postMessage(activity);
  }, ACTIVITY_INTERVAL_MS);
  timer.unref();
}

async function main(): Promise<void> {
  port!.postMessage({ type: 'state', state: 'starting' });
  const init = await Promise.race([
    initReceived,
    new Promise<undefined>((resolve) => setTimeout(resolve, INIT_TIMEOUT_MS, undefined).unref()),
  ]);
  if (draining) return;

  let config: Config;
  try {
    config = configFrom(init);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`lmx: ${error.message}\n`);
    process.exit(EXIT.config);
  }
  // The app's log (electron-log) collects stdout and stderr; the server writes no file of its own here.
  logger = createLogger({ level: config.logLevel, stderr: true });
  if (init === undefined) logger.warn('no init message from the app: starting from the environment alone');

  // Loaded only now, so a configuration error is reported (and the app told) before the engine's import cost.
  const { LmxServer } = await import('../server.ts');
  let started: LmxServer;
  try {
    started = await LmxServer.start(config, logger);
  } catch (error) {
    const code = startFailureExitCode(error);
    if (code === undefined) throw error;
    // One line the supervisor shows in its alert (the last stderr line), and the code that says why.
    process.stderr.write(`lmx: ${(error as Error).message}\n`);
    logger.flush();
    process.exit(code);
  }
  server = started;
  if (init?.safeMode && !started.lifecycle.safeMode) {
    started.lifecycle.safeMode = { reason: init.safeModeReason ?? 'the app started the server in safe mode' };
  }
  // Safe mode asked for by the app, or found by the server's own crash-loop count: the app is told either way.
  const safeMode = started.lifecycle.safeMode;
  if (safeMode) {
    logger.warn({ reason: safeMode.reason }, 'safe mode: no models are restored');
    port!.postMessage({
      type: 'alert',
      id: `safe-mode-${Date.now()}`,
      severity: 'critical',
      kind: 'safe_mode',
      message: `Safe mode: ${safeMode.reason}`,
      at: new Date().toISOString(),
    });
  }
  if (draining) {
    // A drain asked for while starting was answered before the server existed; stop it now.
    await started.stop();
    return;
  }
  port!.postMessage({ type: 'listening', url: started.url });
  port!.postMessage({ type: 'state', state: 'ready', reason: safeMode ? 'safe_mode' : undefined });
  startActivityReports(started);
}

process.on('uncaughtException', (error) => {
  if (logger) logger.fatal({ err: error }, 'uncaught exception: the server process exits');
  else process.stderr.write(`lmx: ${error.stack ?? error.message}\n`);
  logger?.flush();
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 50);
});

main().catch((error: unknown) => {
  const err = error instanceof Error ? error : new Error(String(error));
  if (logger) logger.fatal({ err }, `the server failed to start: ${err.message}`);
  else process.stderr.write(`lmx: the server failed to start: ${err.message}\n`);
  logger?.flush();
  setTimeout(() => process.exit(1), 50);
});
