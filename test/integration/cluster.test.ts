import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCluster, type Cluster } from '../../cli/cluster-config.ts';
import { renderHaproxy, renderPrometheus } from '../../cli/cluster-render.ts';
import { readNodeStatus } from '../../server/cluster/node-status.ts';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { findBinary } from '../helpers/binaries.ts';
import { freePort, spawnTool, SteadyLoad, SupervisedNode, type LoadRecord } from '../helpers/cluster.ts';
import { adminCall, adminHeavyEnv, fillModelsDir } from '../helpers/model-library.ts';
import { makeDataDir, repoRoot, runCli, waitUntilReady } from '../helpers/server.ts';

/**
 * Three real `lmx serve` nodes behind a real HAProxy (rendered by `lmx cluster haproxy`), scraped by a
 * real Prometheus with LMX's rules: what a team running several Macs relies on, on loopback.
 */
const haproxyBin = findBinary('haproxy');
const prometheusBin = findBinary('prometheus');
const missing = [!haproxyBin && 'haproxy', !prometheusBin && 'prometheus'].filter(Boolean);
if (missing.length > 0) {
  console.log(
    `skipping the cluster test: ${missing.join(' and ')} not installed (apt-get install haproxy prometheus)`,
  );
}

const ADMIN_KEY = 'lmx-cluster-test-admin-key-0123';
const CHECK_INTERVAL_MS = 200;
// Longer than HAProxy's check interval: the front door takes a stopping node out before it refuses.
const DRAIN_NOTICE_MS = 1000;
const LOAD = { concurrency: 3, maxRequests: 10_000, deadlineMs: 60_000, model: 'alpha' };

let work: string;
let nodes: SupervisedNode[] = [];
let cluster: Cluster;
let clusterFile: string;
let frontDoor: string;
let prometheusUrl: string;
const tools: ReturnType<typeof spawnTool>[] = [];

const loadedModels = async (node: SupervisedNode) => (await readNodeStatus(node.url)).models;
const servedBy = (records: LoadRecord[], name: string) => records.filter((r) => r.ok && r.node === name);

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Until HAProxy has every node in its pool: rise good checks plus one period, after all are ready. */
async function waitForPool() {
  for (const node of nodes) await waitUntilReady(node.url);
  await sleep(CHECK_INTERVAL_MS * 3);
}

beforeAll(async () => {
  if (missing.length > 0) return;
  work = await mkdtemp(path.join(tmpdir(), 'lmx-cluster-'));
  const env = {
    ...adminHeavyEnv,
    LMX_DRAIN_NOTICE_MS: String(DRAIN_NOTICE_MS),
    LMX_TRUST_PROXY: '127.0.0.1',
  };
  nodes = await Promise.all(
    ['node-a', 'node-b', 'node-c'].map(async (name) => {
      const dataDir = await makeDataDir();
      await fillModelsDir(dataDir, { alpha: 'tiny' });
      return new SupervisedNode(name, await freePort(), dataDir, ADMIN_KEY, env);
    }),
  );
  await Promise.all(nodes.map((node) => node.start()));
  // Loaded through the admin API, not --model: coming back with it after a restart is recovery's doing.
  for (const node of nodes) {
    expect(
      (await adminCall(node.url, ADMIN_KEY, 'POST', '/admin/models/load', { model: 'alpha' })).status,
    ).toBe(200);
  }
  const frontPort = await freePort();
  frontDoor = `http://127.0.0.1:${frontPort}`;
  cluster = parseCluster({
    nodes: nodes.map((node) => ({
      name: node.name,
      url: node.url,
      restart: `kill -TERM "$(cat '${node.pidFile}')"`,
    })),
    frontDoor: { bind: `127.0.0.1:${frontPort}`, checkIntervalMs: CHECK_INTERVAL_MS, rise: 1 },
    prometheus: { scrapeIntervalSeconds: 1, rulesDir: path.join(repoRoot, 'deploy/prometheus') },
  });
  clusterFile = path.join(work, 'cluster.json');
  await writeFile(clusterFile, JSON.stringify(cluster, null, 2));
  await writeFile(path.join(work, 'haproxy.cfg'), await renderHaproxy(cluster));
  await writeFile(path.join(work, 'prometheus.yml'), renderPrometheus(cluster));
  tools.push(spawnTool(haproxyBin!, ['-db', '-f', path.join(work, 'haproxy.cfg')]));
  const prometheusPort = await freePort();
  prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  tools.push(
    spawnTool(prometheusBin!, [
      `--config.file=${path.join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(work, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--log.level=warn',
    ]),
  );
  await waitUntil('HAProxy to listen', async () => (await fetch(`${frontDoor}/v1/models`)).ok, 20_000);
  await waitForPool();
}, 240_000);

afterAll(async () => {
  for (const tool of tools) tool.child.kill('SIGKILL');
  await Promise.all(nodes.map((node) => node.stop()));
  for (const node of nodes) await rm(node.dataDir, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(missing.length > 0)('three LMX nodes behind HAProxy, scraped by Prometheus', () => {
  it('spreads requests over the nodes; a client key sticks to one node; /admin is not exposed', async () => {
    const spread = new SteadyLoad(frontDoor, { ...LOAD, maxRequests: 30 });
    await waitUntil('30 requests', async () => spread.records.length >= 30);
    const done = await spread.stop();
    expect(done.filter((record) => !record.ok)).toEqual([]);
    for (const node of nodes) expect(servedBy(done, node.name).length, node.name).toBeGreaterThan(0);

    const nodeFor = async (headers: Record<string, string>, body: Record<string, unknown> = {}) => {
      const response = await fetch(`${frontDoor}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({
          model: 'alpha',
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 2,
          ...body,
        }),
      });
      expect(response.status).toBe(200);
      await response.text();
      return response.headers.get('x-lmx-node');
    };
    for (const key of ['alice', 'bob']) {
      const byUser = new Set<string | null>();
      const byHeader = new Set<string | null>();
      for (let i = 0; i < 6; i++) {
        byUser.add(await nodeFor({}, { user: key }));
        byHeader.add(await nodeFor({ 'x-lmx-client': `${key}-header` }));
      }
      expect(byUser.size, `user ${key}`).toBe(1);
      expect(byHeader.size, `header ${key}`).toBe(1);
    }

    const admin = await fetch(`${frontDoor}/admin/state`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(admin.status).toBe(404);
    expect(((await admin.json()) as { error: { code: string } }).error.code).toBe('not_found');
  }, 60_000);

  it("passes a node's 429 and Retry-After through; a client that leaves stops the generation on its node", async () => {
    // Loopback clients are exempt from rate limits here; X-Forwarded-For (trusted from the front door's
    // address, which is also the test's) names another client, limited to 60 a minute on its node.
    let limited: Response | undefined;
    for (let i = 0; i < 70 && !limited; i++) {
      // An unknown model is a quick 404 that counts against the limit (/v1/models does not).
      const response = await fetch(`${frontDoor}/v1/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-forwarded-for': '10.9.9.9',
          'x-lmx-client': 'rate-limited',
        },
        body: JSON.stringify({ model: 'none', prompt: 'a' }),
      });
      await response.text();
      if (response.status === 429) limited = response;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);

    // A model slow enough (about 150 tokens/s here) that a generation left running is plain to see, put in
    // the library of the node that the client key sticks to, loaded just in time.
    const sticky = { 'content-type': 'application/json', 'x-lmx-client': 'leaver' };
    const first = await fetch(`${frontDoor}/v1/models`, { headers: sticky });
    await first.text();
    const node = nodes.find((candidate) => candidate.name === first.headers.get('x-lmx-node'))!;
    await copyFile(await ensureGeneratedModel('bench100m'), path.join(node.dataDir, 'models/slow.gguf'));
    const ask = (maxTokens: number, signal?: AbortSignal) =>
      fetch(`${frontDoor}/v1/completions`, {
        method: 'POST',
        headers: sticky,
        body: JSON.stringify({
          model: 'slow',
          prompt: 'x',
          max_tokens: maxTokens,
          ignore_eos: true,
          stream: true,
        }),
        signal,
      });
    await (await ask(1)).text();
    const before = (await readNodeStatus(node.url)).generatedTokens;
    const abort = new AbortController();
    const response = await ask(200, abort.signal);
    expect(response.headers.get('x-lmx-node')).toBe(node.name);
    await response.body!.getReader().read();
    abort.abort();
    await waitUntil(
      'the node to stop generating',
      async () => (await readNodeStatus(node.url)).inflight === 0,
      5000,
    );
    const tokens = (await readNodeStatus(node.url)).generatedTokens - before;
    console.log(`client gone after the first chunk: ${tokens} of 200 tokens generated`);
    // Had the node kept going, it would have generated all 200.
    expect(tokens).toBeLessThan(100);
    expect(
      (await adminCall(node.url, ADMIN_KEY, 'POST', '/admin/models/unload', { model: 'slow' })).status,
    ).toBe(200);
  }, 60_000);

  it('kill -9 of a node under load: only its in-flight requests fail, then it comes back and rejoins', async () => {
    const victim = nodes[1]!;
    const load = new SteadyLoad(frontDoor, LOAD);
    await waitUntil('traffic on the victim', async () => servedBy(load.records, victim.name).length >= 3);
    const inFlight = [...load.inFlight.values()];
    const onVictim = inFlight.filter((entry) => entry.node === victim.name).length;
    const unanswered = inFlight.filter((entry) => entry.node === null).length;
    const killedAt = Date.now();
    const firstStart = victim.starts;
    const dying = victim.current!.exited;
    victim.kill('SIGKILL');
    await dying;
    // Until the kernel has unmapped its model and closed its sockets, the dying node still completes
    // handshakes; the requests it took meanwhile are reset unanswered, and HAProxy must send them on.
    console.log(`the killed node was gone ${Date.now() - killedAt} ms after the signal`);
    await waitUntil('the victim to come back', async () => victim.starts > firstStart, 30_000);
    await waitUntil('the victim to be ready with its model', async () =>
      (await loadedModels(victim)).includes('alpha'),
    );
    const backAt = Date.now();
    await waitUntil('the victim to serve again', async () =>
      load.records.some((r) => r.ok && r.node === victim.name && r.startedAt > backAt),
    );
    const records = await load.stop();
    const failures = records.filter((record) => !record.ok);
    console.log(
      `kill -9: ${failures.length} of ${records.length} requests failed; at the kill, ${onVictim} were streaming from the killed node and ${unanswered} not yet answered`,
      failures.map((f) => `+${f.startedAt - killedAt} ms ${f.node ?? 'no node'}: ${f.error}`),
    );
    // Only requests already sent when the node died may fail: never more than the clients, none later.
    expect(failures.length).toBeLessThanOrEqual(LOAD.concurrency);
    for (const failure of failures) {
      expect(failure.startedAt).toBeLessThanOrEqual(killedAt);
      expect([victim.name, null]).toContain(failure.node);
    }
    expect(records.filter((r) => r.startedAt > killedAt).every((r) => r.ok)).toBe(true);
  }, 90_000);

  it('a drain of one node under load loses no request, while a long stream on it finishes', async () => {
    await waitForPool();
    const node = nodes[2]!;
    // A long generation (the slow model, asked directly) keeps the node draining for seconds: requests
    // the front door still sends it meanwhile must be served, not refused.
    await copyFile(await ensureGeneratedModel('bench100m'), path.join(node.dataDir, 'models/slow.gguf'));
    const slow = (maxTokens: number) =>
      fetch(`${node.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'slow', prompt: 'x', max_tokens: maxTokens, ignore_eos: true }),
      });
    expect((await slow(1)).status).toBe(200);
    const load = new SteadyLoad(frontDoor, LOAD);
    await waitUntil('traffic on the node', async () => servedBy(load.records, node.name).length >= 3);
    const longStream = slow(200);
    await waitUntil('the long generation to run', async () => (await readNodeStatus(node.url)).inflight > 0);
    const firstStart = node.starts;
    node.kill('SIGTERM');
    const long = await longStream;
    expect(long.status).toBe(200);
    expect(((await long.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(
      200,
    );
    await waitUntil('the node to restart', async () => node.starts > firstStart, 30_000);
    await waitUntil('the node to be ready', async () => (await loadedModels(node)).includes('alpha'));
    await sleep(500);
    const records = await load.stop();
    console.log(`drain: ${records.filter((r) => !r.ok).length} of ${records.length} requests failed`);
    expect(records.filter((record) => !record.ok)).toEqual([]);
    expect(records.length).toBeGreaterThan(10);
    await waitUntil('the slow model to be back', async () => (await loadedModels(node)).includes('slow'));
    expect(
      (await adminCall(node.url, ADMIN_KEY, 'POST', '/admin/models/unload', { model: 'slow' })).status,
    ).toBe(200);
  }, 120_000);

  it('lmx cluster restart under load: no request lost, every node back with its models', async () => {
    await waitForPool();
    const pids = nodes.map((node) => node.current?.child.pid);
    const load = new SteadyLoad(frontDoor, { ...LOAD, deadlineMs: 200_000 });
    await waitUntil('traffic', async () => load.records.length >= 6);
    const restart = await runCli(['cluster', 'restart', '--cluster', clusterFile, '--node-timeout', '60']);
    const restartDone = Date.now();
    const records = await load.stop();
    expect(restart.stderr).toBe('');
    expect(restart.code).toBe(0);
    expect(restart.stdout).toContain('all 3 nodes restarted');
    // The load ran for the whole restart.
    expect(records.some((record) => record.endedAt >= restartDone)).toBe(true);
    console.log(
      `rolling restart: ${records.filter((r) => !r.ok).length} of ${records.length} requests failed`,
    );
    expect(records.filter((record) => !record.ok)).toEqual([]);
    for (const [index, node] of nodes.entries()) {
      expect(node.current?.child.pid, node.name).not.toBe(pids[index]);
      expect(await loadedModels(node), node.name).toEqual(['alpha']);
    }
  }, 240_000);

  it("Prometheus records the TTFT quantiles of every node from LMX's rules", async () => {
    const query = 'node_model:lmx_time_to_first_token_seconds:p95_1m';
    let nodesSeen: string[] = [];
    const load = new SteadyLoad(frontDoor, { ...LOAD, deadlineMs: 30_000 });
    await waitUntil(
      'TTFT p95 series of three nodes',
      async () => {
        const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
        const body = (await response.json()) as {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        nodesSeen = body.data.result
          .filter((series) => Number.isFinite(Number(series.value[1])) && series.metric.model === 'alpha')
          .map((series) => series.metric.node as string)
          .sort();
        return nodesSeen.length === 3;
      },
      30_000,
    ).finally(() => load.stop());
    expect(nodesSeen).toEqual(nodes.map((node) => node.name));
  }, 60_000);
});
