// /v1/responses goes through the same admission, drain, metrics and store bounds as chat completions:
// each on a server of its own, configured for the case.
import { rm } from 'node:fs/promises';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.ts';

let lmx: TestServer | undefined;
afterEach(async () => {
  await lmx?.stop();
  lmx = undefined;
});

async function serve(overrides: Record<string, unknown> = {}) {
  const file = await ensureGeneratedModel('tiny', { chatTemplate: true });
  const server = await startTestServer({ startupModels: [file], contextSize: 2048, ...overrides });
  lmx = server;
  return { server, model: (await server.openai.models.list()).data[0]!.id };
}

/** The stored bytes of a response: its object and its input items, as GET and input_items give them. */
async function storedBytes(server: TestServer, id: string): Promise<number> {
  const response = await (await fetch(`${server.url}/v1/responses/${id}`)).text();
  const items = (await (await fetch(`${server.url}/v1/responses/${id}/input_items?order=asc`)).json()) as {
    data: unknown[];
  };
  return Buffer.byteLength(response) + Buffer.byteLength(JSON.stringify(items.data));
}

const kept = async (server: TestServer, id: string) =>
  (await fetch(`${server.url}/v1/responses/${id}`)).status === 200;

describe('the Responses dialect under the server’s hardening', () => {
  it('answers 429 queue_timeout while the only sequence is busy (the SDK sees a RateLimitError)', async () => {
    const { server, model } = await serve({ parallel: 1, queue: { maxQueued: 4, timeoutMs: 200 } });
    const controller = new AbortController();
    const holder = await server.openai.responses.create(
      { model, input: 'x', max_output_tokens: 1800, stream: true },
      { signal: controller.signal },
    );
    const iterator = holder[Symbol.asyncIterator]();
    await iterator.next();
    const error = await server.openai.responses
      .create({ model, input: 'x', max_output_tokens: 2 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('queue_timeout');
    controller.abort();
    await iterator.return?.();
  });

  it('past drainTimeoutMs ends the stream with error and response.failed, and keeps nothing', async () => {
    // Asserts: the raw event stream ends with `error` then `response.failed` (status failed, the reason);
    // the SDK's responses.stream() helper rejects with the reason; the failed response is not stored.
    const dataDir = await makeDataDir();
    const { server, model } = await serve({ drainTimeoutMs: 150, dataDir });
    const stream = await server.openai.responses.create({
      model,
      input: 'x',
      max_output_tokens: 1900,
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    let stopping: Promise<void> | undefined;
    for await (const event of stream) {
      events.push(event);
      if (!stopping && event.type === 'response.output_text.delta') stopping = server.stop();
    }
    await stopping;
    const [error, failed] = events.slice(-2);
    expect(error).toMatchObject({
      type: 'error',
      code: 'draining',
      message: expect.stringMatching(/shutting down/),
    });
    expect(failed).toMatchObject({
      type: 'response.failed',
      response: { status: 'failed', error: { code: 'draining' } },
    });

    const again = await serve({ drainTimeoutMs: 150, dataDir });
    const helper = again.server.openai.responses.stream({ model, input: 'x', max_output_tokens: 1900 });
    let stoppingAgain: Promise<void> | undefined;
    helper.on('response.output_text.delta', () => (stoppingAgain ??= again.server.stop()));
    const rejection = (await helper.finalResponse().catch((caught: unknown) => caught)) as {
      message?: string;
    };
    await stoppingAgain;
    expect(rejection.message).toMatch(/shutting down/);

    const reopened = await serve({ dataDir });
    const id = (failed as OpenAI.Responses.ResponseFailedEvent).response.id;
    expect(await kept(reopened.server, id)).toBe(false);
    await reopened.server.stop();
    lmx = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('counts its requests under its own route label', async () => {
    const { server, model } = await serve();
    await server.openai.responses.create({ model, input: 'x', max_output_tokens: 2 });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^lmx_requests_total\{route="\/v1\/responses",method="POST",status="200"\} 1$/m);
  });

  it('keeps at most storeMaxCount responses, the oldest out first', async () => {
    const { server, model } = await serve({ responses: { storeMaxCount: 2 } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await server.openai.responses.create({ model, input: 'x', max_output_tokens: 1 })).id);
    expect(await Promise.all(ids.map((id) => kept(server, id)))).toEqual([false, true, true]);
  });

  it('keeps at most storeMaxBytes, the oldest out first; a response bigger than the bound is not kept', async () => {
    // The bound is measured first on a server with room, then set to hold two such responses, not three.
    const probe = await serve();
    const first = await probe.server.openai.responses.create({
      model: probe.model,
      input: 'x',
      max_output_tokens: 1,
    });
    const size = await storedBytes(probe.server, first.id);
    await probe.server.stop();
    const { server, model } = await serve({ responses: { storeMaxBytes: Math.floor(size * 2.5) } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await server.openai.responses.create({ model, input: 'x', max_output_tokens: 1 })).id);
    expect(await Promise.all(ids.map((id) => kept(server, id)))).toEqual([false, true, true]);
    // Bigger than the store through its metadata (a long prompt would not fit the model's context).
    const metadata = Object.fromEntries(
      Array.from({ length: Math.ceil((size * 3) / 500) }, (_, i) => [`key${i}`, 'y'.repeat(500)]),
    );
    const big = await server.openai.responses.create({ model, input: 'x', max_output_tokens: 1, metadata });
    expect(await kept(server, big.id)).toBe(false);
    expect(await kept(server, ids[2]!)).toBe(true);
  });

  it("truncation 'auto' drops the oldest turns to fit the context; 'disabled' refuses", async () => {
    // Asserts: a conversation longer than the context is answered from its latest turns with
    // truncation auto (its prompt within the context), refused as context_length_exceeded without it.
    const { server, model } = await serve({ contextSize: 256 });
    const turn = (i: number) => `Turn ${i}: the quick brown fox jumps over the lazy dog again and again.`;
    const input = Array.from({ length: 16 }, (_, i) => ({
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: turn(i),
    }));
    const refused = await server.openai.responses
      .create({ model, input, max_output_tokens: 2 })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    const answered = await server.openai.responses.create({
      model,
      input,
      max_output_tokens: 2,
      truncation: 'auto',
    });
    expect(answered.usage!.input_tokens).toBeLessThan(256);
    expect(answered.usage!.input_tokens).toBeGreaterThan(0);
    // What is kept is the whole input, as it was sent.
    const items = await server.openai.responses.inputItems.list(answered.id, { limit: 100 });
    expect(items.data).toHaveLength(16);
  });
});
