import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectStoppedAtMaxTokens } from '../helpers/tokens.ts';

let lmx: TestServer;
let model: string;

beforeAll(async () => {
  lmx = await startTestServer({ startupModels: [await testModelPath()], parallel: 4 });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

const loaded = () => lmx.server.models.loaded(model)!;

/** Polls (bounded) until every sequence of the model is free again. */
async function allSequencesFree(timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (loaded().busySequences === 0 && loaded().inflight === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`sequences still held: ${loaded().busySequences}`);
}

/** lmx_requests_total of chat completions answered 499 (the client closed the request). */
async function abandonedRequests(): Promise<number> {
  const metrics = await (await fetch(`${lmx.url}/metrics`)).text();
  const line =
    /^lmx_requests_total\{route="\/v1\/chat\/completions",method="POST",status="499"\} (\d+)$/m.exec(metrics);
  return Number(line?.[1] ?? 0);
}

async function startThenAbortStream(): Promise<void> {
  const controller = new AbortController();
  const stream = await lmx.openai.chat.completions.create(
    { model, messages: [{ role: 'user', content: 'Go on forever' }], max_tokens: 4000, stream: true },
    { signal: controller.signal },
  );
  let contentChunks = 0;
  try {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) contentChunks++;
      if (contentChunks === 2) controller.abort();
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  expect(controller.signal.aborted).toBe(true);
}

describe('client disconnects', () => {
  it('abort the generation at once and free its sequence', async () => {
    const before = loaded().generatedTokens;
    await startThenAbortStream();
    await allSequencesFree();
    // 4000 tokens were asked for (the 512-token context alone would allow ~490): it stopped right after the abort.
    const generated = loaded().generatedTokens - before;
    expect(generated).toBeGreaterThanOrEqual(2); // the two content chunks read before the abort
    expect(generated).toBeLessThan(40);
  });

  it('leak no sequence: after 50 aborted streams the next 4 concurrent requests all run', async () => {
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 5 }, () => startThenAbortStream()));
    }
    await allSequencesFree();
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        lmx.openai.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'x' }],
          max_tokens: 3,
        }),
      ),
    );
    expect(results).toHaveLength(4);
    for (const result of results) expectStoppedAtMaxTokens(result.usage!.completion_tokens, 3);
  });

  it('a non-streaming request whose client leaves also frees its sequence', async () => {
    const abandonedBefore = await abandonedRequests();
    const before = loaded().generatedTokens;
    const controller = new AbortController();
    const pending = lmx.openai.chat.completions
      .create(
        { model, messages: [{ role: 'user', content: 'x' }], max_tokens: 4000 },
        { signal: controller.signal },
      )
      .catch((error: unknown) => error);
    // Wait (bounded) until the generation is producing tokens, then leave.
    const deadline = Date.now() + 10_000;
    while (loaded().generatedTokens === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(loaded().busySequences).toBe(1);
    controller.abort();
    await pending;
    await allSequencesFree();
    expect(loaded().generatedTokens - before).toBeGreaterThan(0);
    expect(loaded().generatedTokens - before).toBeLessThan(100);
    // The abandoned request is counted as 499 (client closed) and leaves nothing for a drain to wait on.
    expect(await abandonedRequests()).toBe(abandonedBefore + 1);
    expect(lmx.server.drain.openResponses).toBe(0);
  });
});
