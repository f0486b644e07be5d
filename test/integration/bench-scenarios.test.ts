// The other scenarios end to end against one real server holding two models: model-churn spreads
// requests over both, ramp reports per step, burst sends its rounds; all bounded and all ok.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench, type BenchOptions } from '../../loadgen/bench-run.ts';
import { builtInPrompts } from '../../loadgen/prompts.ts';
import { ensureGeneratedModel, testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    startupModels: [await testModelPath(), await ensureGeneratedModel('tinyQ8')],
    rateLimit: { exemptLoopback: true },
  });
});

afterAll(async () => {
  await server?.stop();
});

const base = (): BenchOptions => ({
  targets: [{ label: 'A', baseUrl: `${server.url}/v1` }],
  models: [],
  scenario: 'sustained',
  concurrency: 2,
  requests: 4,
  durationMs: 60_000,
  maxTokens: 6,
  promptSet: 'short',
  prompts: builtInPrompts('short'),
  endpoint: 'chat',
  ignoreEos: false,
  includeUsage: true,
  timeoutMs: 30_000,
  warmup: false,
});

describe('scenarios against a real server', () => {
  it('model-churn spreads requests over every listed model and reports each', async () => {
    const result = await runBench({ ...base(), scenario: 'model-churn', requests: 6 });
    const target = result.targets[0]!;
    expect(target.models).toHaveLength(2);
    expect(target.byModel.map((entry) => [entry.model, entry.figures.requests]).sort()).toEqual(
      target.models.map((model) => [model, 3]).sort(),
    );
    expect(target.figures.outcomes.ok).toBe(6);
  });

  it('ramp steps concurrency 1, 2, 4 and reports every step', async () => {
    const result = await runBench({ ...base(), scenario: 'ramp', concurrency: 4, requests: 4, models: [] });
    const steps = result.targets[0]!.steps;
    expect(steps.map((step) => [step.step, step.concurrency, step.figures.requests])).toEqual([
      ['c=1', 1, 4],
      ['c=2', 2, 4],
      ['c=4', 4, 8],
    ]);
    expect(steps.every((step) => step.figures.outcomes.ok === step.figures.requests)).toBe(true);
  });

  it('burst sends its rounds and the completions endpoint works too', async () => {
    const result = await runBench({
      ...base(),
      scenario: 'burst',
      concurrency: 3,
      requests: 6,
      endpoint: 'completions',
    });
    const figures = result.targets[0]!.figures;
    expect(figures.requests).toBe(6);
    expect(figures.outcomes.ok).toBe(6);
    expect(figures.ttftMs?.count).toBe(6);
  });

  it('stops at the time bound and says so', async () => {
    const result = await runBench({ ...base(), concurrency: 1, requests: 100_000, durationMs: 300 });
    expect(result.truncated).toBe(true);
    expect(result.targets[0]!.figures.requests).toBeGreaterThan(0);
    expect(result.targets[0]!.figures.requests).toBeLessThan(100_000);
  });
});
