// Anthropic's Messages API goes through the same run as Chat Completions: admission queue, rate limits,
// drain and metrics, each answered in Anthropic's shape on its routes.
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

let lmx: TestServer | undefined;
afterEach(async () => {
  await lmx?.stop();
  lmx = undefined;
});

const clientOf = (server: TestServer) => new Anthropic({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
const modelId = async (server: TestServer) => (await server.openai.models.list()).data[0]!.id;

async function postMessage(server: TestServer, body: Record<string, unknown>, path = '/v1/messages') {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // count_tokens takes no max_tokens (as Anthropic's).
    body: JSON.stringify({
      ...(path === '/v1/messages' ? { max_tokens: 2 } : {}),
      messages: [{ role: 'user', content: 'x' }],
      ...body,
    }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as { type?: string; error?: { type?: string; message?: string } },
  };
}

describe('the shared run, through /v1/messages', () => {
  it('queue full is a 429 rate_limit_error with Retry-After; the queued message is answered; metrics name the route', async () => {
    lmx = await startTestServer({
      startupModels: [await testModelPath()],
      parallel: 1,
      contextSize: 2048,
      queue: { maxQueued: 1, timeoutMs: 30_000 },
    });
    const model = await modelId(lmx);
    const client = clientOf(lmx);
    // A long stream holds the only sequence.
    const holder = client.messages.stream({
      model,
      max_tokens: 1800,
      messages: [{ role: 'user', content: 'x' }],
    });
    // Aborted below: its end is awaited, so the abort is no unhandled rejection.
    const held = holder.done().catch(() => undefined);
    await new Promise<void>((resolve) => holder.once('text', () => resolve()));
    const loaded = lmx.server.models.loaded(model)!;
    const queued = client.messages.create({
      model,
      max_tokens: 2,
      messages: [{ role: 'user', content: 'x' }],
    });
    await waitFor(() => loaded.admission.queued === 1);

    const refused = await postMessage(lmx, { model });
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });

    holder.abort();
    await held;
    expect((await queued).type).toBe('message');
    await postMessage(lmx, { model }, '/v1/messages/count_tokens');
    const metrics = await (await fetch(`${lmx.url}/metrics`)).text();
    expect(metrics).toMatch(
      /^lmx_requests_total\{route="\/v1\/messages",method="POST",status="200"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^lmx_requests_total\{route="\/v1\/messages",method="POST",status="429"\} 1/m);
    expect(metrics).toMatch(
      /^lmx_requests_total\{route="\/v1\/messages\/count_tokens",method="POST",status="200"\} 1/m,
    );
  });

  it('the per-address rate limit answers 429 rate_limit_error in Anthropic shape', async () => {
    lmx = await startTestServer({ rateLimit: { inferencePerMinute: 1, exemptLoopback: false } });
    await postMessage(lmx, { model: 'none' }, '/v1/messages/count_tokens');
    const limited = await postMessage(lmx, { model: 'none' });
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('draining: a new message is a 503 overloaded_error; past drainTimeoutMs a stream ends with an error event', async () => {
    lmx = await startTestServer({
      startupModels: [await testModelPath()],
      contextSize: 2048,
      drainTimeoutMs: 150,
    });
    const model = await modelId(lmx);
    const stream = clientOf(lmx).messages.stream({
      model,
      max_tokens: 1900,
      messages: [{ role: 'user', content: 'x' }],
    });
    let stopping: Promise<void> | undefined;
    let refused: Awaited<ReturnType<typeof postMessage>> | undefined;
    stream.on('text', () => {
      if (stopping) return;
      stopping = lmx!.server.stop();
      void postMessage(lmx!, { model }).then((answer) => (refused = answer));
    });
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
    expect(String((error as Error).message)).toMatch(/shutting down/);
    await stopping;
    expect(refused?.status).toBe(503);
    expect(refused?.body).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    lmx = undefined;
  });
});
