import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterView } from '../../shared/admin-api.ts';
import { testModelPath } from '../fixtures/models.ts';
import { freePort } from '../helpers/cluster.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** GET /admin/cluster: a node reads its peers' public /readyz and /metrics for the dashboard. */
let peer: TestServer;
let node: TestServer;
let deadPeer: string;

beforeAll(async () => {
  peer = await startTestServer({ startupModels: [await testModelPath()] });
  deadPeer = `http://127.0.0.1:${await freePort()}`;
  node = await startTestServer({ cluster: { peers: [peer.url, deadPeer] } });
});
afterAll(async () => {
  await node?.stop();
  await peer?.stop();
});

const view = async () => {
  const response = await node.admin('/admin/cluster');
  expect(response.status).toBe(200);
  return (await response.json()) as ClusterView;
};

describe('GET /admin/cluster', () => {
  it("shows each peer's readiness, models, queue and tokens/s; a dead peer as unreachable", async () => {
    const model = (await peer.openai.models.list()).data[0]!.id;
    const first = await view();
    expect(first.peers.map((entry) => entry.url)).toEqual([peer.url, deadPeer]);
    expect(first.peers[0]).toMatchObject({
      reachable: true,
      ready: true,
      reason: null,
      models: [model],
      queued: 0,
      inflight: 0,
      tokensPerSecond: null,
    });
    expect(first.peers[1]).toMatchObject({ reachable: false, ready: false, models: [] });
    expect(first.peers[1]!.reason).toMatch(/^unreachable/);

    await peer.openai.completions.create({ model, prompt: 'x', max_tokens: 20, ignore_eos: true } as never);
    const second = await view();
    expect(second.peers[0]!.tokensPerSecond).toBeGreaterThan(0);
  });

  it('needs the admin key', async () => {
    expect((await fetch(`${node.url}/admin/cluster`)).status).toBe(401);
  });

  it('is an empty list when no peers are configured', async () => {
    expect(await (await peer.admin('/admin/cluster')).json()).toEqual({ peers: [] });
  });
});
