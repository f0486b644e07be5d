// Reasoning models, through the official SDK against a real server and a random-weight model whose GGUF
// carries a thinking chat template (ChatML with Qwen3's `<think>…</think>` thought blocks, both markers
// control tokens): node-llama-cpp reads the thought segment out of the template, and LMX returns the
// thoughts apart from the answer. Random weights never think on their own: logit_bias forces the shape at
// temperature 0 (`<think>` +100 opens a thought at once; `</think>` and a word piece just below it, with a
// frequency penalty, make this seeded model write in the thought, close it and answer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THINKING_CHATML_TEMPLATE, THINKING_TOKENS } from '../fixtures/gguf/vocabulary.ts';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { promptTokensWithReasoning, streamedTexts, type Reasoned } from '../helpers/reasoning.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let lmx: TestServer;
let model: string;

beforeAll(async () => {
  const file = await ensureGeneratedModel('tiny', {
    chatTemplate: THINKING_CHATML_TEMPLATE,
    controlTokens: THINKING_TOKENS,
  });
  lmx = await startTestServer({ startupModels: [file], parallel: 2, contextSize: 1024 });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

// Control tokens follow ChatML's in the generated vocabulary: <think> 261, </think> 262; 300 is a word piece.
const think = 261;
const endThink = 262;
const thinkThenAnswer = {
  messages: [{ role: 'user' as const, content: 'Hi' }],
  max_tokens: 12,
  temperature: 0,
  logit_bias: { [think]: 100, [endThink]: 98, 300: 97 },
  frequency_penalty: 2,
};

describe('reasoning', () => {
  it('returns the thought apart from the answer, with its tokens counted, streamed and not', async () => {
    // Asserts: message.reasoning_content holds the thought and message.content the answer after it; usage
    // counts the thought's tokens (fewer than all); logprobs list the answer's tokens only; the streamed
    // delta.reasoning_content / delta.content pieces add up to the same two texts.
    const completion = await lmx.openai.chat.completions.create({
      model,
      ...thinkThenAnswer,
      logprobs: true,
    });
    const message = completion.choices[0]!.message as (typeof completion.choices)[0]['message'] & Reasoned;
    expect(message.reasoning_content).toBeTruthy();
    expect(message.content).toBeTruthy();
    const reasoningTokens = completion.usage!.completion_tokens_details!.reasoning_tokens!;
    expect(reasoningTokens).toBeGreaterThan(0);
    expect(reasoningTokens).toBeLessThan(completion.usage!.completion_tokens);
    const answerTokens = completion.choices[0]!.logprobs!.content!.map((entry) => entry.token);
    expect(answerTokens.join('')).toBe(message.content);

    const stream = await lmx.openai.chat.completions.create({ model, ...thinkThenAnswer, stream: true });
    const { reasoning, content } = await streamedTexts(stream);
    expect(reasoning).toBe(message.reasoning_content);
    expect(content).toBe(message.content);
  });

  it("reasoning_effort 'none' turns thoughts off even when the model opens one", async () => {
    // Asserts: with a zero thought budget the same forced reply has no reasoning_content and no reasoning
    // tokens, and what the model writes is the answer.
    const completion = await lmx.openai.chat.completions.create({
      model,
      ...thinkThenAnswer,
      reasoning_effort: 'none',
    });
    const message = completion.choices[0]!.message as (typeof completion.choices)[0]['message'] & Reasoned;
    expect(message.reasoning_content).toBeUndefined();
    expect(completion.usage!.completion_tokens_details!.reasoning_tokens).toBe(0);
    expect(message.content).toBeTruthy();
  });

  it('sends reasoning_content of an assistant turn back into the template', async () => {
    // Asserts: a returned message with its reasoning_content, pushed back as turn two, is taken, and the
    // thought is written into the prompt (the template renders it): the prompt is longer by its tokens.
    const promptTokens = (reasoning?: string) => promptTokensWithReasoning(lmx.openai, model, reasoning);
    const without = await promptTokens();
    expect(await promptTokens('the cat and the dog')).toBeGreaterThan(without + 3);
  });
});
