import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Issue 13, findings 4 and 5: a prompt the context cannot hold is refused up front with OpenAI's
// 400 context_length_exceeded, never a 500 after node-llama-cpp tried (for minutes) to fit it.
let lmx: TestServer;
let model: string;

beforeAll(async () => {
  lmx = await startTestServer({
    startupModels: [await ensureGeneratedModel('tiny', { chatTemplate: true })],
    contextSize: 512,
  });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

interface Answer {
  error: { message: string; type: string; code: string | null; param: string | null };
  usage: { prompt_tokens: number };
}

async function post(path: string, body: unknown) {
  const response = await fetch(`${lmx.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

function expectContextLengthExceeded(
  answer: { status: number; body: Answer },
  param: string,
  atLeast: boolean,
) {
  expect(answer.status).toBe(400);
  expect(answer.body.error).toMatchObject({
    type: 'invalid_request_error',
    code: 'context_length_exceeded',
    param,
  });
  const message = answer.body.error.message;
  expect(message).toMatch(/maximum context length is 512 tokens/);
  expect(message.includes('at least')).toBe(atLeast);
}

/** Words the tokenizer cannot merge much: about one token per few characters. */
const text = (bytes: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes);

/** A conversation of `count` turns of `bytes` each, user and assistant in turn. */
const history = (count: number, bytes: number) =>
  Array.from({ length: count }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: text(bytes),
  }));

describe('a prompt over the context', () => {
  it('four 3 KB messages: 400 context_length_exceeded, not 500 (finding 5)', async () => {
    expectContextLengthExceeded(
      await post('/v1/chat/completions', { model, messages: history(4, 3000), max_tokens: 4 }),
      'messages',
      true,
    );
  });

  it('a long history (64 messages of 10 KB) is refused at once, not fitted turn by turn (finding 4)', async () => {
    expectContextLengthExceeded(
      await post('/v1/chat/completions', { model, messages: history(64, 10_000), max_tokens: 4 }),
      'messages',
      true,
    );
    // The server is fine afterwards.
    expect((await fetch(`${lmx.url}/healthz`)).status).toBe(200);
  });

  it('a prompt just over the context: the exact count, in the message', async () => {
    // Short enough that the size bound cannot decide it: the prompt is tokenized as the generation would.
    const answer = await post('/v1/chat/completions', {
      model,
      messages: [{ role: 'user', content: 'lorem '.repeat(600) }],
      max_tokens: 4,
    });
    expectContextLengthExceeded(answer, 'messages', false);
    const tokens = Number(/resulted in (\d+) tokens/.exec(answer.body.error.message)?.[1]);
    expect(tokens).toBeGreaterThanOrEqual(511);
  });

  it('a 3.9 MB legacy completion prompt: 400, not silently cut to its end', async () => {
    expectContextLengthExceeded(
      await post('/v1/completions', { model, prompt: text(3_900_000), max_tokens: 4 }),
      'prompt',
      true,
    );
  });

  it('a completion prompt just over the context is refused with its exact count', async () => {
    expectContextLengthExceeded(
      await post('/v1/completions', { model, prompt: 'lorem '.repeat(600), max_tokens: 4 }),
      'prompt',
      false,
    );
  });

  it('a prompt that fits is answered', async () => {
    const answer = await post('/v1/chat/completions', {
      model,
      messages: [{ role: 'user', content: 'lorem '.repeat(40) }],
      max_tokens: 4,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.usage.prompt_tokens).toBeGreaterThan(40);
  });
});
