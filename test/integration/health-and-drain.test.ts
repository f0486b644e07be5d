import OpenAI from 'openai';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../server/config/load.ts';
import { LmxServer } from '../../server/server.ts';
import { testModelPath } from '../fixtures/models.ts';
import {
  makeDataDir,
  startTestServer,
  testConfigLayer,
  waitUntilReady,
  type TestServer,
} from '../helpers/server.ts';
import { expectStoppedAtMaxTokens } from '../helpers/tokens.ts';

let lmx: TestServer | undefined;
afterEach(async () => {
  await lmx?.stop();
  lmx = undefined;
});

async function readyz(url: string) {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
}

describe('health tiers', () => {
  it('readyz: loading while startup models load, then ready; healthz always 200', async () => {
    const config = validateConfig({
      ...testConfigLayer(await makeDataDir()),
      startupModels: [await testModelPath()],
    });
    const server = await LmxServer.start(config, pino({ level: 'silent' }));
    try {
      // Checked right after start, before the background load can have finished.
      expect(await readyz(server.url)).toEqual({
        status: 503,
        body: { status: 'not_ready', reason: 'loading' },
      });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      await waitUntilReady(server.url);
      expect(await readyz(server.url)).toEqual({ status: 200, body: { status: 'ready' } });
    } finally {
      await server.stop();
    }
  });

  it('readyz: no_model_loaded when nothing is loaded', async () => {
    lmx = await startTestServer();
    expect(await readyz(lmx.url)).toEqual({
      status: 503,
      body: { status: 'not_ready', reason: 'no_model_loaded' },
    });
    expect((await fetch(`${lmx.url}/healthz`)).status).toBe(200);
  });

  it('deep health: one entry per subsystem with status, latency and figures; worst decides', async () => {
    lmx = await startTestServer({ startupModels: [await testModelPath()] });
    const model = (await lmx.openai.models.list()).data[0]!.id;
    const report = (await (await lmx.admin('/admin/health')).json()) as {
      status: string;
      components: { name: string; status: string; latencyMs: number; details: Record<string, unknown> }[];
    };
    const names = report.components.map((component) => component.name);
    expect(names).toEqual(
      expect.arrayContaining(['engine', 'models', `model:${model}`, 'memory', 'gpu', 'queue', 'host']),
    );
    for (const component of report.components) {
      expect(['ok', 'degraded', 'down']).toContain(component.status);
      expect(component.latencyMs).toBeGreaterThanOrEqual(0);
    }
    const engine = report.components.find((component) => component.name === 'engine')!;
    expect(engine.details).toMatchObject({ backend: 'cpu', threads: 1 });
    const gpu = report.components.find((component) => component.name === 'gpu')!;
    expect(gpu.details).toHaveProperty('vramTotalBytes');
    const order = ['ok', 'degraded', 'down'];
    const worst = report.components.reduce((acc, c) => Math.max(acc, order.indexOf(c.status)), 0);
    expect(report.status).toBe(order[worst]);
  });
});

describe('graceful drain', () => {
  it('lets a running stream finish while readyz says draining and new inference gets 503', async () => {
    lmx = await startTestServer({ startupModels: [await testModelPath()], contextSize: 2048 });
    const model = (await lmx.openai.models.list()).data[0]!.id;
    const stream = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 400,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let stopping: Promise<void> | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let checkedDuringDrain = false;
    for await (const chunk of stream) {
      usage = chunk.usage ?? usage;
      if (!stopping && chunk.choices[0]?.delta?.content) {
        stopping = lmx.server.stop();
        expect(await readyz(lmx.url)).toEqual({
          status: 503,
          body: { status: 'not_ready', reason: 'draining' },
        });
        expect((await fetch(`${lmx.url}/healthz`)).status).toBe(200);
        const refused = await fetch(`${lmx.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }),
        });
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).not.toBeNull();
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('draining');
        checkedDuringDrain = true;
      }
    }
    expect(checkedDuringDrain).toBe(true);
    expectStoppedAtMaxTokens(usage!.completion_tokens, 400);
    await stopping;
    expect(lmx.server.lifecycle.phase).toBe('stopped');
    lmx = undefined;
  });

  it('with drainNoticeMs, readyz says draining while inference is still served for that long', async () => {
    lmx = await startTestServer({ startupModels: [await testModelPath()], drainNoticeMs: 1500 });
    const model = (await lmx.openai.models.list()).data[0]!.id;
    const ask = () =>
      fetch(`${lmx!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }),
      });
    const stopStarted = performance.now();
    const stopping = lmx.server.stop();
    expect(await readyz(lmx.url)).toEqual({ status: 503, body: { status: 'not_ready', reason: 'draining' } });
    expect((await ask()).status).toBe(200);
    await stopping;
    expect(performance.now() - stopStarted).toBeGreaterThanOrEqual(1500);
    lmx = undefined;
  });

  it('past drainTimeoutMs aborts what still runs and tells the client so', async () => {
    lmx = await startTestServer({
      startupModels: [await testModelPath()],
      contextSize: 2048,
      drainTimeoutMs: 150,
    });
    const model = (await lmx.openai.models.list()).data[0]!.id;
    const stream = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 1900,
      stream: true,
    });
    let stopping: Promise<void> | undefined;
    const consumed = (async () => {
      for await (const chunk of stream) {
        if (!stopping && chunk.choices[0]?.delta?.content) stopping = lmx!.server.stop();
      }
    })();
    const error = await consumed.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toMatch(/shutting down/);
    await stopping;
    lmx = undefined;
  });
});
