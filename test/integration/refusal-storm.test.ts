import { Writable } from 'node:stream';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Issue 13, finding 9: a storm of refusals (clients retrying at once) must stay cheap: one short line per
// refusal without a stack trace, sampled past a rate, and /healthz answered throughout.
const lines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

let lmx: TestServer;
let model: string;

beforeAll(async () => {
  lmx = await startTestServer(
    { startupModels: [await testModelPath()], parallel: 1, contextSize: 2048, queue: { maxQueued: 0 } },
    { logger: pino({ level: 'info' }, capture) },
  );
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

/** A long stream on the model's only sequence, so every other request is refused (queue_full). */
async function holdTheOnlySlot() {
  const controller = new AbortController();
  const openai = new OpenAI({ baseURL: `${lmx.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const stream = await openai.chat.completions.create(
    {
      model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 2000,
      stream: true,
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming,
    { signal: controller.signal },
  );
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  return async () => {
    controller.abort();
    await iterator.return?.();
  };
}

describe('a refusal storm', () => {
  it('logs each refusal short and without a stack, samples them, and keeps /healthz answering', async () => {
    const release = await holdTheOnlySlot();
    const linesBefore = lines.length;
    const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 2 });
    let refused = 0;
    let stormOver = false;
    // 32 clients, each retrying at once, 40 times: bounded in count.
    const clients = Array.from({ length: 32 }, async () => {
      for (let i = 0; i < 40; i++) {
        const response = await fetch(`${lmx.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await response.arrayBuffer();
        // 429 queue_full; 503 if memory pressure on a busy shared machine sheds it first: both refusals.
        if (response.status === 429 || response.status === 503) refused++;
      }
    });
    const health: number[] = [];
    const prober = (async () => {
      while (!stormOver && health.length < 10_000) {
        const response = await fetch(`${lmx.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
        health.push(response.status);
        await response.arrayBuffer();
      }
    })();
    await Promise.all(clients);
    stormOver = true;
    await prober;
    await release();

    expect(refused).toBeGreaterThan(500);
    expect(health.length).toBeGreaterThan(0);
    expect(health.every((status) => status === 200)).toBe(true);

    // The count of refusals not logged one by one arrives within a second of the last one.
    const deadline = Date.now() + 5000;
    const storm = () => lines.slice(linesBefore).map((line) => JSON.parse(line) as Record<string, unknown>);
    const accounted = () =>
      storm().reduce(
        (sum, line) =>
          sum +
          (line.msg === 'request refused' ? 1 : 0) +
          (typeof line.unlogged === 'number' ? line.unlogged : 0),
        0,
      );
    while (accounted() < refused && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const stormLines = lines.slice(linesBefore);
    expect(stormLines.some((line) => line.includes('"stack"'))).toBe(false);
    // Every refusal is accounted for, most of them in a count rather than a line of their own.
    expect(accounted()).toBe(refused);
    const refusalLines = storm().filter((line) => line.msg === 'request refused').length;
    expect(refusalLines).toBeLessThan(refused / 4);
    const bytes = stormLines.reduce((sum, line) => sum + line.length + 1, 0);
    expect(bytes / refused).toBeLessThan(200);
  }, 120_000);
});
