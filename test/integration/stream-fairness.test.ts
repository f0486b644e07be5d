import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Issue 13, finding 10: once the sequences hold earlier conversations, a short stream beside long ones
// must still get its token every step (it used to wait until they had finished).
let lmx: TestServer;
let model: string;
const STREAMS = 4;

beforeAll(async () => {
  lmx = await startTestServer({
    startupModels: [await ensureGeneratedModel('tiny', { chatTemplate: true })],
    parallel: STREAMS,
    contextSize: 2048,
  });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

/** A streamed chat of exactly `tokens` tokens; counts its content chunks as they arrive. */
async function stream(content: string, tokens: number, onChunk: () => void = () => undefined) {
  const chunks = await lmx.openai.chat.completions.create({
    model,
    messages: [{ role: 'user', content }],
    max_tokens: tokens,
    stream: true,
    ignore_eos: true,
    temperature: 0,
  } as OpenAI.ChatCompletionCreateParamsStreaming);
  let finish: string | null | undefined;
  for await (const chunk of chunks) {
    if (chunk.choices[0]?.delta.content) onChunk();
    finish ??= chunk.choices[0]?.finish_reason;
  }
  return finish;
}

describe('a short stream beside long ones', () => {
  it('finishes while the long ones are still early in theirs, on sequences that hold earlier conversations', async () => {
    // Every sequence gets a conversation of its own, so the next requests (unlike them) must erase it first.
    await Promise.all(
      Array.from({ length: STREAMS }, (_, i) => stream(`earlier conversation ${i} `.repeat(20), 200)),
    );

    const longTokens = 1200;
    let longChunks = 0;
    const long = Array.from({ length: STREAMS - 1 }, (_, i) =>
      stream(`a long story number ${i}`, longTokens, () => void longChunks++),
    );
    while (longChunks < (STREAMS - 1) * 10) await new Promise((resolve) => setTimeout(resolve, 2));
    const shortTokens = 100;
    expect(await stream('a short question', shortTokens)).toBe('length');
    const longChunksWhenShortEnded = longChunks;
    expect(await Promise.all(long)).toEqual(Array.from({ length: STREAMS - 1 }, () => 'length'));

    // One token per sequence per step: the long ones got about as many tokens as the short one meanwhile.
    // Starved, the short one ends only when they do (all 3 × 1200).
    expect(longChunksWhenShortEnded).toBeLessThan(((STREAMS - 1) * longTokens) / 2);
  }, 180_000);
});
