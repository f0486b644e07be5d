import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectStoppedAtMaxTokens } from '../helpers/tokens.ts';

let lmx: TestServer;
let model: string;

beforeAll(async () => {
  lmx = await startTestServer({ startupModels: [await testModelPath()] });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${lmx.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { error: Record<string, unknown> } };
}

function expectOpenAiError(body: { error: Record<string, unknown> }, type: string, param?: string | null) {
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.type).toBe(type);
  expect(typeof body.error.message).toBe('string');
  if (param !== undefined) expect(body.error.param).toBe(param);
}

// Bodies are built when a test runs: the model id is known only after the server started.
const chat = (extra: Record<string, unknown>) => () => ({
  model,
  messages: [{ role: 'user', content: 'hi' }],
  max_tokens: 2,
  ...extra,
});

describe('400 invalid_request_error, naming the parameter', () => {
  const cases: [string, () => Record<string, unknown>, string][] = [
    ["n above the model's parallel sequences", chat({ n: 64 }), 'n'],
    ['top_logprobs above 20', chat({ logprobs: true, top_logprobs: 21 }), 'top_logprobs'],
    ['top_logprobs without logprobs', chat({ top_logprobs: 2 }), 'top_logprobs'],
    ['logprobs as a count on chat', chat({ logprobs: 2 }), 'logprobs'],
    [
      'tool_choice naming no declared tool',
      chat({ tool_choice: { type: 'function', function: { name: 'f' } } }),
      'tool_choice',
    ],
    [
      'response_format of an unknown type',
      chat({ response_format: { type: 'yaml' } }),
      'response_format.type',
    ],
    ['an unknown parameter', chat({ frobnicate: true }), 'frobnicate'],
    ['wrong type', chat({ temperature: 'hot' }), 'temperature'],
    ['out of range', chat({ temperature: 3 }), 'temperature'],
    ['unknown role', chat({ messages: [{ role: 'robot', content: 'x' }] }), 'messages[0].role'],
    ['empty messages', chat({ messages: [] }), 'messages'],
    ['message without content', chat({ messages: [{ role: 'user' }] }), 'messages[0].content'],
    ['missing model', () => ({ messages: [{ role: 'user', content: 'x' }] }), 'model'],
    ['max_tokens above the limit', chat({ max_tokens: 32_769 }), 'max_tokens'],
    ['max_tokens zero', chat({ max_tokens: 0 }), 'max_tokens'],
    ['stop of the wrong type', chat({ stop: 5 }), 'stop'],
  ];
  for (const [name, body, param] of cases) {
    it(name, async () => {
      const result = await post('/v1/chat/completions', body());
      expect(result.status).toBe(400);
      expectOpenAiError(result.body, 'invalid_request_error', param);
    });
  }

  it('too many messages', async () => {
    const messages = Array.from({ length: 257 }, () => ({ role: 'user', content: 'x' }));
    const result = await post('/v1/chat/completions', chat({ messages })());
    expect(result.status).toBe(400);
    expectOpenAiError(result.body, 'invalid_request_error', 'messages');
  });

  it('completions: several prompts, echo, suffix', async () => {
    for (const extra of [{ prompt: ['a', 'b'] }, { prompt: 'a', echo: true }, { prompt: 'a', suffix: 'z' }]) {
      const result = await post('/v1/completions', { model, max_tokens: 2, ...extra });
      expect(result.status).toBe(400);
      expectOpenAiError(result.body, 'invalid_request_error');
    }
  });

  it('a body that is not JSON', async () => {
    const result = await post('/v1/chat/completions', '{"model": ');
    expect(result.status).toBe(400);
    expectOpenAiError(result.body, 'invalid_request_error');
    expect(result.body.error.code).toBe('invalid_json');
  });

  it('is raised by the official SDK as BadRequestError', async () => {
    const error = await lmx.openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'x' }], n: 64 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
  });
});

describe('other errors', () => {
  it('404 model_not_found for a model that is not there', async () => {
    const result = await post('/v1/chat/completions', chat({ model: 'nope' })());
    expect(result.status).toBe(404);
    expectOpenAiError(result.body, 'invalid_request_error', 'model');
    expect(result.body.error.code).toBe('model_not_found');
  });

  it('413 for an oversized body', async () => {
    const huge = 'x'.repeat(4 * 1024 * 1024 + 10);
    const result = await post(
      '/v1/chat/completions',
      chat({ messages: [{ role: 'user', content: huge }] })(),
    );
    expect(result.status).toBe(413);
    expectOpenAiError(result.body, 'invalid_request_error');
  });

  it('404 in OpenAI shape for an unknown route', async () => {
    const response = await fetch(`${lmx.url}/v1/nothing-here`);
    expect(response.status).toBe(404);
    expectOpenAiError((await response.json()) as { error: Record<string, unknown> }, 'invalid_request_error');
  });

  it('the server still serves after all of the above', async () => {
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 2,
      temperature: 0,
    });
    expectStoppedAtMaxTokens(completion.usage!.completion_tokens, 2);
  });
});
