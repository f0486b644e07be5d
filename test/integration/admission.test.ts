import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

let lmx: TestServer | undefined;
afterEach(async () => {
  await lmx?.stop();
  lmx = undefined;
});

const modelId = async (server: TestServer) => (await server.openai.models.list()).data[0]!.id;

/** Starts a long stream that holds the model's only sequence; resolves once it is generating. */
async function holdTheOnlySlot(server: TestServer, model: string) {
  const controller = new AbortController();
  const stream = await server.openai.chat.completions.create(
    { model, messages: [{ role: 'user', content: 'x' }], max_tokens: 1800, stream: true },
    { signal: controller.signal },
  );
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  return {
    release: async () => {
      controller.abort();
      await iterator.return?.();
    },
  };
}

async function rawChat(server: TestServer, model: string, signal?: AbortSignal) {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }),
    signal,
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as { error?: Record<string, unknown> },
  };
}

describe('admission control', () => {
  it('queues up to queue.maxQueued, then answers 429 queue_full with Retry-After', async () => {
    lmx = await startTestServer({
      startupModels: [await testModelPath()],
      parallel: 1,
      contextSize: 2048,
      queue: { maxQueued: 1, timeoutMs: 30_000 },
    });
    const model = await modelId(lmx);
    const holder = await holdTheOnlySlot(lmx, model);
    const loaded = lmx.server.models.loaded(model)!;
    const queued = rawChat(lmx, model);
    await waitFor(() => loaded.admission.queued === 1);

    const refused = await rawChat(lmx, model);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'queue_full' });

    await holder.release();
    expect((await queued).status).toBe(200);
  });

  it('answers 429 queue_timeout when a request waits too long', async () => {
    lmx = await startTestServer({
      startupModels: [await testModelPath()],
      parallel: 1,
      contextSize: 2048,
      queue: { maxQueued: 4, timeoutMs: 200 },
    });
    const model = await modelId(lmx);
    const holder = await holdTheOnlySlot(lmx, model);
    const timedOut = await rawChat(lmx, model);
    expect(timedOut.status).toBe(429);
    expect(Number(timedOut.retryAfter)).toBeGreaterThan(0);
    expect(timedOut.body.error).toMatchObject({ type: 'rate_limit_error', code: 'queue_timeout' });
    // The official SDK sees it as a RateLimitError.
    const error = await lmx.openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 2 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    await holder.release();
  });

  it('a queued client that disconnects leaves the queue at once', async () => {
    lmx = await startTestServer({
      startupModels: [await testModelPath()],
      parallel: 1,
      contextSize: 2048,
      queue: { maxQueued: 4, timeoutMs: 30_000 },
    });
    const model = await modelId(lmx);
    const holder = await holdTheOnlySlot(lmx, model);
    const loaded = lmx.server.models.loaded(model)!;
    const controller = new AbortController();
    const leaving = rawChat(lmx, model, controller.signal).catch(() => 'aborted');
    await waitFor(() => loaded.admission.queued === 1);
    controller.abort();
    expect(await leaving).toBe('aborted');
    // Gone from the queue while the slot is still held: it did not wait for its turn to notice.
    await waitFor(() => loaded.admission.queued === 0, 2000);
    expect(loaded.admission.running).toBe(1);
    await holder.release();
  });

  it('runs at most `parallel` generations at once', async () => {
    lmx = await startTestServer({ startupModels: [await testModelPath()], parallel: 2 });
    const model = await modelId(lmx);
    const loaded = lmx.server.models.loaded(model)!;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, loaded.admission.running)), 1);
    const results = await Promise.all(Array.from({ length: 5 }, () => rawChat(lmx!, model)));
    clearInterval(sampler);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200, 200, 200]);
    expect(peak).toBeLessThanOrEqual(2);
  });
});

describe('inference timeout', () => {
  it('stops a generation that runs too long; the stream ends with finish_reason length', async () => {
    lmx = await startTestServer({
      startupModels: [await testModelPath()],
      contextSize: 2048,
      inference: { timeoutMs: 100 },
    });
    const model = await modelId(lmx);
    const stream = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 1900,
      stream: true,
      stream_options: { include_usage: true },
    });
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(finish).toBe('length');
    expect(usage!.completion_tokens).toBeLessThan(1900);
  });

  it('a timeout that passes before the first token ends the stream the same way, not with an error', async () => {
    // 1 ms: the deadline passes while the request is still being set up, before node-llama-cpp generates.
    lmx = await startTestServer({ startupModels: [await testModelPath()], inference: { timeoutMs: 1 } });
    const model = await modelId(lmx);
    for (let attempt = 0; attempt < 3; attempt++) {
      const stream = await lmx.openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: `x ${attempt}` }],
        max_tokens: 64,
        stream: true,
        stream_options: { include_usage: true },
      });
      let finish: string | null | undefined;
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      expect(finish).toBe('length');
      expect(usage!.completion_tokens).toBeLessThan(64);
    }
  });
});
