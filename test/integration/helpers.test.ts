import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { ensureRerankerModel } from '../fixtures/reranker.ts';
import { freePort } from '../helpers/cluster.ts';
import { adminCall, adminHeavyEnv, recordEvents, type EventRecorder } from '../helpers/model-library.ts';
import {
  makeDataDir,
  smallServerArgs,
  spawnServer,
  startTestServer,
  type ServerProcess,
  type TestServer,
} from '../helpers/server.ts';

const ADMIN_KEY = 'lmx-test-admin-key-0123456789';
const FAILURE_THRESHOLD = 2;
const RESET_TIMEOUT_MS = 1500;

/** A gauge or counter sample of /metrics (0 when absent). */
async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// A second LMX process is the helper node: it has the models `remote-embed` and `remote-ranker`, this
// node has neither (and `embed` only in its library). kill -9 of the helper opens its breaker after
// FAILURE_THRESHOLD failures; a restart on the same port lets the half-open trial through and closes it.
describe('helper nodes behind circuit breakers', () => {
  let helperDir: string;
  let helperPort: number;
  let helper: ServerProcess | undefined;
  let lmx: TestServer;
  let events: EventRecorder;

  const startHelper = async () => {
    const args = smallServerArgs(helperDir, ADMIN_KEY);
    args[args.indexOf('--port') + 1] = String(helperPort);
    helper = await spawnServer(args, adminHeavyEnv);
  };
  const embed = (model: string) =>
    lmx.openai.embeddings
      .create({ model, input: ['one text', 'another text'] })
      .catch((error: unknown) => error);
  const helperMetric = (outcome: string) =>
    metric(lmx.url, 'lmx_helper_requests_total', `helper="h1",outcome="${outcome}"`);
  const circuit = () => metric(lmx.url, 'lmx_helper_circuit_state', 'helper="h1"');
  const helperHealth = async () => {
    const health = (await (await lmx.admin('/admin/health')).json()) as {
      components: { name: string; status: string; details: Record<string, unknown> }[];
    };
    return health.components.find((component) => component.name === 'helper:h1');
  };

  beforeAll(async () => {
    helperDir = await makeDataDir();
    await mkdir(path.join(helperDir, 'models'), { recursive: true });
    const embedding = await ensureGeneratedModel('tiny', { poolingType: 1 });
    await copyFile(embedding, path.join(helperDir, 'models', 'remote-embed.gguf'));
    await copyFile(await ensureRerankerModel(), path.join(helperDir, 'models', 'remote-ranker.gguf'));
    helperPort = await freePort();
    await startHelper();
    // Loaded before the first request, as a team warms a helper: a file's first load on a data dir runs a
    // probe process first, which can take longer than the helper's request timeout on a loaded machine.
    for (const model of ['remote-embed', 'remote-ranker']) {
      const url = `http://127.0.0.1:${helperPort}`;
      const loaded = await adminCall(url, ADMIN_KEY, 'POST', '/admin/models/load', { model });
      if (loaded.status !== 200) throw new Error(`the helper did not load ${model}: ${loaded.status}`);
    }
    lmx = await startTestServer({
      helpers: [
        { name: 'h1', url: `http://127.0.0.1:${helperPort}`, roles: ['embed', 'rerank'], timeoutMs: 5000 },
      ],
      helperBreaker: { failureThreshold: FAILURE_THRESHOLD, resetTimeoutMs: RESET_TIMEOUT_MS },
    });
    await mkdir(path.join(lmx.dataDir, 'models'), { recursive: true });
    await copyFile(embedding, path.join(lmx.dataDir, 'models', 'embed.gguf'));
    events = await recordEvents(lmx.url, lmx.adminKey);
  }, 180_000);
  afterAll(async () => {
    events?.close();
    await lmx?.stop();
    helper?.child.kill('SIGKILL');
    await helper?.exited;
    if (helperDir) await rm(helperDir, { recursive: true, force: true });
  });

  it('sends embeddings and reranking of models it does not have to the helper', async () => {
    const viaLmx = (await embed('remote-embed')) as { data: { embedding: number[] }[] };
    const direct = await fetch(`http://127.0.0.1:${helperPort}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'remote-embed', input: ['one text', 'another text'] }),
    });
    const directBody = (await direct.json()) as { data: { embedding: number[] }[] };
    expect(viaLmx.data.map((item) => item.embedding)).toEqual(directBody.data.map((item) => item.embedding));
    const ranked = await fetch(`${lmx.url}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'remote-ranker',
        query: 'q',
        documents: ['a big ball', 'the dog was happy'],
      }),
    });
    const rankedBody = (await ranked.json()) as { results: { index: number }[] };
    expect(rankedBody.results.map((result) => result.index)).toEqual([1, 0]);
    expect(await helperMetric('success')).toBe(2);
    expect(
      await metric(
        `http://127.0.0.1:${helperPort}`,
        'lmx_requests_total',
        'route="/v1/embeddings",method="POST",status="200"',
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(await circuit()).toBe(0);
    expect((await helperHealth())?.details.circuit).toBe('closed');
  });

  it('passes the helper’s own refusal on without counting it against the helper', async () => {
    const refused = await lmx.openai.embeddings
      .create({ model: 'remote-embed', input: 'x', dimensions: 8 })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, param: 'dimensions' });
    expect(await helperMetric('refused')).toBe(1);
    expect(await circuit()).toBe(0);
  });

  it('opens the breaker when the helper dies, fails fast or falls back, and closes when it returns', async () => {
    helper?.child.kill('SIGKILL');
    await helper?.exited;
    for (let attempt = 0; attempt < FAILURE_THRESHOLD; attempt++) {
      expect(await embed('remote-embed')).toMatchObject({ status: 503, code: 'helpers_unavailable' });
    }
    expect(await helperMetric('error')).toBe(FAILURE_THRESHOLD);
    expect(await circuit()).toBe(2);
    expect((await helperHealth())?.details).toMatchObject({
      circuit: 'open',
      failures: FAILURE_THRESHOLD,
      failureThreshold: FAILURE_THRESHOLD,
      resetTimeoutMs: RESET_TIMEOUT_MS,
      timeoutMs: 5000,
      lastError: expect.stringMatching(/^helper h1: /),
    });
    await events.waitFor(
      (event, data) => event === 'alert' && data.kind === 'breaker' && /open/.test(data.message),
    );

    // Open: the helper is not called at all, and the answer says when to retry.
    const fastFail = await fetch(`${lmx.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'remote-embed', input: 'x' }),
    });
    expect(fastFail.status).toBe(503);
    expect(Number(fastFail.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await helperMetric('rejected')).toBe(1);
    expect(await helperMetric('error')).toBe(FAILURE_THRESHOLD);
    // A model this node has in its library is served here while the helper is out.
    expect(await embed('embed')).toMatchObject({ data: [{ index: 0 }, { index: 1 }] });

    await startHelper();
    await until(async () => (await circuit()) === 1);
    expect((await helperHealth())?.details.circuit).toBe('half_open');
    expect(await embed('remote-embed')).toMatchObject({ data: [{ index: 0 }, { index: 1 }] });
    expect(await circuit()).toBe(0);
    expect((await helperHealth())?.status).toBe('ok');
    // A success clears the count; the last error stays to say what happened.
    expect((await helperHealth())?.details).toMatchObject({ failures: 0, lastError: expect.any(String) });
    await events.waitFor(
      (event, data) => event === 'alert' && data.kind === 'breaker' && /closed/.test(data.message),
    );
  }, 120_000);

  it('takes helpers and breaker numbers from PUT /admin/config at once, and refuses bad ones', async () => {
    const put = (body: unknown) =>
      lmx.admin('/admin/config', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const h1 = {
      name: 'h1',
      url: `http://127.0.0.1:${helperPort}`,
      roles: ['embed', 'rerank'],
      timeoutMs: 5000,
    };
    const bad = await put({ helperBreaker: { failureThreshold: 0 } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        code: 'invalid_config',
        param: 'helperBreaker.failureThreshold',
      },
    });
    const repeated = await put({ helpers: [h1, { ...h1, url: 'http://127.0.0.1:9' }] });
    expect(repeated.status).toBe(400);
    expect(await repeated.json()).toMatchObject({ error: { param: 'helpers.1.name' } });

    // A second helper on a port nothing listens on, for one model only, opening after one failure.
    const dead = {
      name: 'h2',
      url: `http://127.0.0.1:${await freePort()}`,
      roles: ['embed'],
      models: ['ghost'],
    };
    const added = await put({ helpers: [dead, h1], helperBreaker: { failureThreshold: 1 } });
    expect(added.status).toBe(200);
    expect(await added.json()).toMatchObject({ restartRequired: [] });
    // h1 kept its settings but the breaker's changed: it starts again, closed.
    expect(await circuit()).toBe(0);
    // h2 is tried first and fails once (open at once); h1, the next, does not have the model: its 404.
    expect(await embed('ghost')).toMatchObject({ status: 404, code: 'model_not_found' });
    expect(await metric(lmx.url, 'lmx_helper_circuit_state', 'helper="h2"')).toBe(2);
    expect(await embed('remote-embed')).toMatchObject({ data: [{ index: 0 }, { index: 1 }] });

    const restored = await put({
      helpers: [h1],
      helperBreaker: { failureThreshold: FAILURE_THRESHOLD },
    });
    expect(restored.status).toBe(200);
    const health = (await (await lmx.admin('/admin/health')).json()) as { components: { name: string }[] };
    expect(health.components.map((component) => component.name)).not.toContain('helper:h2');
    expect(await (await fetch(`${lmx.url}/metrics`)).text()).not.toMatch(
      /lmx_helper_circuit_state\{helper="h2"\}/,
    );
    expect((await helperHealth())?.details.failureThreshold).toBe(FAILURE_THRESHOLD);
  }, 60_000);
});

// Two more LMX processes hold the same model; the node in front has neither it nor a local copy.
describe('several helpers for one model', () => {
  const helpers: ServerProcess[] = [];
  const dirs: string[] = [];
  let front: TestServer;

  beforeAll(async () => {
    const embedding = await ensureGeneratedModel('tiny', { poolingType: 1 });
    const urls = await Promise.all(
      ['n0', 'n1'].map(async () => {
        const dir = await makeDataDir();
        dirs.push(dir);
        await mkdir(path.join(dir, 'models'), { recursive: true });
        await copyFile(embedding, path.join(dir, 'models', 'shared-embed.gguf'));
        const helper = await spawnServer(smallServerArgs(dir, ADMIN_KEY), adminHeavyEnv);
        helpers.push(helper);
        const loaded = await adminCall(helper.url, ADMIN_KEY, 'POST', '/admin/models/load', {
          model: 'shared-embed',
        });
        if (loaded.status !== 200) throw new Error(`a helper did not load its model: ${loaded.status}`);
        return helper.url;
      }),
    );
    front = await startTestServer({
      helpers: urls.map((url, index) => ({ name: `n${index}`, url, roles: ['embed'], timeoutMs: 10_000 })),
    });
  }, 180_000);
  afterAll(async () => {
    await front?.stop();
    for (const helper of helpers) helper.child.kill('SIGKILL');
    await Promise.all(helpers.map((helper) => helper.exited));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('spreads concurrent requests over them, least outstanding calls first', async () => {
    // Asserts: 8 concurrent embedding requests all succeed, and each helper answered some of them (the
    // least busy is chosen, so with all 8 under way at once neither takes them all).
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        front.openai.embeddings.create({ model: 'shared-embed', input: [`text ${index}`] }),
      ),
    );
    expect(answers.every((answer) => answer.data.length === 1)).toBe(true);
    const served = await Promise.all(
      ['n0', 'n1'].map((name) =>
        metric(front.url, 'lmx_helper_requests_total', `helper="${name}",outcome="success"`),
      ),
    );
    expect(served[0]! + served[1]!).toBe(8);
    expect(Math.min(...served)).toBeGreaterThan(0);
  });
});
