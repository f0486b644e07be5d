import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let lmx: TestServer | undefined;
afterEach(async () => {
  await lmx?.stop();
  lmx = undefined;
});

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });

describe('per-IP rate limits', () => {
  it('answers 429 with Retry-After (the same seconds as the body) past the inference limit', async () => {
    lmx = await startTestServer({ rateLimit: { inferencePerMinute: 3, exemptLoopback: false } });
    // An unknown model is a quick 404 that still counts; /v1/models is not counted.
    const counted = () =>
      fetch(`${lmx!.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'none', prompt: 'a' }),
      });
    for (let i = 0; i < 5; i++) expect((await get(`${lmx.url}/v1/models`)).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const response = await counted();
      statuses.push(response.status);
      expect(response.headers.get('x-ratelimit-limit')).toBe('3');
      expect(response.headers.get('x-ratelimit-remaining')).toBe(String(2 - i));
    }
    expect(statuses).toEqual([404, 404, 404]);
    const limited = await counted();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    const body = (await limited.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited', param: null });
    expect(body.error.message).toContain(`Retry in ${retryAfter} s.`);
  });

  it('behind a trusted proxy, limits each client named by X-Forwarded-For, not the proxy', async () => {
    lmx = await startTestServer({ rateLimit: { inferencePerMinute: 1 }, trustProxy: ['127.0.0.1'] });
    // An unknown model is a quick 404 that counts (/v1/models does not).
    const from = (client: string) =>
      fetch(`${lmx!.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
        body: JSON.stringify({ model: 'none', prompt: 'a' }),
      });
    expect((await from('10.0.0.1')).status).toBe(404);
    expect((await from('10.0.0.1')).status).toBe(429);
    expect((await from('10.0.0.2')).status).toBe(404);
  });

  it('never limits /healthz, /readyz or /metrics', async () => {
    lmx = await startTestServer({
      rateLimit: { inferencePerMinute: 1, adminPerMinute: 1, exemptLoopback: false },
    });
    for (let i = 0; i < 15; i++) {
      expect((await get(`${lmx.url}/healthz`)).status).toBe(200);
      expect((await get(`${lmx.url}/readyz`)).status).toBe(503); // no model: not ready, but answered
      expect((await get(`${lmx.url}/metrics`)).status).toBe(200);
    }
  });

  it('limits admin requests without the key (guessing it) to adminPerMinute', async () => {
    lmx = await startTestServer({ rateLimit: { adminPerMinute: 2, exemptLoopback: false } });
    const wrong = { authorization: 'Bearer lmx-wrong-key-wrong-key' };
    expect((await get(`${lmx.url}/admin/health`, wrong)).status).toBe(401);
    expect((await get(`${lmx.url}/admin/health`, wrong)).status).toBe(401);
    const limited = await get(`${lmx.url}/admin/health`, wrong);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).not.toBeNull();
    // Whoever holds the key administers without being throttled.
    for (let i = 0; i < 5; i++) expect((await lmx.admin('/admin/health')).status).toBe(200);
  });

  it('exempts loopback clients by default', async () => {
    lmx = await startTestServer({ rateLimit: { inferencePerMinute: 1 } });
    for (let i = 0; i < 5; i++) expect((await get(`${lmx.url}/v1/models/x`)).status).toBe(404);
  });
});

describe('load shedding', () => {
  it('answers 503 with Retry-After on inference and admin routes while memory use is past the threshold', async () => {
    let used = 0.5;
    lmx = await startTestServer(
      { shedding: { memoryThreshold: 0.9, maxEventLoopDelayMs: 0 } },
      { memory: { usedFraction: () => used }, sheddingCheckIntervalMs: 20 },
    );
    expect((await get(`${lmx.url}/v1/models`)).status).toBe(200);

    used = 0.97;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const shed = await get(`${lmx.url}/v1/models`);
    expect(shed.status).toBe(503);
    expect(Number(shed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await shed.json()) as { error: Record<string, unknown> }).error).toMatchObject({
      type: 'service_unavailable_error',
      code: 'shed',
    });
    expect((await lmx.admin('/admin/health')).status).toBe(503);
    // Health and metrics are always served.
    expect((await get(`${lmx.url}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await get(`${lmx.url}/readyz`)).status);
    const metrics = await (await get(`${lmx.url}/metrics`)).text();
    expect(metrics).toMatch(/lmx_rejected_requests_total\{reason="shed"\} [1-9]/);

    used = 0.5;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await get(`${lmx.url}/v1/models`)).status).toBe(200);
  });
});
