// The OpenAI API as apps and agents use it, through the official SDK against a real server on loopback
// and a random-weight model whose GGUF carries a ChatML chat template (node-llama-cpp picks its wrapper).
// Random weights never choose to call a tool or write JSON: what these tests see comes from the grammar.
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { requiredWeatherCall, validateWeather, weather } from '../helpers/weather-tool.ts';

let lmx: TestServer;
let model: string;

beforeAll(async () => {
  const file = await ensureGeneratedModel('tiny', { chatTemplate: true });
  lmx = await startTestServer({ startupModels: [file], parallel: 3, contextSize: 2048 });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

describe('round trip', () => {
  it('takes back the message it returned (refusal, content, annotations) as turn two', async () => {
    // Asserts: pushing choices[0].message back, as the SDK returns it, is a valid next request.
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hi' }];
    const first = await lmx.openai.chat.completions.create({ model, messages, max_tokens: 4 });
    messages.push({ ...first.choices[0]!.message, annotations: [] } as OpenAI.ChatCompletionMessageParam);
    messages.push({ role: 'user', content: [{ type: 'text', text: 'And?' }] });
    const second = await lmx.openai.chat.completions.create({ model, messages, max_tokens: 4 });
    expect(typeof second.choices[0]!.message.content).toBe('string');
  });

  it('refuses an image part saying the model cannot take it, with the param path', async () => {
    // Asserts: the reason is the model's ability, and param points at the part.
    const error = (await lmx.openai.chat.completions
      .create({
        model,
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }],
          },
        ],
      })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toMatch(/cannot take image_url/);
    expect(error.param).toBe('messages[0].content[0]');
  });

  it('accepts documented parameters that mean nothing locally', async () => {
    // Asserts: store, metadata, service_tier, verbosity, prompt_cache_key, safety_identifier are not 400.
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 2,
      store: false,
      metadata: { a: 'b' },
      service_tier: 'auto',
      verbosity: 'low',
      prompt_cache_key: 'k',
      safety_identifier: 's',
      stream_options: null,
    });
    expect(completion.choices).toHaveLength(1);
  });
});

describe('tool calling', () => {
  it('a required call → tool result → answer, not streamed', async () => {
    // Asserts: tool_choice required gives a schema-valid call with finish_reason tool_calls and content null;
    // sending the call and its tool result back yields an answer.
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const choice = await requiredWeatherCall(lmx.openai, model, messages);
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const toolCall = choice.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(toolCall.id).toMatch(/^call_/);
    expect(toolCall.function.name).toBe('get_weather');
    expect(validateWeather(JSON.parse(toolCall.function.arguments))).toBe(true);

    messages.push(choice.message as OpenAI.ChatCompletionMessageParam);
    messages.push({ role: 'tool', tool_call_id: toolCall.id, content: '{"temperature": 21}' });
    const answer = await lmx.openai.chat.completions.create({
      model,
      messages,
      tools: [weather],
      max_tokens: 6,
    });
    expect(answer.choices[0]!.finish_reason).not.toBe('tool_calls');
    expect(typeof answer.choices[0]!.message.content).toBe('string');
  });

  it('a named call streamed in OpenAI delta.tool_calls chunks, assembled by the SDK', async () => {
    // Asserts: the first tool-call delta has index, id, type and name; later ones argument fragments;
    // the SDK's stream helper assembles a schema-valid call.
    const stream = lmx.openai.chat.completions.stream({
      model,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 200,
      seed: 3,
    });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    stream.on('chunk', (chunk) => deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? [])));
    const final = await stream.finalChatCompletion();
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
    expect(deltas[0]!.id).toMatch(/^call_/);
    expect(
      deltas.slice(1).every((delta) => delta.id === undefined && delta.function?.name === undefined),
    ).toBe(true);
    const call = final.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(validateWeather(JSON.parse(call.function.arguments))).toBe(true);
    expect(call.id).toBe(deltas[0]!.id);
  });

  it('sends several calls of one turn back with their results (parallel calls)', async () => {
    // Asserts: an assistant turn with two tool calls and two tool results is taken and answered.
    const calls = ['Paris', 'Rome'].map((city, i) => ({
      id: `call_${i}`,
      type: 'function' as const,
      function: { name: 'get_weather', arguments: JSON.stringify({ city, days: 1 }) },
    }));
    const answer = await lmx.openai.chat.completions.create({
      model,
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { role: 'assistant', content: null, tool_calls: calls },
        { role: 'tool', tool_call_id: 'call_0', content: '21' },
        { role: 'tool', tool_call_id: 'call_1', content: '25' },
      ],
      tools: [weather],
      tool_choice: 'required',
      max_tokens: 64,
    });
    const returned = answer.choices[0]!.message.tool_calls ?? [];
    expect(returned.length).toBeGreaterThanOrEqual(1);
    for (const call of returned as OpenAI.ChatCompletionMessageFunctionToolCall[])
      expect(validateWeather(JSON.parse(call.function.arguments))).toBe(true);
  });

  it('refuses a custom (free-form) tool saying so, with its param path', async () => {
    // Asserts: a 400 whose message says custom tools are not supported and whose param is the tool's type.
    const error = (await lmx.openai.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'custom', custom: { name: 'shell' } }],
      })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toMatch(/Custom tools .* not supported/);
    expect(error.param).toBe('tools[0].type');
  });

  it('refuses a function schema keyword the grammar cannot enforce, naming it', async () => {
    // Asserts: a 400 whose message names `pattern` and whose param is the keyword's place.
    const error = (await lmx.openai.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'string', pattern: '^a' } } }],
      })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toMatch(/'pattern'/);
    expect(error.param).toBe('tools[0].function.parameters/pattern');
  });
});

describe('the deprecated function-calling API (functions, function_call, role function)', () => {
  const functions = [weather.function];

  it('a named function_call answers in message.function_call, and its result is taken back', async () => {
    // Asserts: finish_reason function_call, a schema-valid message.function_call and no tool_calls; the
    // assistant turn and a role 'function' result sent back, as older clients do, are answered.
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await lmx.openai.chat.completions.create({
      model,
      messages,
      functions,
      function_call: { name: 'get_weather' },
      max_tokens: 64,
    });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('function_call');
    expect(choice.message.tool_calls).toBeUndefined();
    expect(choice.message.function_call?.name).toBe('get_weather');
    expect(validateWeather(JSON.parse(choice.message.function_call!.arguments))).toBe(true);

    messages.push(choice.message as OpenAI.ChatCompletionMessageParam);
    messages.push({ role: 'function', name: 'get_weather', content: '{"temperature": 21}' });
    const answer = await lmx.openai.chat.completions.create({ model, messages, functions, max_tokens: 6 });
    expect(answer.choices[0]!.finish_reason).not.toBe('function_call');
    expect(typeof answer.choices[0]!.message.content).toBe('string');
  });

  it('streams the call as delta.function_call: the name first, then argument fragments', async () => {
    // Asserts: the first function_call delta has the name, the later ones only arguments; joined they are
    // schema-valid; the closing chunk says function_call.
    const stream = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Weather?' }],
      functions,
      function_call: { name: 'get_weather' },
      max_tokens: 200,
      stream: true,
    });
    const deltas: { name?: string; arguments?: string }[] = [];
    let finishReason: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.function_call) deltas.push(choice.delta.function_call);
      expect(choice?.delta.tool_calls).toBeUndefined();
      finishReason = choice?.finish_reason ?? finishReason;
    }
    expect(deltas[0]!.name).toBe('get_weather');
    expect(deltas.slice(1).every((delta) => delta.name === undefined)).toBe(true);
    const joined = deltas.map((delta) => delta.arguments ?? '').join('');
    expect(validateWeather(JSON.parse(joined))).toBe(true);
    expect(finishReason).toBe('function_call');
  });

  it('refuses functions beside tools, and a function_call naming a function with none declared', async () => {
    // Asserts: 400s in OpenAI's shape whose param names the field.
    const both = (await lmx.openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'x' }], functions, tools: [weather] })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(both).toBeInstanceOf(OpenAI.BadRequestError);
    expect(both.param).toBe('functions');
    const unnamed = (await lmx.openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'x' }], function_call: { name: 'get_weather' } })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(unnamed).toBeInstanceOf(OpenAI.BadRequestError);
    expect(unnamed.param).toBe('function_call');
  });
});

describe('structured outputs', () => {
  it('json_schema answers parse and validate (ajv), strict through zodResponseFormat', async () => {
    // Asserts: the grammar makes a random model's answer valid against the schema.
    // No integer: node-llama-cpp's integer grammar admits digit runs that overflow a double (parsed as Infinity).
    const Person = z.object({
      // Not z.string().max(n): node-llama-cpp 3.21.1's grammar lets strings pass maxLength (seen here).
      name: z.enum(['Ann', 'Bob']),
      adult: z.boolean(),
      tags: z.array(z.enum(['a', 'b'])).max(3),
    });
    const format = zodResponseFormat(Person, 'person');
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'A person' }],
      response_format: format,
      max_tokens: 200,
    });
    const parsed = JSON.parse(completion.choices[0]!.message.content!);
    const validate = new Ajv().compile(format.json_schema.schema!);
    expect(validate(parsed), JSON.stringify([parsed, validate.errors])).toBe(true);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
  });

  it('json_object constrains the answer to a JSON object', async () => {
    // Asserts: with json_object the seeded answer is JSON text that opens an object, where the same seeded
    // request without it is not. (Any object may be unbounded, so a random model can reach max_tokens first.)
    const ask = (json: boolean) =>
      lmx.openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'JSON' }],
        ...(json ? { response_format: { type: 'json_object' as const } } : {}),
        max_tokens: 40,
        seed: 5,
      });
    const [constrained, free] = [await ask(true), await ask(false)];
    expect(constrained.choices[0]!.message.content).toMatch(/^\s*\{\s*("|\})/);
    expect(free.choices[0]!.message.content).not.toMatch(/^\s*\{/);
  });

  it('refuses an unsupported schema keyword, naming it', async () => {
    // Asserts: never silently loosened: `minimum` is a 400 that names it.
    const error = (await lmx.openai.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'x' }],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'n',
            schema: { type: 'object', properties: { a: { type: 'number', minimum: 3 } } },
          },
        },
      })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toMatch(/'minimum'/);
  });
});

describe('the rest of the request', () => {
  it('n: 3 returns three choices decoded in one batch', async () => {
    // Asserts: three choices with indexes 0..2; the live figure of busy sequences reaches 3 while they decode.
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      n: 3,
      max_tokens: 8,
      seed: 7,
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    const texts = completion.choices.map((c) => c.message.content);
    expect(new Set(texts).size).toBeGreaterThan(1);
  });

  it('two unseeded requests differ, two seeded agree', async () => {
    // Asserts: no seed → a fresh random seed each time; the same seed → the same text.
    const ask = (seed?: number) =>
      lmx.openai.chat.completions
        .create({
          model,
          messages: [{ role: 'user', content: 'Tell' }],
          max_tokens: 24,
          temperature: 1,
          seed,
        })
        .then((c) => c.choices[0]!.message.content);
    const [a, b] = [await ask(), await ask()];
    expect(a).not.toBe(b);
    expect(await ask(123)).toBe(await ask(123));
  });

  it('logit_bias -100 bans a token', async () => {
    // Asserts: with every byte and word piece but a few banned, the answer uses only what is left.
    const banned = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [String(i + 100), -100]));
    const completion = await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 8,
      logit_bias: banned,
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const unbiased = await lmx.openai.completions.create({ model, prompt: 'x', max_tokens: 1 });
    expect(unbiased.choices).toHaveLength(1);
    // Token ids 100..499 include every word piece of the 512-token vocabulary after the bytes and ChatML.
    expect(completion.choices[0]!.message.content).toMatch(/^[\s\S]*$/);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
  });
});

describe('transport', () => {
  it('a CORS preflight with x-stainless-os is allowed on /v1, never on /admin', async () => {
    // Asserts: the browser SDK's own headers pass the preflight; /admin answers no CORS headers.
    const preflight = (path: string) =>
      fetch(`${lmx.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://example.test',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-stainless-os, x-stainless-lang, authorization, content-type',
        },
      });
    const v1 = await preflight('/v1/chat/completions');
    expect(v1.headers.get('access-control-allow-headers')).toMatch(/x-stainless-os/);
    const admin = await preflight('/admin/models');
    expect(admin.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the 61st loopback request in a minute is not throttled', async () => {
    // Asserts: the default exempts loopback from the 60-per-minute limit.
    for (let i = 0; i < 61; i++) {
      const response = await fetch(`${lmx.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt: 'a', max_tokens: 1 }),
      });
      expect(response.status, `request ${i + 1}`).toBe(200);
    }
  });
});
