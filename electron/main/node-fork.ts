import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { MainToServer } from '../../shared/ipc-contract.ts';
import type { ForkServer, ServerForkOptions, ServerProcessHandle } from './server-process.ts';

/**
 * A `utilityProcess` look-alike on `child_process.fork`: the Node IPC channel stands in for
 * `parentPort`. The supervisor's tests run the real server through it, and it runs the server when no
 * Electron binary exists.
 */
export class NodeForkedServer extends EventEmitter implements ServerProcessHandle {
  readonly #child: ChildProcess;

  constructor(modulePath: string, options: ServerForkOptions) {
    super();
    this.#child = fork(modulePath, [], {
      env: options.env,
      cwd: options.cwd,
      // The entry registers its own TypeScript loader; the parent's flags (test runners) do not apply.
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.#child.on('spawn', () => this.emit('spawn'));
    this.#child.on('message', (message) => this.emit('message', message));
    this.#child.on('error', (error) => this.emit('error', error));
    this.#child.on('exit', (code, signal) => {
      // Like a shell: a process killed by a signal exits with 128 + the signal number.
      const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      this.emit('exit', exitCode, signal ?? undefined);
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get stdout(): NodeJS.ReadableStream | null {
    return this.#child.stdout;
  }

  get stderr(): NodeJS.ReadableStream | null {
    return this.#child.stderr;
  }

  postMessage(message: MainToServer): void {
    // A message to a process that is already gone is dropped, as with a closed MessagePort.
    if (this.#child.connected) this.#child.send(message, (error) => error && this.emit('send-error', error));
  }

  kill(): boolean {
    return this.#child.kill('SIGTERM');
  }
}

export const forkWithNode: ForkServer = (modulePath, options) => new NodeForkedServer(modulePath, options);
