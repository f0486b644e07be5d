import type {
  Alert,
  HostSignalMessage,
  InitMessage,
  ServerProcessState,
  ServerToMain,
  SupervisorStatus,
} from '../../shared/ipc-contract.ts';
import { EXIT } from '../../shared/exit-codes.ts';
import { loopbackUrl, networkUrl } from './server-address.ts';
import { ServerOutputTail, describeExit } from './server-output.ts';
import type { ForkServer, ServerProcessHandle } from './server-process.ts';

export interface SupervisorOptions {
  /** The utility-process entry (electron/utility-entry.mjs). */
  modulePath: string;
  /** The whole environment of the server process (LMX_* config, PATH, HOME …) — never secrets. */
  env: Record<string, string>;
  serviceName?: string;
  cwd?: string;
  /** First restart delay; each further crash doubles it up to `backoffMaxMs`. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** This many crashes within `crashWindowMs` stop the restarts and start safe mode once. */
  crashLimit?: number;
  crashWindowMs?: number;
  /** A server that stayed up this long has recovered: the backoff starts again from the first delay. */
  stableAfterMs?: number;
  /** How long a drain may take before the process is killed (launchd's ExitTimeOut did this). */
  drainTimeoutMs?: number;
}

export interface SupervisorDeps {
  fork: ForkServer;
  /** Secrets and config for the `init` message, asked for at every start (keys may have rotated). */
  initPayload: () => Promise<Omit<InitMessage, 'type' | 'safeMode' | 'safeModeReason' | 'restarts'>>;
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
  now?: () => number;
}

export interface SupervisorEvents {
  status: SupervisorStatus;
  /** A message the server sent (state, listening, alert, activity). */
  message: ServerToMain;
  /** Alerts from the supervisor itself (crash loop) and forwarded from the server. */
  alert: Alert;
  output: { stream: 'stdout' | 'stderr'; line: string };
  'restart-scheduled': { attempt: number; delayMs: number; lastError: string };
  exit: { pid: number | undefined; code: number; signal?: string; expected: boolean };
  spawn: { pid: number | undefined; safeMode: boolean };
}

type Listener<T> = (value: T) => void;

const defaults = {
  serviceName: 'LMX Server',
  backoffInitialMs: 1000,
  backoffMaxMs: 30_000,
  crashLimit: 3,
  crashWindowMs: 60_000,
  stableAfterMs: 60_000,
  drainTimeoutMs: 60_000,
};

interface Running {
  handle: ServerProcessHandle;
  safeMode: boolean;
  startedAt: number;
  /** The server has said `starting`, so it listens and `init` can be sent. */
  listening: boolean;
  /** The server said it is in safe mode, whoever decided it. */
  safeModeReported?: boolean;
  tail: ServerOutputTail;
}

/**
 * Keeps the server process alive: starts it, restarts it after a crash with exponential backoff,
 * gives up after repeated crashes and starts it once in safe mode, and drains it on quit.
 */
export class ServerSupervisor {
  readonly #options: Required<Omit<SupervisorOptions, 'cwd'>> & { cwd?: string };
  readonly #deps: SupervisorDeps;
  readonly #now: () => number;
  readonly #listeners = new Map<keyof SupervisorEvents, Set<Listener<never>>>();
  readonly #hostSignals = new Map<HostSignalMessage['type'], HostSignalMessage>();

  #status: SupervisorStatus = 'idle';
  #running: Running | undefined;
  #crashTimes: number[] = [];
  #backoffAttempt = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #safeModeUsed = false;
  #restarts = 0;
  #serverState: ServerProcessState | null = null;
  /** The URL the server announced (a wildcard address while shared on the network). */
  #announcedUrl: string | null = null;
  #lastError: string | null = null;
  #quit: { done: Promise<void>; resolve: () => void; drainTimer?: NodeJS.Timeout } | undefined;

  constructor(options: SupervisorOptions, deps: SupervisorDeps) {
    this.#options = { ...defaults, ...options };
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  get status(): SupervisorStatus {
    return this.#status;
  }
  get serverState(): ServerProcessState | null {
    return this.#serverState;
  }
  /** The server as this Mac reaches it (loopback even when it listens on every interface). */
  get serverUrl(): string | null {
    return this.#announcedUrl && loopbackUrl(this.#announcedUrl);
  }
  /** The server as other machines reach it, while it is shared on the network; else null. */
  get networkUrl(): string | null {
    return this.#announcedUrl && networkUrl(this.#announcedUrl);
  }
  get restarts(): number {
    return this.#restarts;
  }
  get lastError(): string | null {
    return this.#lastError;
  }
  get safeMode(): boolean {
    return Boolean(this.#running?.safeMode || this.#running?.safeModeReported);
  }
  get pid(): number | undefined {
    return this.#running?.handle.pid;
  }

  on<E extends keyof SupervisorEvents>(event: E, listener: Listener<SupervisorEvents[E]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  start(): void {
    if (this.#status !== 'idle' && this.#status !== 'stopped' && this.#status !== 'failed') return;
    this.#quit = undefined;
    this.#crashTimes = [];
    this.#backoffAttempt = 0;
    this.#safeModeUsed = false;
    this.#spawn(false);
  }

  /** Thermal, speed-limit and power signals: forwarded now, and the latest replayed to every restart. */
  sendHostSignal(message: HostSignalMessage): void {
    if (message.type !== 'power') this.#hostSignals.set(message.type, message);
    if (this.#running?.listening) this.#running.handle.postMessage(message);
  }

  /**
   * Drains the server and resolves once it has exited (or was killed after `drainTimeoutMs`).
   * Called again while draining, or with `force`, it kills the process at once.
   */
  quit({ force = false } = {}): Promise<void> {
    if (this.#restartTimer) {
      clearTimeout(this.#restartTimer);
      this.#restartTimer = undefined;
    }
    const running = this.#running;
    if (!running) {
      if (this.#status !== 'failed') this.#setStatus('stopped');
      return this.#quit?.done ?? Promise.resolve();
    }
    if (this.#quit) {
      this.#deps.log.warn('second quit: killing the server without waiting for the drain');
      running.handle.kill();
      return this.#quit.done;
    }
    let resolve = () => {};
    const done = new Promise<void>((resolveDone) => (resolve = resolveDone));
    this.#quit = { done, resolve };
    this.#setStatus('draining');
    if (force || !running.listening) {
      // A process that has not reached its message listener has nothing to drain (and would miss the message).
      running.handle.kill();
      return done;
    }
    running.handle.postMessage({ type: 'drain' });
    this.#quit.drainTimer = setTimeout(() => {
      this.#deps.log.warn(`the server did not drain within ${this.#options.drainTimeoutMs} ms: killing it`);
      running.handle.kill();
    }, this.#options.drainTimeoutMs);
    return done;
  }

  #spawn(safeMode: boolean): void {
    this.#setStatus('starting');
    this.#serverState = null;
    this.#announcedUrl = null;
    let handle: ServerProcessHandle;
    try {
      handle = this.#deps.fork(this.#options.modulePath, {
        env: this.#options.env,
        serviceName: this.#options.serviceName,
        stdio: 'pipe',
        cwd: this.#options.cwd,
      });
    } catch (error) {
      this.#deps.log.error(`the server process could not be started: ${(error as Error).message}`);
      this.#lastError = (error as Error).message;
      this.#setStatus('failed');
      return;
    }
    const running: Running = {
      handle,
      safeMode,
      startedAt: this.#now(),
      listening: false,
      tail: new ServerOutputTail(),
    };
    this.#running = running;
    this.#deps.log.info(`server process started (pid ${handle.pid ?? '?'}${safeMode ? ', safe mode' : ''})`);
    this.#emit('spawn', { pid: handle.pid, safeMode });
    for (const stream of ['stdout', 'stderr'] as const) {
      handle[stream]?.setEncoding?.('utf8');
      handle[stream]?.on('data', (chunk: string | Buffer) => {
        for (const line of running.tail.push(stream, chunk.toString()))
          this.#emit('output', { stream, line });
      });
    }
    handle.on('message', (message) => this.#onMessage(running, message));
    handle.on('exit', (code, signal) => this.#onExit(running, code, signal));
  }

  #onMessage(running: Running, raw: unknown): void {
    if (running !== this.#running) return;
    const message = asServerMessage(raw);
    if (!message) {
      this.#deps.log.warn('ignored a malformed message from the server process');
      return;
    }
    this.#apply(running, message);
    // After applying it, so listeners read the supervisor's new state (serverUrl, status).
    this.#emit('message', message);
  }

  #apply(running: Running, message: ServerToMain): void {
    switch (message.type) {
      case 'state':
        this.#serverState = message.state;
        if (message.state === 'starting' && !running.listening) {
          running.listening = true;
          void this.#sendInit(running);
        } else if (message.state === 'ready' && !this.#quit) {
          // The server may have found a crash loop by its own count (runtime-state.json) before we did.
          if (message.reason === 'safe_mode') running.safeModeReported = true;
          this.#setStatus(running.safeMode || running.safeModeReported ? 'safe-mode' : 'running');
        }
        return;
      case 'listening':
        this.#announcedUrl = message.url;
        return;
      case 'alert': {
        const { type: _type, ...alert } = message;
        this.#emit('alert', alert);
        return;
      }
      case 'activity':
        return;
    }
  }

  async #sendInit(running: Running): Promise<void> {
    let payload: Awaited<ReturnType<SupervisorDeps['initPayload']>>;
    try {
      payload = await this.#deps.initPayload();
    } catch (error) {
      this.#deps.log.error(`cannot prepare the server's settings: ${(error as Error).message}`);
      payload = {};
    }
    if (running !== this.#running) return;
    const init: InitMessage = {
      type: 'init',
      ...payload,
      // The server counts starts without a clean shutdown (runtime-state.json); N crashes are N + 1
      // starts, so with these limits server and app name the same start as the safe-mode one.
      config: {
        crashLoop: { maxStarts: this.#options.crashLimit + 1, windowMs: this.#options.crashWindowMs },
        ...payload.config,
      },
      restarts: this.#restarts,
    };
    if (running.safeMode) {
      init.safeMode = true;
      init.safeModeReason = `it crashed ${this.#options.crashLimit} times within ${Math.round(this.#options.crashWindowMs / 1000)} s`;
    }
    running.handle.postMessage(init);
    for (const signal of this.#hostSignals.values()) running.handle.postMessage(signal);
  }

  #onExit(running: Running, code: number, signal?: string): void {
    if (running !== this.#running) return;
    for (const line of running.tail.flush()) this.#emit('output', { stream: 'stderr', line });
    this.#running = undefined;
    this.#serverState = 'stopped';
    this.#announcedUrl = null;
    const quit = this.#quit;
    this.#emit('exit', { pid: running.handle.pid, code, signal, expected: quit !== undefined });
    if (quit) {
      clearTimeout(quit.drainTimer);
      this.#deps.log.info(`server process stopped (${describeExit(code, signal)})`);
      this.#setStatus('stopped');
      quit.resolve();
      return;
    }
    this.#onCrash(running, code, signal);
  }

  #onCrash(running: Running, code: number, signal?: string): void {
    const now = this.#now();
    const lastError = running.tail.lastErrorLine() ?? describeExit(code, signal);
    this.#lastError = lastError;
    this.#deps.log.error(`server process crashed (${describeExit(code, signal)}): ${lastError}`);
    if (now - running.startedAt >= this.#options.stableAfterMs) this.#backoffAttempt = 0;
    this.#crashTimes = [...this.#crashTimes.filter((at) => now - at < this.#options.crashWindowMs), now];

    if (signal === undefined && USER_MUST_FIX.has(code)) {
      // A restart would end the same way until the user acts (shared/exit-codes.ts).
      this.#setStatus('failed');
      this.#raise('start_failed', `The LMX server cannot start: ${lastError}`);
      return;
    }
    if (running.safeMode) {
      this.#setStatus('failed');
      this.#raise('crash_loop', `The LMX server keeps crashing, even in safe mode. Last error: ${lastError}`);
      return;
    }
    if (this.#crashTimes.length >= this.#options.crashLimit && !this.#safeModeUsed) {
      this.#safeModeUsed = true;
      this.#raise(
        'crash_loop',
        `The LMX server crashed ${this.#crashTimes.length} times within ${Math.round(this.#options.crashWindowMs / 1000)} s; ` +
          `it was restarted once in safe mode (no models restored). Last error: ${lastError}`,
      );
      this.#restarts++;
      this.#spawn(true);
      return;
    }
    this.#backoffAttempt++;
    const delayMs = Math.min(
      this.#options.backoffInitialMs * 2 ** (this.#backoffAttempt - 1),
      this.#options.backoffMaxMs,
    );
    this.#setStatus('backoff');
    this.#emit('restart-scheduled', { attempt: this.#backoffAttempt, delayMs, lastError });
    this.#deps.log.warn(`restarting the server in ${delayMs} ms (attempt ${this.#backoffAttempt})`);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#restarts++;
      this.#spawn(false);
    }, delayMs);
  }

  /** A critical alert from the supervisor itself. */
  #raise(kind: 'crash_loop' | 'start_failed', message: string): void {
    const at = new Date(this.#now());
    this.#emit('alert', {
      id: `${kind.replace('_', '-')}-${at.getTime()}`,
      severity: 'critical',
      kind,
      message,
      at: at.toISOString(),
    });
  }

  #setStatus(status: SupervisorStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.#emit('status', status);
  }

  #emit<E extends keyof SupervisorEvents>(event: E, value: SupervisorEvents[E]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as Listener<SupervisorEvents[E]>)(value);
      } catch (error) {
        this.#deps.log.error(`a supervisor listener failed: ${(error as Error).message}`);
      }
    }
  }
}

/** Exits that say the configuration or the data dir is wrong: not crashes, and not retried. */
const USER_MUST_FIX = new Set<number>([EXIT.config, EXIT.dataDirLocked, EXIT.dataDirUnwritable]);

const serverStates = new Set(['starting', 'ready', 'draining', 'stopped']);

/** The server process is trusted code, but its messages still cross a boundary: check their shape. */
function asServerMessage(raw: unknown): ServerToMain | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const message = raw as Record<string, unknown>;
  switch (message.type) {
    case 'state':
      return serverStates.has(message.state as string) ? (message as unknown as ServerToMain) : undefined;
    case 'listening':
      return typeof message.url === 'string' && /^https?:\/\//.test(message.url)
        ? (message as unknown as ServerToMain)
        : undefined;
    case 'alert':
      return typeof message.message === 'string' && typeof message.kind === 'string'
        ? (message as unknown as ServerToMain)
        : undefined;
    case 'activity':
      return ['loadedModels', 'loadingModels', 'inflight'].every((key) => typeof message[key] === 'number')
        ? (message as unknown as ServerToMain)
        : undefined;
    default:
      return undefined;
  }
}
