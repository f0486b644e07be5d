import type { MainToServer } from '../../shared/ipc-contract.ts';

/**
 * The shape of Electron's `UtilityProcess` that the supervisor uses. Electron's own object is adapted
 * to it in the composition root; `node-fork.ts` implements it with `child_process.fork` for tests and
 * for running without an Electron binary.
 */
export interface ServerProcessHandle {
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  postMessage(message: MainToServer): void;
  /** Ends the process now (SIGTERM on POSIX, like `UtilityProcess.kill`). */
  kill(): boolean;
  on(event: 'spawn', listener: () => void): unknown;
  /** `signal` is known only to the child_process adapter; Electron reports the code alone. */
  on(event: 'exit', listener: (code: number, signal?: string) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

export interface ServerForkOptions {
  env: Record<string, string>;
  /** Shown in Activity Monitor and crash reports. */
  serviceName: string;
  stdio: 'pipe';
  cwd?: string;
}

/** `utilityProcess.fork` narrowed to what LMX passes: no argv beyond the module (secrets never go there). */
export type ForkServer = (modulePath: string, options: ServerForkOptions) => ServerProcessHandle;
