// Several tool calls in one reply (parallel_tool_calls), through the official SDK against a real server and a
// random-weight model whose template writes calls in Qwen's `<tool_call>…</tool_call>` convention, several in
// one turn: node-llama-cpp reads that syntax (and that calls may follow each other) out of the template.
// Random weights never choose another call: logit_bias +100 on `<tool_call>` makes the model open one as soon
// as the previous is done, and the grammar makes each call schema-valid.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_CALL_TOKENS, TOOL_CALLING_CHATML_TEMPLATE } from '../fixtures/gguf/vocabulary.ts';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { validateWeather, weather } from '../helpers/weather-tool.ts';

let lmx: TestServer;
let model: string;

beforeAll(async () => {
  const file = await ensureGeneratedModel('tiny', {
    chatTemplate: TOOL_CALLING_CHATML_TEMPLATE,
    controlTokens: TOOL_CALL_TOKENS,
  });
  lmx = await startTestServer({ startupModels: [file], parallel: 2, contextSize: 1024 });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

// Control tokens follow ChatML's in the generated vocabulary: <tool_call> is 261.
const request = {
  messages: [{ role: 'user' as const, content: 'Weather in Paris, Rome and Oslo?' }],
  tools: [weather],
  tool_choice: 'required' as const,
  max_tokens: 120,
  temperature: 0,
  logit_bias: { 261: 100 },
};

type FunctionCall = OpenAI.ChatCompletionMessageFunctionToolCall;

describe('parallel tool calls', () => {
  it('returns several schema-valid calls in one reply, each with its own id', async () => {
    // Asserts: more than one call in message.tool_calls, finish_reason tool_calls, distinct ids, valid arguments.
    const completion = await lmx.openai.chat.completions.create({ model, ...request });
    const choice = completion.choices[0]!;
    const calls = choice.message.tool_calls as FunctionCall[];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(calls.length).toBeGreaterThan(1);
    expect(new Set(calls.map((call) => call.id)).size).toBe(calls.length);
    for (const call of calls) {
      expect(call.function.name).toBe('get_weather');
      expect(validateWeather(JSON.parse(call.function.arguments))).toBe(true);
    }
  });

  it('streams them under indexes 0, 1, …, which the SDK assembles into the same calls', async () => {
    // Asserts: each call's first delta has its index, id and name; the assembled calls start with the whole
    // reply's. (max_tokens ends this forced reply inside a further call: the stream has already sent that
    // call's start, which the whole reply leaves out.)
    const whole = await lmx.openai.chat.completions.create({ model, ...request });
    const stream = lmx.openai.chat.completions.stream({ model, ...request });
    const firsts: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    stream.on('chunk', (chunk) => {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) if (delta.id) firsts.push(delta);
    });
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0]!.message.tool_calls as FunctionCall[];
    const expected = whole.choices[0]!.message.tool_calls as FunctionCall[];
    expect(firsts.map((delta) => delta.index)).toEqual(firsts.map((_, index) => index));
    expect(expected.length).toBeGreaterThan(1);
    expect(firsts.length).toBeGreaterThanOrEqual(expected.length);
    expect(firsts.every((delta) => delta.function?.name === 'get_weather')).toBe(true);
    // Streamed arguments are the generated text, whitespace and all; the whole reply's are re-serialized.
    const parsed = (list: FunctionCall[]) =>
      list.map((call) => JSON.parse(call.function.arguments) as unknown);
    expect(parsed(calls.slice(0, expected.length))).toEqual(parsed(expected));
  });

  it('parallel_tool_calls: false stops after one call', async () => {
    // Asserts: the same forced reply holds exactly one call when parallel calls are off.
    const completion = await lmx.openai.chat.completions.create({
      model,
      ...request,
      parallel_tool_calls: false,
    });
    expect(completion.choices[0]!.message.tool_calls).toHaveLength(1);
  });
});
