// logprobs / top_logprobs on /v1/chat/completions and `logprobs: k` on /v1/completions, through the official
// SDK against a real server and a random-weight model with a ChatML template. Temperature 0 (greedy) makes the
// reported distribution the model's whole one, so the sampled token must be its most likely. Non-ASCII byte
// tokens are banned so each token is whole characters and the tokens concatenate to the text.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let lmx: TestServer;
let model: string;

beforeAll(async () => {
  const file = await ensureGeneratedModel('tiny', { chatTemplate: true });
  lmx = await startTestServer({ startupModels: [file], parallel: 2, contextSize: 1024 });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

// The generated vocabulary: <unk> <s> </s>, then the 256 byte tokens (id 3 + byte).
const nonAsciiBytes = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [String(3 + 128 + i), -100]));

const chatRequest = {
  messages: [{ role: 'user' as const, content: 'Tell me a story' }],
  max_tokens: 12,
  temperature: 0,
  logprobs: true,
  top_logprobs: 5,
  logit_bias: nonAsciiBytes,
  ignore_eos: true,
};

const utf8 = (text: string) => [...Buffer.from(text, 'utf8')];

function expectRealDistribution(entry: OpenAI.ChatCompletionTokenLogprob, topCount: number) {
  expect(entry.logprob).toBeLessThanOrEqual(0);
  expect(entry.bytes).toEqual(utf8(entry.token));
  expect(entry.top_logprobs).toHaveLength(topCount);
  const tops = entry.top_logprobs.map((top) => top.logprob);
  expect(tops).toEqual([...tops].sort((a, b) => b - a));
  // Probabilities of distinct tokens of one distribution: at most 1 together.
  expect(tops.reduce((sum, logprob) => sum + Math.exp(logprob), 0)).toBeLessThanOrEqual(1 + 1e-5);
  for (const top of entry.top_logprobs) expect(top.bytes).toEqual(utf8(top.token));
  // Greedy: the sampled token is the most likely one.
  expect(entry.top_logprobs[0]!.token).toBe(entry.token);
  expect(entry.top_logprobs[0]!.logprob).toBeCloseTo(entry.logprob, 6);
}

describe('chat completions', () => {
  it('returns each answer token with its logprob, bytes and ordered top alternatives', async () => {
    // Asserts: OpenAI's choices[].logprobs.content shape; one entry per generated token; values of a real
    // distribution (≤ 0, ordered, exp-sum ≤ 1, greedy token first); the tokens concatenate to the content.
    const completion = await lmx.openai.chat.completions.create({
      model,
      ...chatRequest,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const choice = completion.choices[0]!;
    const content = choice.logprobs!.content!;
    expect(choice.logprobs!.refusal).toBeNull();
    expect(content).toHaveLength(completion.usage!.completion_tokens);
    for (const entry of content) expectRealDistribution(entry, 5);
    expect(content.map((entry) => entry.token).join('')).toBe(choice.message.content);
    // Random weights spread their probability: the greedy token is not certain.
    expect(content.some((entry) => entry.logprob < -0.01)).toBe(true);
  });

  it('streams the same logprobs with the content deltas', async () => {
    // Asserts: each content chunk carries the entries of its tokens; together they equal the whole answer's.
    const whole = await lmx.openai.chat.completions.create({
      model,
      ...chatRequest,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const stream = await lmx.openai.chat.completions.create({
      model,
      ...chatRequest,
      stream: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = '';
    const streamed: OpenAI.ChatCompletionTokenLogprob[] = [];
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      text += choice.delta.content ?? '';
      streamed.push(...(choice.logprobs?.content ?? []));
      if (choice.logprobs) expect(choice.delta.content).toBeTruthy();
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    const expected = whole.choices[0]!.logprobs!.content!;
    expect(streamed.map((entry) => entry.token)).toEqual(expected.map((entry) => entry.token));
    streamed.forEach((entry, i) => expect(entry.logprob).toBeCloseTo(expected[i]!.logprob, 5));
  });

  it('follows the distribution: a +100 logit bias makes its token certain', async () => {
    // Asserts: the values come from the sampler's distribution, not a constant.
    const favoured = 300;
    const completion = await lmx.openai.chat.completions.create({
      model,
      ...chatRequest,
      logit_bias: { ...nonAsciiBytes, [favoured]: 100 },
      max_tokens: 4,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const content = completion.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(4);
    for (const entry of content) {
      expect(entry.logprob).toBeGreaterThan(-1e-3);
      expect(entry.top_logprobs[1]!.logprob).toBeLessThan(-20);
    }
  });

  it('cuts the logprobs where a stop string cuts the text', async () => {
    // Asserts: only tokens that start in the returned text are listed.
    const whole = await lmx.openai.chat.completions.create({
      model,
      ...chatRequest,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const full = whole.choices[0]!.logprobs!.content!.map((entry) => entry.token);
    // A stop string made of the 4th token's text, where it first appears: the answer ends before it.
    const stop = full.slice(3).find((token) => token.trim() !== '')!;
    const cut = await lmx.openai.chat.completions.create({
      model,
      ...chatRequest,
      stop,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const text = cut.choices[0]!.message.content!;
    expect(text).toBe(whole.choices[0]!.message.content!.slice(0, full.join('').indexOf(stop)));
    const tokens = cut.choices[0]!.logprobs!.content!.map((entry) => entry.token);
    expect(tokens.length).toBeLessThan(full.length);
    expect(tokens.join('').startsWith(text)).toBe(true);
    expect(tokens.slice(0, -1).join('').length).toBeLessThan(text.length || 1);
  });

  it('answers logprobs: null when they are not asked for', async () => {
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: chatRequest.messages,
      max_tokens: 2,
    });
    expect(completion.choices[0]!.logprobs).toBeNull();
  });
});

describe('legacy completions', () => {
  const request = {
    prompt: 'Once upon a time',
    max_tokens: 10,
    temperature: 0,
    logprobs: 3,
    logit_bias: nonAsciiBytes,
    ignore_eos: true,
  } as const;

  it('returns tokens, token_logprobs, top_logprobs and text_offset, streamed and not', async () => {
    // Asserts: the legacy parallel lists, one entry per token; top_logprobs maps 3 alternatives whose best is
    // the sampled token (greedy); offsets are where each token starts in the text; streaming agrees.
    const completion = await lmx.openai.completions.create({ model, ...request });
    const choice = completion.choices[0]!;
    const logprobs = choice.logprobs!;
    expect(logprobs.tokens).toHaveLength(completion.usage!.completion_tokens);
    expect(logprobs.tokens!.join('')).toBe(choice.text);
    logprobs.tokens!.forEach((token, i) => {
      const logprob = logprobs.token_logprobs![i]!;
      expect(logprob).toBeLessThanOrEqual(0);
      const top = logprobs.top_logprobs![i]!;
      expect(Object.keys(top)).toHaveLength(3);
      expect(Math.max(...Object.values(top))).toBeCloseTo(logprob, 6);
      expect(top[token]).toBeCloseTo(logprob, 6);
      expect(logprobs.text_offset![i]).toBe(logprobs.tokens!.slice(0, i).join('').length);
    });

    const stream = await lmx.openai.completions.create({ model, ...request, stream: true });
    const streamed: string[] = [];
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      streamed.push(...(chunk.choices[0]?.logprobs?.tokens ?? []));
    }
    expect(text).toBe(choice.text);
    expect(streamed).toEqual(logprobs.tokens);
  });
});
