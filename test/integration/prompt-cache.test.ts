import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storiesModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Sequences are kept between requests, so a prompt that starts like an earlier one reuses its evaluated
// tokens; usage reports them as prompt_tokens_details.cached_tokens (OpenAI's field).
const stories = storiesModelPath();

describe.skipIf(!stories)('prompt cache', () => {
  let lmx: TestServer;
  let model: string;

  beforeAll(async () => {
    lmx = await startTestServer({ startupModels: [stories], parallel: 2, contextSize: 1024 });
    model = (await lmx.openai.models.list()).data[0]!.id;
  });
  afterAll(async () => lmx?.stop());

  const story =
    'Once upon a time there was a little girl named Lily. She loved to play in the park with her dog, ' +
    'a big brown dog called Max. One day the sun was shining and the birds were singing in the trees.';
  const cached = (usage: unknown) =>
    (usage as { prompt_tokens_details?: { cached_tokens?: number } }).prompt_tokens_details?.cached_tokens;

  it('a repeated prompt reuses its evaluated tokens and answers the same', async () => {
    const request = { model, prompt: `${story} Then`, max_tokens: 8, temperature: 0 };
    const first = await lmx.openai.completions.create(request);
    const second = await lmx.openai.completions.create(request);
    expect(cached(first.usage)).toBe(0);
    expect(second.usage!.prompt_tokens).toBe(first.usage!.prompt_tokens);
    expect(cached(second.usage)).toBeGreaterThanOrEqual(first.usage!.prompt_tokens - 1);
    expect(second.choices[0]!.text).toBe(first.choices[0]!.text);
  });

  it('a chat that goes on reuses the conversation so far, also when streamed', async () => {
    const opening = [
      { role: 'system' as const, content: 'You tell short stories about animals.' },
      { role: 'user' as const, content: 'Tell me about a cat who found a hat.' },
    ];
    const first = await lmx.openai.chat.completions.create({
      model,
      messages: opening,
      max_tokens: 16,
      temperature: 0,
    });
    const answer = first.choices[0]!.message.content ?? '';
    const stream = await lmx.openai.chat.completions.create({
      model,
      messages: [...opening, { role: 'assistant', content: answer }, { role: 'user', content: 'And then?' }],
      max_tokens: 8,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: unknown;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toBeDefined();
    expect((usage as { prompt_tokens: number }).prompt_tokens).toBeGreaterThan(first.usage!.prompt_tokens);
    // Everything up to the first answer was in the sequence already.
    expect(cached(usage)).toBeGreaterThanOrEqual(first.usage!.prompt_tokens);
  });

  it('each conversation goes back to the sequence holding it, not just the least recently used one', async () => {
    const ask = (prompt: string) =>
      lmx.openai.completions.create({ model, prompt, max_tokens: 4, temperature: 0 });
    const a = `${story} Lily said hello to`;
    const b = 'Tom had a red ball and a blue boat. He went to the pond to sail the boat with his friend';
    await ask(a);
    await ask(b);
    // Least recently used is now A's sequence: B must still find its own.
    const bAgain = await ask(b);
    const aAgain = await ask(a);
    expect(cached(bAgain.usage)).toBeGreaterThanOrEqual(bAgain.usage!.prompt_tokens - 1);
    expect(cached(aAgain.usage)).toBeGreaterThanOrEqual(aAgain.usage!.prompt_tokens - 1);
  });

  it('counts reused prompt tokens in lmx_prompt_cached_tokens_total', async () => {
    const metrics = await (await fetch(`${lmx.url}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith('lmx_prompt_cached_tokens_total{'));
    expect(line).toBeDefined();
    expect(Number(line!.split(' ').at(-1))).toBeGreaterThan(0);
  });
});
