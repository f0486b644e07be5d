// `n` choices, on chat and legacy completions, through the official SDK against a real server: each choice
// runs on its own sequence of the model's one context, all at once, so node-llama-cpp decodes them in the same
// batches (it evaluates every sequence of a context that has tokens pending in one decode).
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let lmx: TestServer;
let model: string;

beforeAll(async () => {
  const file = await ensureGeneratedModel('tiny', { chatTemplate: true });
  lmx = await startTestServer({ startupModels: [file], parallel: 3, contextSize: 1024 });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

const busySequences = () => lmx.server.models.loaded(model)!.busySequences;

describe('n choices', () => {
  it('decodes the n choices of a chat request together, one sequence each', async () => {
    // Asserts: while the streamed choices run, the model's context holds 3 busy sequences at once (choices run
    // one after the other would hold 1); each choice streams under its own index and ends with its own reason.
    const stream = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      n: 3,
      max_tokens: 48,
      ignore_eos: true,
      seed: 11,
      stream: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    const texts = ['', '', ''];
    const finished: (string | null)[] = [null, null, null];
    let mostBusy = 0;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? '';
        if (choice.finish_reason) finished[choice.index] = choice.finish_reason;
      }
      mostBusy = Math.max(mostBusy, busySequences());
    }
    expect(mostBusy).toBe(3);
    expect(finished).toEqual(['length', 'length', 'length']);
    expect(new Set(texts).size).toBe(3);
  });

  it('legacy completions take n too, streamed and not', async () => {
    // Asserts: n: 3 on /v1/completions gives choices 0..2 with different seeded texts; usage counts all
    // three; the streamed texts per index are the same as the whole ones.
    const request = { model, prompt: 'Once upon a time', n: 3, max_tokens: 8, ignore_eos: true, seed: 4 };
    const completion = await lmx.openai.completions.create(
      request as OpenAI.CompletionCreateParamsNonStreaming,
    );
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(completion.choices.map((c) => c.text)).size).toBe(3);
    expect(completion.usage!.completion_tokens).toBe(24);

    const stream = await lmx.openai.completions.create({
      ...request,
      stream: true,
    } as OpenAI.CompletionCreateParamsStreaming);
    const texts = ['', '', ''];
    for await (const chunk of stream) for (const choice of chunk.choices) texts[choice.index] += choice.text;
    expect(texts).toEqual(completion.choices.map((c) => c.text));
  });

  it('refuses n above the sequences the model decodes at once', async () => {
    // Asserts: n beyond the model's parallel is a 400 naming n, on legacy completions as on chat.
    const error = (await lmx.openai.completions
      .create({ model, prompt: 'x', n: 4, max_tokens: 1 })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe('n');
  });
});
