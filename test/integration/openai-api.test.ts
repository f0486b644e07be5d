import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storiesModelPath, testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectStoppedAtMaxTokens } from '../helpers/tokens.ts';

let lmx: TestServer;
let model: string;

beforeAll(async () => {
  const file = await testModelPath();
  lmx = await startTestServer({ startupModels: [file], parallel: 4 });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

const user = (content: string) => [{ role: 'user' as const, content }];

describe('models', () => {
  it('lists the loaded model and retrieves it by id', async () => {
    const list = await lmx.openai.models.list();
    expect(list.data.map((entry) => entry.id)).toEqual([model]);
    const one = await lmx.openai.models.retrieve(model);
    expect(one).toMatchObject({ id: model, object: 'model', owned_by: 'lmx' });
  });

  it('answers 404 model_not_found for an unknown model', async () => {
    const error = await lmx.openai.models.retrieve('no-such-model').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });
});

describe('chat completions', () => {
  it('answers a non-streaming request with message, finish_reason and usage', async () => {
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: user('Hello there'),
      max_tokens: 8,
      temperature: 0,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]!.message.role).toBe('assistant');
    expect(typeof completion.choices[0]!.message.content).toBe('string');
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expectStoppedAtMaxTokens(completion.usage!.completion_tokens, 8);
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage!.total_tokens).toBe(
      completion.usage!.prompt_tokens + completion.usage!.completion_tokens,
    );
  });

  it('honours max_completion_tokens', async () => {
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: user('Hello'),
      max_completion_tokens: 3,
      temperature: 0,
    });
    expectStoppedAtMaxTokens(completion.usage!.completion_tokens, 3);
  });

  it('streams OpenAI chunks: role first, content deltas, finish, usage, [DONE]', async () => {
    const stream = await lmx.openai.chat.completions.create({
      model,
      messages: user('Tell me a story'),
      max_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
    expect(finish!.choices[0]!.finish_reason).toBe('length');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expectStoppedAtMaxTokens(last.usage!.completion_tokens, 6);
    const streamed = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
    const whole = await lmx.openai.chat.completions.create({
      model,
      messages: user('Tell me a story'),
      max_tokens: 6,
      temperature: 0,
    });
    expect(streamed).toBe(whole.choices[0]!.message.content);
  });

  it('ends the raw SSE body with data: [DONE]', async () => {
    const response = await fetch(`${lmx.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: user('Hi'), max_tokens: 2, stream: true }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(
      text
        .split('\n\n')
        .filter(Boolean)
        .every((frame) => frame.startsWith('data: ')),
    ).toBe(true);
  });

  it('stops at a stop sequence with finish_reason stop', async () => {
    const base = { model, messages: user('Say something'), temperature: 0, max_tokens: 24 } as const;
    const free = (await lmx.openai.chat.completions.create(base)).choices[0]!.message.content!;
    // Stop at a piece of what the model produces deterministically when not stopped.
    const stop = free.trim().slice(4, 7);
    expect(stop.length).toBeGreaterThan(0);
    const stopped = await lmx.openai.chat.completions.create({ ...base, stop: [stop] });
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(stopped.choices[0]!.message.content).not.toContain(stop);
    expect(free.startsWith(stopped.choices[0]!.message.content!.trimEnd().slice(0, 3))).toBe(true);
  });

  it('accepts every documented sampling parameter', async () => {
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      ],
      max_tokens: 4,
      temperature: 0.7,
      top_p: 0.9,
      // @ts-expect-error top_k is a common extension the SDK does not type
      top_k: 40,
      seed: 42,
      stop: 'zzz',
      presence_penalty: 0.5,
      frequency_penalty: 0.5,
      user: 'test-user',
    });
    expect(completion.choices[0]!.finish_reason).toBe('length');
  });

  it('gives the same text for the same seed', async () => {
    const request = { model, messages: user('Once'), max_tokens: 8, temperature: 1, seed: 1234 };
    const first = await lmx.openai.chat.completions.create(request);
    const second = await lmx.openai.chat.completions.create(request);
    expect(second.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
  });

  it('runs concurrent requests to one model together', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        lmx.openai.chat.completions.create({
          model,
          messages: user(`Request ${index}`),
          max_tokens: 5,
          temperature: 0,
        }),
      ),
    );
    for (const result of results) expectStoppedAtMaxTokens(result.usage!.completion_tokens, 5);
  });
});

describe('text completions', () => {
  it('answers a prompt with text and usage', async () => {
    const completion = await lmx.openai.completions.create({
      model,
      prompt: 'Once upon a time',
      max_tokens: 5,
    });
    expect(completion.object).toBe('text_completion');
    expect(completion.id).toMatch(/^cmpl-/);
    expect(typeof completion.choices[0]!.text).toBe('string');
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expectStoppedAtMaxTokens(completion.usage!.completion_tokens, 5);
  });

  it('defaults to 16 tokens like OpenAI', async () => {
    const completion = await lmx.openai.completions.create({ model, prompt: 'A' });
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(16 + 3);
  });

  it('streams text_completion chunks', async () => {
    const stream = await lmx.openai.completions.create({
      model,
      prompt: 'Once',
      max_tokens: 4,
      temperature: 0,
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((chunk) => chunk.object === 'text_completion')).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length');
    const whole = await lmx.openai.completions.create({
      model,
      prompt: 'Once',
      max_tokens: 4,
      temperature: 0,
    });
    expect(chunks.map((chunk) => chunk.choices[0]!.text).join('')).toBe(whole.choices[0]!.text);
  });
});

describe.runIf(storiesModelPath())('a real model (stories260K)', () => {
  it('writes English text through the streaming chat API', async () => {
    const stories = await startTestServer({ startupModels: [storiesModelPath()!] });
    try {
      const stream = await stories.openai.chat.completions.create({
        model: 'stories260K',
        messages: user('Once upon a time'),
        max_tokens: 60,
        temperature: 0,
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
      const common = ['the', 'a', 'was', 'and', 'to', 'she', 'he', 'her', 'is', 'of', 'big', 'little'];
      expect(words.filter((word) => common.includes(word)).length).toBeGreaterThan(2);
    } finally {
      await stories.stop();
    }
  });
});

// Stop strings containing a space, on a SentencePiece vocabulary, where words carry their leading space
// ("▁Lily"). Each string is checked to be in the greedy answer without stop, so the expected answer is
// that answer cut right before it; streamed, no chunk may carry any part of it.
describe.runIf(storiesModelPath())('stop strings with spaces on a real model (stories260K)', () => {
  let stories: TestServer;
  beforeAll(async () => {
    stories = await startTestServer({ startupModels: [storiesModelPath()!] });
  });
  afterAll(async () => stories?.stop());

  const maxTokens = 40;
  const completion = {
    model: 'stories260K',
    prompt: 'Once upon a time',
    max_tokens: maxTokens,
    temperature: 0,
  };
  const chat = {
    model: 'stories260K',
    messages: user('Once upon a time'),
    max_tokens: maxTokens,
    temperature: 0,
  };

  const completionText = async (stop?: string[]) => {
    const answer = await stories.openai.completions.create({ ...completion, stop });
    return { text: answer.choices[0]!.text, finishReason: answer.choices[0]!.finish_reason };
  };
  const streamedCompletionText = async (stop: string[]) => {
    const stream = await stories.openai.completions.create({ ...completion, stop, stream: true });
    const chunks: string[] = [];
    let finishReason: string | null | undefined;
    for await (const chunk of stream) {
      chunks.push(chunk.choices[0]!.text);
      finishReason = chunk.choices[0]!.finish_reason ?? finishReason;
    }
    return { chunks, text: chunks.join(''), finishReason };
  };
  const chatText = async (stop?: string[]) => {
    const answer = await stories.openai.chat.completions.create({ ...chat, stop });
    return { text: answer.choices[0]!.message.content!, finishReason: answer.choices[0]!.finish_reason };
  };
  const streamedChatText = async (stop: string[]) => {
    const stream = await stories.openai.chat.completions.create({ ...chat, stop, stream: true });
    const chunks: string[] = [];
    let finishReason: string | null | undefined;
    for await (const chunk of stream) {
      chunks.push(chunk.choices[0]?.delta?.content ?? '');
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    return { chunks, text: chunks.join(''), finishReason };
  };

  /** The greedy answer without stop, cut right before the stop string (which it must contain past its start). */
  const cutBefore = (free: string, stop: string) => {
    const at = free.indexOf(stop);
    expect(at, `${JSON.stringify(stop)} in ${JSON.stringify(free)}`).toBeGreaterThan(0);
    return free.slice(0, at);
  };

  // Completions: ", there was a little girl named Lily. She loved to play outside …";
  // chat: "is a small bird. Where is a small bird, …".
  const routes = {
    completions: { whole: completionText, streamed: streamedCompletionText },
    'chat completions': { whole: chatText, streamed: streamedChatText },
  };
  it.each([
    ['completions', 'a leading space', ' Lily'],
    ['completions', 'an inner space', 'd to'],
    ['chat completions', 'a leading space', ' small'],
    ['chat completions', 'an inner space', 'all b'],
  ] as const)('%s stop at a stop string with %s, whole and streamed', async (route, _, stop) => {
    const { whole: wholeText, streamed: streamedText } = routes[route];
    const free = await wholeText();
    expect(free.finishReason).toBe('length');
    const expected = cutBefore(free.text, stop);

    const whole = await wholeText([stop]);
    expect(whole.finishReason).toBe('stop');
    expect(whole.text).toBe(expected);

    const streamed = await streamedText([stop]);
    expect(streamed.finishReason).toBe('stop');
    expect(streamed.text).toBe(expected);
    expect(streamed.chunks.join('')).not.toContain(stop);
  });

  it('ends at the earliest of several stop strings, with or without spaces', async () => {
    const free = await completionText();
    // "Lily" comes after " named", which comes before it: " named" wins whichever is listed first.
    const expected = cutBefore(free.text, ' named');
    for (const stop of [
      ['Lily', ' named'],
      [' named', 'Lily'],
    ]) {
      const whole = await completionText(stop);
      expect(whole).toEqual({ text: expected, finishReason: 'stop' });
      const streamed = await streamedCompletionText(stop);
      expect({ text: streamed.text, finishReason: streamed.finishReason }).toEqual(whole);
    }
  });

  it('does not stop at a string that is in the answer only with its spaces removed', async () => {
    // " named Lily" detokenized token by token, without their leading spaces, reads "namedLily".
    const free = await completionText();
    expect(free.text).toContain(' named Lily');
    const unchanged = await completionText(['namedLily']);
    expect(unchanged).toEqual(free);
  });

  it.each([
    ['completions', ' Lily', ' Lilypad'],
    ['chat completions', ' small', ' smallest'],
  ] as const)(
    '%s that end at max_tokens inside the start of a stop string keep that text',
    async (route, word, stop) => {
      const ask = async (tokens: number, stops?: string[]) => {
        const request = { max_tokens: tokens, temperature: 0, stop: stops };
        const answer =
          route === 'completions'
            ? await stories.openai.completions.create({ ...completion, ...request })
            : await stories.openai.chat.completions.create({ ...chat, ...request });
        const choice = answer.choices[0]!;
        return {
          text: 'text' in choice ? choice.text : choice.message.content,
          reason: choice.finish_reason,
        };
      };
      // The smallest max_tokens whose answer ends with the word a stop string starts with.
      let tokens = 1;
      let free = await ask(tokens);
      while (!free.text?.endsWith(word) && tokens < maxTokens) free = await ask(++tokens);
      expect(free.text).toMatch(new RegExp(`${word}$`));
      // Cut off there, the answer never became the stop string: all of it is the answer.
      expect(await ask(tokens, [stop])).toEqual({ text: free.text, reason: 'length' });
    },
  );
});
