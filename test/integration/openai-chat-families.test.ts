// Tools and reasoning on the model families' chat formats (our templates in test/fixtures/templates), through the
// official SDK against a real server: each random-weight model carries a template in one family's format, so
// node-llama-cpp resolves that family's chat wrapper and LMX prompts, parses calls and splits thoughts in the
// family's own format. Random weights never call a tool or think on their own: tool_choice required / named makes
// the reply start inside a call (the grammar makes it schema-valid), and logit_bias on a thought marker opens a
// thought.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toChatHistory } from '../../server/engine/chat-history.ts';
import { chatSetup, chatWrapperOf, type ChatTurn } from '../../server/engine/generation.ts';
import { chatFamilies, controlTokenId, familyModel, type ChatFamily } from '../fixtures/chat-families.ts';
import { promptTokensWithReasoning, streamedTexts, type Reasoned } from '../helpers/reasoning.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { requiredWeatherCall, validateWeather, weather } from '../helpers/weather-tool.ts';

let lmx: TestServer;
const ids = new Map<ChatFamily, string>();
const families = Object.values(chatFamilies) as ChatFamily[];

beforeAll(async () => {
  const files = await Promise.all(families.map((family) => familyModel(family)));
  lmx = await startTestServer({ startupModels: files, parallel: 1, contextSize: 2048 });
  const listed = (await lmx.openai.models.list()).data.map((model) => model.id);
  families.forEach((family, index) => {
    const id = listed.find((candidate) => files[index]!.endsWith(`${candidate}.gguf`));
    if (id === undefined) throw new Error(`no model for ${family.name}`);
    ids.set(family, id);
  });
}, 120_000);
afterAll(async () => lmx?.stop());

type FunctionCall = OpenAI.ChatCompletionMessageFunctionToolCall;

describe.each(families)('$name', (family) => {
  it(`is prompted through node-llama-cpp's ${family.wrapper} chat wrapper`, () => {
    // Asserts: the wrapper the server resolved for the model is the family's own, not a generic fallback.
    const loaded = lmx.server.models.loaded(ids.get(family)!)!;
    expect(chatWrapperOf(loaded.model).wrapperName).toBe(family.wrapper);
  });

  it('a required call → tool result → answer, not streamed', async () => {
    // Asserts: a schema-valid call with finish_reason tool_calls; the SDK's message and a tool result sent back
    // give an answer, and the tool result is in the prompt.
    const model = ids.get(family)!;
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const choice = await requiredWeatherCall(lmx.openai, model, messages);
    expect(choice.finish_reason).toBe('tool_calls');
    const toolCall = choice.message.tool_calls![0]! as FunctionCall;
    expect(toolCall.function.name).toBe('get_weather');
    expect(validateWeather(JSON.parse(toolCall.function.arguments))).toBe(true);

    messages.push(choice.message as OpenAI.ChatCompletionMessageParam);
    const answer = (result: string) =>
      lmx.openai.chat.completions.create({
        model,
        messages: [...messages, { role: 'tool', tool_call_id: toolCall.id, content: result }],
        tools: [weather],
        tool_choice: 'none',
        max_tokens: 4,
      });
    const short = await answer('{"temperature": 21}');
    expect(short.choices[0]!.finish_reason).not.toBe('tool_calls');
    expect(typeof short.choices[0]!.message.content).toBe('string');
    const long = await answer('{"temperature": 21, "sky": "clear", "wind": "none at all"}');
    expect(long.usage!.prompt_tokens).toBeGreaterThan(short.usage!.prompt_tokens);
    // The prompt the server renders for these turns holds the JSON result as JSON in the wrapper's own
    // formatting (node-llama-cpp writes a text result as a JSON string, escaped), whatever the input's spacing.
    const loaded = lmx.server.models.loaded(model)!;
    const wrapper = chatWrapperOf(loaded.model);
    const turns: ChatTurn[] = [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'call_1', content: '{ "temperature" :   21 }' },
    ];
    const prompt = wrapper
      .generateContextState({ chatHistory: toChatHistory(turns, wrapper) })
      .contextText.toString();
    expect(prompt).toContain('{"temperature": 21}');
  });

  it('a named call streamed in delta.tool_calls chunks, assembled by the SDK', async () => {
    // Asserts: the first tool-call delta has index 0, an id and the name; the assembled call is schema-valid.
    const stream = lmx.openai.chat.completions.stream({
      model: ids.get(family)!,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 64,
    });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    stream.on('chunk', (chunk) => deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? [])));
    const final = await stream.finalChatCompletion();
    expect(deltas[0]).toMatchObject({ index: 0, function: { name: 'get_weather' } });
    expect(deltas[0]!.id).toMatch(/^call_/);
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    const call = final.choices[0]!.message.tool_calls![0]! as FunctionCall;
    expect(validateWeather(JSON.parse(call.function.arguments))).toBe(true);
  });
});

describe('reasoning', () => {
  // <think> opens a thought at once; a word piece below it, then </think> (with the newline before it, which
  // Qwen's thought suffix starts with), with a frequency penalty, make these seeded models think, close the
  // thought and answer (temperature 0).
  const thinkThenAnswer = (family: ChatFamily, bias: Record<number, number>) => ({
    model: ids.get(family)!,
    messages: [{ role: 'user' as const, content: 'Hi' }],
    max_tokens: 14,
    temperature: 0,
    logit_bias: bias,
    frequency_penalty: 2,
  });
  const forced = new Map<ChatFamily, Record<number, number>>([
    [chatFamilies.qwen3, { 261: 100, 13: 99, 300: 98, 262: 97 }],
    [chatFamilies.deepseekR1, { 261: 100, 262: 98, 300: 97 }],
  ]);

  it.each([...forced.keys()])(
    '$name: the thought apart from the answer, streamed and not',
    async (family) => {
      // Asserts: reasoning_content and content both non-empty, the thought's tokens counted apart (fewer than
      // all); the streamed delta.reasoning_content / delta.content add up to the same texts.
      const request = thinkThenAnswer(family, forced.get(family)!);
      const completion = await lmx.openai.chat.completions.create(request);
      const message = completion.choices[0]!.message as OpenAI.ChatCompletionMessage & Reasoned;
      expect(message.reasoning_content).toBeTruthy();
      expect(message.content).toBeTruthy();
      const reasoningTokens = completion.usage!.completion_tokens_details!.reasoning_tokens!;
      expect(reasoningTokens).toBeGreaterThan(0);
      expect(reasoningTokens).toBeLessThan(completion.usage!.completion_tokens);

      const stream = await lmx.openai.chat.completions.create({ ...request, stream: true });
      const { reasoning, content } = await streamedTexts(stream);
      expect(reasoning).toBe(message.reasoning_content);
      expect(content).toBe(message.content);
    },
  );

  it("Qwen3: reasoning_effort 'none' and 'minimal' switch thinking off in Qwen's own way", async () => {
    // Asserts: the prompt gets Qwen3's empty thought block (enable_thinking=false), so it is longer, and the
    // same forced reply has no thought; 'low' keeps the default prompt.
    const family = chatFamilies.qwen3;
    const request = thinkThenAnswer(family, forced.get(family)!);
    const thinking = await lmx.openai.chat.completions.create(request);
    const low = await lmx.openai.chat.completions.create({ ...request, reasoning_effort: 'low' });
    expect(low.usage!.prompt_tokens).toBe(thinking.usage!.prompt_tokens);
    for (const effort of ['none', 'minimal'] as const) {
      const off = await lmx.openai.chat.completions.create({ ...request, reasoning_effort: effort });
      expect(off.usage!.prompt_tokens).toBeGreaterThan(thinking.usage!.prompt_tokens);
      if (effort === 'none') {
        const message = off.choices[0]!.message as OpenAI.ChatCompletionMessage & Reasoned;
        expect(message.reasoning_content).toBeUndefined();
        expect(message.content).toBeTruthy();
      }
    }
  });

  it('gpt-oss: reasoning_effort is the effort Harmony writes in its system message', async () => {
    // Asserts: the prompt the server renders for each effort has Harmony's "Reasoning: …" line with it (none
    // given: Harmony's default, medium; minimal and none: low), and each answer is a well-formed completion.
    // (The rendered text, not usage.prompt_tokens: with Harmony that count can differ by one with the cache.)
    const model = ids.get(chatFamilies.gptOss)!;
    const loaded = lmx.server.models.loaded(model)!;
    const efforts = [undefined, 'none', 'minimal', 'low', 'medium', 'high'] as const;
    const expected = ['medium', 'low', 'low', 'low', 'medium', 'high'];
    for (const [index, effort] of efforts.entries()) {
      const completion = await lmx.openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 3,
        ...(effort ? { reasoning_effort: effort } : {}),
      });
      expect(typeof completion.choices[0]!.message.content).toBe('string');
      expect(completion.choices[0]!.finish_reason).toMatch(/^(stop|length)$/);
      const turns: ChatTurn[] = [{ role: 'user', content: 'Hi' }];
      const { chatWrapper } = chatSetup(loaded.model, effort ? { reasoningEffort: effort } : {});
      const prompt = chatWrapper
        .generateContextState({ chatHistory: toChatHistory(turns, chatWrapper) })
        .contextText.toString();
      expect(prompt).toContain(`Reasoning: ${expected[index]}\n`);
    }
  });

  it.each([chatFamilies.llama31, chatFamilies.mistral] as ChatFamily[])(
    '$name: reasoning_content sent back is not written into a wrapper without thoughts',
    async (family) => {
      // Asserts: the prompt is the same with and without the turn's reasoning_content (the wrapper has no
      // thought syntax; node-llama-cpp would write it as answer text).
      const promptTokens = (reasoning?: string) =>
        promptTokensWithReasoning(lmx.openai, ids.get(family)!, reasoning);
      expect(await promptTokens('the cat and the dog')).toBe(await promptTokens());
    },
  );
});

describe('Qwen3 parallel tool calls', () => {
  it("several schema-valid calls in one reply, in Qwen's <tool_call> blocks", async () => {
    // Asserts: logit_bias +100 on <tool_call> makes the model open another call after each; all are returned,
    // each schema-valid with its own id.
    const family = chatFamilies.qwen3;
    const completion = await lmx.openai.chat.completions.create({
      model: ids.get(family)!,
      messages: [{ role: 'user', content: 'Weather in Paris, Rome and Oslo?' }],
      tools: [weather],
      tool_choice: 'required',
      max_tokens: 120,
      temperature: 0,
      logit_bias: { [controlTokenId(family, '<tool_call>')]: 100 },
    });
    const calls = completion.choices[0]!.message.tool_calls as FunctionCall[];
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(calls.length).toBeGreaterThan(1);
    expect(new Set(calls.map((call) => call.id)).size).toBe(calls.length);
    for (const call of calls) expect(validateWeather(JSON.parse(call.function.arguments))).toBe(true);
  });
});

describe('penalties', () => {
  it('frequency_penalty counts newlines too, as OpenAI does', async () => {
    // Asserts: with the newline biased just above a word piece, the penalty makes the model leave the newline
    // after one use (node-llama-cpp exempts newlines unless told).
    const completion = await lmx.openai.chat.completions.create({
      model: ids.get(chatFamilies.llama31)!,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 4,
      temperature: 0,
      logit_bias: { 13: 100, 300: 99 },
      frequency_penalty: 2,
    });
    expect(completion.choices[0]!.message.content).toMatch(/[^\n]/);
  });
});

describe('tool_choice allowed_tools', () => {
  it('calls only a tool of the allowed subset, as its mode says', async () => {
    // Asserts: with two tools declared and only get_weather allowed in required mode, the reply is a
    // schema-valid get_weather call; an allowed name that is not declared is a 400 naming it.
    const model = ids.get(chatFamilies.qwen3)!;
    const clock = {
      type: 'function' as const,
      function: { name: 'get_time', parameters: { type: 'object', properties: {} } },
    };
    const allowedWeather = {
      type: 'allowed_tools' as const,
      allowed_tools: {
        mode: 'required' as const,
        tools: [{ type: 'function' as const, function: { name: 'get_weather' } }],
      },
    };
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [clock, weather],
      tool_choice: allowedWeather,
      max_tokens: 64,
    });
    const calls = completion.choices[0]!.message.tool_calls as FunctionCall[];
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.function.name).toBe('get_weather');
      expect(validateWeather(JSON.parse(call.function.arguments))).toBe(true);
    }
    const error = (await lmx.openai.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [clock],
        tool_choice: allowedWeather,
      })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toMatch(/get_weather/);
    expect(error.param).toBe('tool_choice');
  });
});
