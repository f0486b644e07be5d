import type { FastifyPluginAsync } from 'fastify';
import type { ClusterView } from '../../../shared/admin-api.ts';
import { PeerReader } from '../../cluster/peer-reader.ts';

/**
 * GET /admin/cluster: the other nodes of the pool (cluster.peers) for the dashboard. The server reads
 * their public /readyz and /metrics itself, so the browser talks only to this node (no CORS, no peer
 * admin keys) and the peers need nothing but their public routes.
 */
export const adminClusterRoutes: FastifyPluginAsync<{ peers: readonly string[] }> = async (
  app,
  { peers },
) => {
  const reader = new PeerReader(peers);
  app.get('/cluster', async (): Promise<ClusterView> => ({ peers: await reader.read() }));
};
