import type { FastifyPluginAsync } from 'fastify';
import { runHealthChecks, type HealthCheck } from '../../telemetry/health.ts';

export interface AdminHealthOptions {
  checks(): HealthCheck[];
  timeoutMs: number;
}

/** Deep health: every subsystem with its status, latency and figures (200 whatever the status: it is a report). */
export const adminHealthRoutes: FastifyPluginAsync<AdminHealthOptions> = async (app, options) => {
  app.get('/health', async () => runHealthChecks(options.checks(), options.timeoutMs));
};
