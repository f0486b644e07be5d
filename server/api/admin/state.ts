import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import type { ServerState } from '../../../shared/admin-api.ts';
import type { Config } from '../../config/schema.ts';
import type { RecoverySnapshot } from '../../persistence/recovery.ts';
import type { Lifecycle, ModelCounts } from '../../runtime/lifecycle.ts';
import type { AdminModelServices } from './services.ts';

const version = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface ServerStateSources {
  config: Config;
  lifecycle: Lifecycle;
  startedAt: number;
  /** The URL the server listens on. */
  url: string;
  modelCounts(): ModelCounts;
  recovery(): RecoverySnapshot;
}

/** The body of GET /admin/state (and of the `state` event). */
export function describeServerState(sources: ServerStateSources): ServerState {
  const { config, lifecycle } = sources;
  const readiness = lifecycle.readiness(sources.modelCounts());
  const recovery = sources.recovery();
  const port = new URL(sources.url).port;
  const lanAddress = config.lan ? firstLanAddress() : undefined;
  return {
    status: readiness.ready ? 'ready' : readiness.reason,
    reason: lifecycle.safeMode?.reason ?? recovery.stateWriteError ?? recovery.stateProblem ?? null,
    version,
    uptimeSeconds: Math.round((Date.now() - sources.startedAt) / 1000),
    pid: process.pid,
    endpoints: {
      local: `http://127.0.0.1:${port}/v1`,
      lan: lanAddress ? `http://${lanAddress}:${port}/v1` : null,
    },
    lan: config.lan,
    safeMode: { active: lifecycle.safeMode !== undefined, reason: lifecycle.safeMode?.reason ?? null },
    startupCount: recovery.startupCount,
    lastCleanShutdown: recovery.lastCleanShutdown,
  };
}

function firstLanAddress(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? [])
      if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return undefined;
}

export const adminStateRoutes: FastifyPluginAsync<{ services: AdminModelServices }> = async (
  app,
  { services },
) => {
  app.get('/state', async () => services.state());

  app.post('/safe-mode/exit', async () => {
    await services.exitSafeMode();
    return { safeMode: services.state().safeMode };
  });
};
