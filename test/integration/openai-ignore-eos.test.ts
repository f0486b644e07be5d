import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel, storiesModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectStoppedAtMaxTokens } from '../helpers/tokens.ts';

// stories260K was trained without EOS and never emits it (below 1e-7 after any token), and the default
// generated models suppress their end-of-generation tokens. This generated model does the opposite: it
// ends every answer on its first token with EOS, so the only way to a long answer is banning EOS and EOT.
let lmx: TestServer;
let model: string;

beforeAll(async () => {
  const file = await ensureGeneratedModel('tiny', { endOfGeneration: 'favoured' });
  lmx = await startTestServer({ startupModels: [file] });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

const maxTokens = 400;
// Spread in, not written out: the SDK does not type this llama.cpp / vLLM extension.
const ignoringEos = { ignore_eos: true };
const chatRequest = () => ({
  model,
  messages: [{ role: 'user' as const, content: 'Tell me a story' }],
  max_tokens: maxTokens,
  temperature: 0,
});
const completionRequest = () => ({
  model,
  prompt: 'Once upon a time',
  max_tokens: maxTokens,
  temperature: 0,
});

describe('ignore_eos', () => {
  it('completions: the model stops on EOS; with ignore_eos it runs to max_tokens', async () => {
    const ended = await lmx.openai.completions.create(completionRequest());
    expect(ended.choices[0]!.finish_reason).toBe('stop');
    expect(ended.usage!.completion_tokens).toBeLessThan(maxTokens);

    for (const off of [{ ignore_eos: false }, { ignore_eos: null }]) {
      const unchanged = await lmx.openai.completions.create({ ...completionRequest(), ...off });
      expect(unchanged.choices[0]!.finish_reason).toBe('stop');
      expect(unchanged.usage!.completion_tokens).toBe(ended.usage!.completion_tokens);
    }

    const full = await lmx.openai.completions.create({ ...completionRequest(), ...ignoringEos });
    expect(full.choices[0]!.finish_reason).toBe('length');
    expectStoppedAtMaxTokens(full.usage!.completion_tokens, maxTokens);
    expect(full.choices[0]!.text.length).toBeGreaterThan(0);
  });

  it('chat completions, streamed: the model stops on EOS; with ignore_eos it runs to max_tokens', async () => {
    const streamed = async (extra: Record<string, unknown>) => {
      const stream = await lmx.openai.chat.completions.create({
        ...chatRequest(),
        ...extra,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let finishReason: string | null | undefined;
      let completionTokens: number | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
        completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
      }
      return { text, finishReason, completionTokens };
    };

    const ended = await streamed({});
    expect(ended.finishReason).toBe('stop');
    expect(ended.completionTokens).toBeLessThan(maxTokens);

    const full = await streamed(ignoringEos);
    expect(full.finishReason).toBe('length');
    expectStoppedAtMaxTokens(full.completionTokens, maxTokens);
    expect(full.text.length).toBeGreaterThan(0);
  });

  it('chat completions, whole: with ignore_eos it runs to max_tokens', async () => {
    const full = await lmx.openai.chat.completions.create({ ...chatRequest(), ...ignoringEos });
    expect(full.choices[0]!.finish_reason).toBe('length');
    expectStoppedAtMaxTokens(full.usage!.completion_tokens, maxTokens);
  });

  it('a stop string still ends a generation that ignores EOS', async () => {
    const full = await lmx.openai.completions.create({ ...completionRequest(), ...ignoringEos });
    // A whole word from the middle of the answer, with its leading space.
    const stop = [...full.choices[0]!.text.matchAll(/ [A-Za-z]{3,}\b/g)].find((m) => m.index >= 20)?.[0];
    expect(stop).toBeDefined();
    const stopped = await lmx.openai.completions.create({ ...completionRequest(), ...ignoringEos, stop });
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(stopped.usage!.completion_tokens).toBeLessThan(maxTokens);
    expect(full.choices[0]!.text.startsWith(stopped.choices[0]!.text)).toBe(true);
    expect(stopped.choices[0]!.text).not.toContain(stop);
  });

  it('400 invalid_value naming ignore_eos when it is not a boolean, on both routes', async () => {
    for (const [path, body] of [
      ['/v1/chat/completions', chatRequest()],
      ['/v1/completions', completionRequest()],
    ] as const) {
      const response = await fetch(`${lmx.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, ignore_eos: 'yes' }),
      });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: Record<string, unknown> };
      expect(error).toMatchObject({
        type: 'invalid_request_error',
        param: 'ignore_eos',
        code: 'invalid_value',
      });
    }
  });
});

describe.runIf(storiesModelPath())('ignore_eos on a real model (stories260K)', () => {
  it('is accepted and the answer runs to max_tokens', async () => {
    const stories = await startTestServer({ startupModels: [storiesModelPath()!] });
    try {
      const completion = await stories.openai.completions.create({
        model: 'stories260K',
        prompt: 'Once upon a time',
        max_tokens: 40,
        temperature: 0,
        ...ignoringEos,
      });
      expect(completion.choices[0]!.finish_reason).toBe('length');
      expectStoppedAtMaxTokens(completion.usage!.completion_tokens, 40);
    } finally {
      await stories.stop();
    }
  });
});
