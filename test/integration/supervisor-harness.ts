// Runs ServerSupervisor against the REAL server (electron/utility-entry.mjs → server/hosts/utility-process.ts) through
// the child_process adapter that stands in for Electron's utilityProcess.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Alert, ServerToMain, SupervisorStatus } from '../../shared/ipc-contract.ts';
import { forkWithNode } from '../../electron/main/node-fork.ts';
import {
  ServerSupervisor,
  type SupervisorEvents,
  type SupervisorOptions,
} from '../../electron/main/supervisor.ts';
import { repoRoot, testConfigLayer } from '../helpers/server.ts';

export const utilityEntry = path.join(repoRoot, 'electron/utility-entry.mjs');

export interface Harness {
  supervisor: ServerSupervisor;
  dataDir: string;
  statuses: SupervisorStatus[];
  messages: ServerToMain[];
  alerts: Alert[];
  restarts: SupervisorEvents['restart-scheduled'][];
  exits: SupervisorEvents['exit'][];
  output: string[];
  /** Resolves when `predicate` holds (checked on every supervisor event), or rejects after `timeoutMs`. */
  until(what: string, predicate: () => boolean, timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

export async function supervise(
  config: Record<string, unknown>,
  options: Partial<SupervisorOptions> = {},
  /** The admin key for each start's `init`, as the app's AdminKeys gives it (none: the server's own). */
  adminKey: (dataDir: string) => string | undefined = () => undefined,
): Promise<Harness> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lmx-supervisor-'));
  const supervisor = new ServerSupervisor(
    {
      modulePath: utilityEntry,
      // Only what a Node process needs: the server's config comes through `init`, like the app's.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dataDir },
      cwd: repoRoot,
      ...options,
    },
    {
      fork: forkWithNode,
      initPayload: async () => ({
        adminKey: adminKey(dataDir),
        config: { ...testConfigLayer(dataDir), logLevel: 'info', ...config },
      }),
      log: { info: () => {}, warn: () => {}, error: () => {} },
    },
  );
  const harness: Harness = {
    supervisor,
    dataDir,
    statuses: [],
    messages: [],
    alerts: [],
    restarts: [],
    exits: [],
    output: [],
    until: (what, predicate, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (predicate()) return resolve();
        const timer = setTimeout(() => {
          unsubscribe.forEach((off) => off());
          reject(
            new Error(
              `timed out waiting for ${what}; statuses: ${harness.statuses.join(' → ')}\n${harness.output.slice(-20).join('\n')}`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          unsubscribe.forEach((off) => off());
          resolve();
        };
        const unsubscribe = (['status', 'message', 'alert', 'exit', 'spawn'] as const).map((event) =>
          supervisor.on(event, check),
        );
      }),
    dispose: async () => {
      await supervisor.quit({ force: true });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  supervisor.on('status', (status) => harness.statuses.push(status));
  supervisor.on('message', (message) => harness.messages.push(message));
  supervisor.on('alert', (alert) => harness.alerts.push(alert));
  supervisor.on('restart-scheduled', (event) => harness.restarts.push(event));
  supervisor.on('exit', (event) => harness.exits.push(event));
  supervisor.on('output', ({ line }) => harness.output.push(line));
  return harness;
}

/** Whether a process with this pid still exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
