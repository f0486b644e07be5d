import type { FastifyPluginAsync } from 'fastify';
import { unauthorized } from '../../errors.ts';
import type { AdminKeyHolder } from '../../state/admin-key.ts';
import { bearerToken, keysMatch } from '../auth.ts';

export interface AdminRoutesOptions {
  adminKey: AdminKeyHolder;
  /** Called once per refused request, for metrics. */
  onUnauthorized?: () => void;
}

/** Every /admin/* route: the admin key (bearer token) is checked before anything else runs. */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, options) => {
  app.addHook('onRequest', async (request) => {
    if (!keysMatch(bearerToken(request), options.adminKey.current)) {
      options.onUnauthorized?.();
      throw unauthorized(
        'A valid admin key is required (Authorization: Bearer <admin key>).',
        'invalid_admin_key',
      );
    }
  });

  app.post('/keys/rotate', async () => ({ adminKey: await options.adminKey.rotate() }));
};
