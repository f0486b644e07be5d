// The pressure scenario against a real server whose admission queue is deliberately tiny: excess
// requests must come back as 429 queue_full and be counted as such; autocannon probes non-LLM routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../loadgen/bench-run.ts';
import { probeHttp } from '../../loadgen/http-probe.ts';
import { builtInPrompts } from '../../loadgen/prompts.ts';
import { testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    startupModels: [await testModelPath()],
    parallel: 1,
    // Room for long generations, so the holders below keep the queue full while autocannon knocks.
    contextSize: 2048,
    queue: { maxQueued: 1, timeoutMs: 30_000 },
    rateLimit: { exemptLoopback: true },
    // A stuck request must not hold the test up for the default 30 s.
    drainTimeoutMs: 5_000,
  });
});

afterAll(async () => {
  await server?.stop();
});

describe('pressure', () => {
  it('counts refused excess requests as 429 queue_full, with their refusal latency', async () => {
    const result = await runBench({
      targets: [{ label: 'A', baseUrl: `${server.url}/v1` }],
      models: [],
      scenario: 'pressure',
      concurrency: 6,
      requests: 6,
      durationMs: 60_000,
      maxTokens: 64,
      promptSet: 'short',
      prompts: builtInPrompts('short'),
      endpoint: 'chat',
      ignoreEos: false,
      includeUsage: true,
      timeoutMs: 30_000,
      warmup: false,
    });
    const figures = result.targets[0]!.figures;
    expect(figures.requests).toBe(6);
    // One running, one queued: at least the other four are refused at admission.
    expect(figures.outcomes.rate_limited).toBeGreaterThanOrEqual(4);
    expect(figures.outcomes.ok).toBeGreaterThanOrEqual(1);
    expect(figures.errorCodes.queue_full).toBe(figures.outcomes.rate_limited);
    expect(figures.refusalLatencyMs?.count).toBe(figures.outcomes.rate_limited);
    expect(result.targets[0]!.models).toHaveLength(1);
    // The probes run only while the load still holds the queue; on a fast model it may already be gone.
    for (const probe of result.pressure) {
      expect(probe.queueFullSeen).toBe(true);
      expect(probe.healthz.requests).toBeGreaterThan(0);
    }
  });

  it('probes a plain HTTP route with autocannon, bounded by count', async () => {
    const probe = await probeHttp({
      url: `${server.url}/healthz`,
      connections: 2,
      amount: 50,
      maxDurationMs: 20_000,
    });
    expect(probe.statusCounts).toEqual({ '200': 50 });
    expect(probe.requests).toBe(50);
    expect(probe.latencyMs.p99).toBeGreaterThanOrEqual(probe.latencyMs.p50);
  });

  it('measures refusal of an excess request with autocannon while the queue is full', async () => {
    // Hold the one slot and the one queue place with two long generations, then knock.
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
    const model = models.data[0]!.id;
    const holders = [0, 1].map(() =>
      fetch(`${server.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt: 'Once', max_tokens: 400 }),
      }).catch(() => undefined),
    );
    try {
      // Wait (bounded) until the queue is full: a probe request is refused.
      let full = false;
      for (let attempt = 0; attempt < 200 && !full; attempt++) {
        const response = await fetch(`${server.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, prompt: 'x', max_tokens: 1 }),
        });
        full = response.status === 429;
        await response.body?.cancel();
        if (!full) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(full).toBe(true);
      const probe = await probeHttp({
        url: `${server.url}/v1/completions`,
        method: 'POST',
        body: JSON.stringify({ model, prompt: 'x', max_tokens: 1 }),
        headers: { 'content-type': 'application/json' },
        connections: 1,
        amount: 10,
        maxDurationMs: 20_000,
      });
      expect(probe.statusCounts['429']).toBeGreaterThan(0);
    } finally {
      // Not aborted: they finish in about a second, and an aborted non-streamed request would hold up
      // the server's shutdown.
      await Promise.all(holders);
    }
  });
});
