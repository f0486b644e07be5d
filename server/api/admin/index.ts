import type { FastifyPluginAsync } from 'fastify';
import { storageFailure, unauthorized } from '../../errors.ts';
import type { AdminKeyHolder } from '../../persistence/admin-key.ts';
import { bearerToken, keysMatch } from '../auth.ts';
import { adminHealthRoutes, type AdminHealthOptions } from './health.ts';
import { adminClusterRoutes } from './cluster.ts';
import { adminConfigRoutes } from './config.ts';
import { adminDownloadRoutes } from './downloads.ts';
import { adminEventRoutes } from './events.ts';
import { adminModelRoutes } from './models.ts';
import type { AdminModelServices } from './services.ts';
import { adminStateRoutes } from './state.ts';
import type { RagStore } from '../../rag/rag-store.ts';
import type { OpenOnFirstUse } from '../../persistence/open-on-first-use.ts';
import { ragCollectionRoutes } from '../rag/routes.ts';

export interface AdminRoutesOptions {
  adminKey: AdminKeyHolder;
  health: AdminHealthOptions;
  /** Called once per refused request, for metrics. */
  onUnauthorized?: () => void;
  /** Model library, downloads, events, state and config. */
  modelServices: AdminModelServices;
  /** The other nodes of the pool the dashboard shows (cluster.peers). */
  peers?: readonly string[];
  rag: OpenOnFirstUse<RagStore>;
}

/** Every /admin/* route: the admin key (bearer token) is checked before anything else runs. */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, options) => {
  // preParsing: after the per-IP rate limit (a route-level onRequest hook) has counted the attempt,
  // before any body is read.
  app.addHook('preParsing', async (request) => {
    if (!keysMatch(bearerToken(request), options.adminKey.current)) {
      options.onUnauthorized?.();
      throw unauthorized(
        'A valid admin key is required (Authorization: Bearer <admin key>).',
        'invalid_admin_key',
      );
    }
  });

  app.post('/keys/rotate', async (_request, reply) => {
    // The answer carries the new secret: no cache may keep it.
    reply.header('cache-control', 'no-store');
    try {
      return { adminKey: await options.adminKey.rotate() };
    } catch (error) {
      throw typeof (error as NodeJS.ErrnoException).code === 'string' ? storageFailure(error) : error;
    }
  });
  await app.register(adminHealthRoutes, options.health);
  await app.register(adminClusterRoutes, { peers: options.peers ?? [] });
  await app.register(ragCollectionRoutes, { rag: options.rag });

  // Registered after the guard hook, so every one of these routes requires the admin key.
  const services = options.modelServices;
  for (const routes of [
    adminModelRoutes,
    adminDownloadRoutes,
    adminEventRoutes,
    adminStateRoutes,
    adminConfigRoutes,
  ])
    await app.register(routes, { services });
};
