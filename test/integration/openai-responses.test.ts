// The Responses API (/v1/responses) through the official openai SDK, against a real server on loopback and a
// random-weight model whose GGUF carries a ChatML chat template. Random weights never choose to call a tool
// or write JSON: what these tests see of those comes from the grammar.
import { rm } from 'node:fs/promises';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.ts';
import { validateWeather, weather as chatWeather } from '../helpers/weather-tool.ts';

let lmx: TestServer;
let dataDir: string;
let file: string;
let model: string;
const start = () => startTestServer({ dataDir, startupModels: [file], parallel: 2, contextSize: 2048 });

beforeAll(async () => {
  file = await ensureGeneratedModel('tiny', { chatTemplate: true });
  dataDir = await makeDataDir();
  lmx = await start();
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => {
  await lmx?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The chat tests' get_weather, in the Responses API's flat function-tool shape. */
const weather = { type: 'function' as const, ...chatWeather.function, strict: true };

async function refusal(promise: Promise<unknown>) {
  const error = (await promise.catch((caught: unknown) => caught)) as InstanceType<
    typeof OpenAI.BadRequestError
  >;
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error;
}

describe('responses.create', () => {
  it('answers a string input: a message with output_text, usage, ids in OpenAI style', async () => {
    // Asserts: the Response's shape as the SDK types it, output_text equal to the message's text.
    const response = await lmx.openai.responses.create({
      model,
      input: 'Hi',
      max_output_tokens: 8,
      metadata: { team: 'a' },
    });
    expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(response.object).toBe('response');
    expect(response.model).toBe(model);
    expect(response.metadata).toEqual({ team: 'a' });
    const message = response.output.find((item) => item.type === 'message')!;
    expect(message.id).toMatch(/^msg_/);
    expect(message.role).toBe('assistant');
    const part = message.content[0] as OpenAI.Responses.ResponseOutputText;
    expect(part.type).toBe('output_text');
    expect(response.output_text).toBe(part.text);
    expect(response.usage!.input_tokens).toBeGreaterThan(0);
    expect(response.usage!.output_tokens).toBeGreaterThan(0);
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
    expect(response.usage!.input_tokens_details.cached_tokens).toBeGreaterThanOrEqual(0);
    expect(response.usage!.output_tokens_details.reasoning_tokens).toBe(0);
  });

  it('stops at max_output_tokens as incomplete, reason max_output_tokens', async () => {
    // Asserts: a cut answer is status incomplete with incomplete_details.reason, not completed.
    const response = await lmx.openai.responses.create({
      model,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Tell a long story' }] }],
      max_output_tokens: 3,
      // Greedy: the same tokens every run (this model's greedy answer is longer than 3).
      temperature: 0,
      top_p: 0.9,
    });
    expect(response.usage!.output_tokens).toBe(3);
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });

  it('json_schema in text.format gives an answer valid against the schema', async () => {
    // Asserts: text.format json_schema is grammar-enforced, as response_format is on chat completions.
    const schema = {
      type: 'object',
      properties: { name: { type: 'string', enum: ['Ann', 'Bob'] }, adult: { type: 'boolean' } },
      required: ['name', 'adult'],
      additionalProperties: false,
    };
    const response = await lmx.openai.responses.create({
      model,
      input: 'A person',
      text: { format: { type: 'json_schema', name: 'person', schema, strict: true } },
      max_output_tokens: 100,
    });
    const parsed: unknown = JSON.parse(response.output_text);
    expect(new Ajv().compile(schema)(parsed), response.output_text).toBe(true);
    expect(response.status).toBe('completed');
  });

  it('json_object in text.format constrains the answer to a JSON object', async () => {
    // Asserts: the constrained answer opens a JSON object.
    const response = await lmx.openai.responses.create({
      model,
      input: 'JSON',
      text: { format: { type: 'json_object' } },
      max_output_tokens: 30,
    });
    expect(response.output_text).toMatch(/^\s*\{\s*("|\})/);
  });

  it('takes a reasoning item sent back, as the assistant turn it came with', async () => {
    // Asserts: a reasoning item (as OpenAI returns them) followed by a message is a valid input, not a 400.
    const response = await lmx.openai.responses.create({
      model,
      input: [
        { role: 'user', content: 'Hi' },
        {
          type: 'reasoning',
          id: 'rs_1',
          summary: [{ type: 'summary_text', text: 'Greet back.' }],
          encrypted_content: null,
        },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'Again' },
      ],
      reasoning: { effort: 'low' },
      max_output_tokens: 4,
    });
    expect(response.status).not.toBe('failed');
  });
});

describe('function calling', () => {
  it('a required call → function_call_output → answer', async () => {
    // Asserts: tool_choice required gives a schema-valid function_call item (fc_ id, call_ id); sending
    // the call and its output back yields a message.
    const first = await lmx.openai.responses.create({
      model,
      input: 'Weather in Paris?',
      tools: [weather],
      tool_choice: 'required',
      parallel_tool_calls: false,
      max_output_tokens: 64,
      store: false,
    });
    const call = first.output.find((item) => item.type === 'function_call')!;
    expect(call).toBeDefined();
    expect(call.id).toMatch(/^fc_/);
    expect(call.call_id).toMatch(/^call_/);
    expect(call.name).toBe('get_weather');
    expect(validateWeather(JSON.parse(call.arguments))).toBe(true);
    expect(first.status).toBe('completed');

    const answer = await lmx.openai.responses.create({
      model,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 21}' },
      ],
      tools: [weather],
      tool_choice: 'none',
      max_output_tokens: 6,
    });
    expect(answer.output.some((item) => item.type === 'function_call')).toBe(false);
    expect(answer.output.find((item) => item.type === 'message')).toBeDefined();
  });

  it('streams a named call through responses.stream(), arguments assembled by the SDK', async () => {
    // Asserts: function_call_arguments deltas add up to the done arguments and the final item's.
    const stream = lmx.openai.responses.stream({
      model,
      input: 'Weather?',
      tools: [weather],
      tool_choice: { type: 'function', name: 'get_weather' },
      max_output_tokens: 200,
    });
    let deltas = '';
    let done = '';
    stream.on('response.function_call_arguments.delta', (event) => (deltas += event.delta));
    stream.on('response.function_call_arguments.done', (event) => (done = event.arguments));
    const final = await stream.finalResponse();
    const call = final.output.find((item) => item.type === 'function_call')!;
    expect(deltas).toBe(done);
    expect(call.arguments).toBe(done);
    expect(validateWeather(JSON.parse(call.arguments))).toBe(true);
  });
});

describe('responses.stream', () => {
  it('sends the full event sequence, numbered, and a final response equal to the retrieved one', async () => {
    // Asserts: created → in_progress → item added → part added → text deltas → text done → part done →
    // item done → incomplete (cut at 12 tokens), sequence_number 0,1,2,…; the deltas make output_text; GET returns it.
    const stream = lmx.openai.responses.stream({
      model,
      input: 'Tell',
      max_output_tokens: 12,
      temperature: 0,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    stream.on('event', (event) => events.push(event));
    const final = await stream.finalResponse();
    const types = events.map((event) => event.type).filter((type) => type !== 'response.output_text.delta');
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.incomplete',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const text = events.flatMap((event) =>
      event.type === 'response.output_text.delta' ? [event.delta] : [],
    );
    expect(text.length).toBeGreaterThan(0);
    expect(final.output_text).toBe(text.join(''));
    expect(final.status).toBe('incomplete');
    const retrieved = await lmx.openai.responses.retrieve(final.id);
    expect(retrieved.output_text).toBe(final.output_text);
    expect(retrieved.output.map((item) => item.id)).toEqual(final.output.map((item) => item.id));
    expect(retrieved.usage).toEqual(final.usage);
  });
});

describe('stored responses', () => {
  it('retrieve, input_items, delete; store: false keeps nothing', async () => {
    // Asserts: GET and input_items answer a stored response; DELETE removes it (then 404); store false is 404.
    const kept = await lmx.openai.responses.create({ model, input: 'Hi', max_output_tokens: 2 });
    expect((await lmx.openai.responses.retrieve(kept.id)).id).toBe(kept.id);
    const items = await lmx.openai.responses.inputItems.list(kept.id);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text: 'Hi' }],
    });
    expect(items.data[0]!.id).toMatch(/^msg_/);
    await lmx.openai.responses.delete(kept.id);
    expect(await refusal(lmx.openai.responses.retrieve(kept.id))).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await refusal(lmx.openai.responses.delete(kept.id))).toBeInstanceOf(OpenAI.NotFoundError);

    const unkept = await lmx.openai.responses.create({
      model,
      input: 'Hi',
      max_output_tokens: 2,
      store: false,
    });
    expect(await refusal(lmx.openai.responses.retrieve(unkept.id))).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('previous_response_id continues the conversation from the prompt cache, and across a restart', async () => {
    // Asserts: the continuation's prompt holds the first exchange (more input tokens) and reuses its
    // evaluated tokens (cached_tokens ≥ the first prompt); after a real restart on the same data dir the
    // stored response still continues, and input_items lists the whole conversation in order.
    const first = await lmx.openai.responses.create({
      model,
      input: 'Tell me about a cat.',
      instructions: 'You tell stories.',
      max_output_tokens: 8,
      temperature: 0,
    });
    const second = await lmx.openai.responses.create({
      model,
      input: 'And then?',
      instructions: 'You tell stories.',
      previous_response_id: first.id,
      max_output_tokens: 4,
      temperature: 0,
    });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.usage!.input_tokens).toBeGreaterThan(
      first.usage!.input_tokens + first.usage!.output_tokens,
    );
    expect(second.usage!.input_tokens_details.cached_tokens).toBeGreaterThanOrEqual(
      first.usage!.input_tokens,
    );

    await lmx.stop();
    lmx = await start();
    const third = await lmx.openai.responses.create({
      model,
      input: 'The end?',
      previous_response_id: second.id,
      max_output_tokens: 2,
    });
    expect(third.usage!.input_tokens).toBeGreaterThan(second.usage!.input_tokens);
    const items = await lmx.openai.responses.inputItems.list(third.id, { order: 'asc' });
    const kinds = items.data.map((item) => (item.type === 'message' ? `${item.role}` : item.type));
    expect(kinds).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    const page = await lmx.openai.responses.inputItems.list(third.id, { order: 'asc', limit: 2 });
    expect(page.data.map((item) => item.id)).toEqual(items.data.slice(0, 2).map((item) => item.id));
    expect(page.has_more).toBe(true);
  });
});

describe('errors', () => {
  it('refuses an unknown input item type, naming it and its place', async () => {
    const error = await refusal(
      lmx.openai.responses.create({
        model,
        input: [{ type: 'computer_call_output', call_id: 'x', output: {} } as never],
      }),
    );
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/'computer_call_output'/);
    expect(error.param).toBe('input[0].type');
  });

  it('refuses a built-in tool, naming it', async () => {
    const error = await refusal(
      lmx.openai.responses.create({ model, input: 'x', tools: [{ type: 'web_search' }] }),
    );
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/'web_search'/);
    expect(error.param).toBe('tools[0].type');
  });

  it('answers 404 to an unknown previous_response_id, as OpenAI does', async () => {
    const error = await refusal(
      lmx.openai.responses.create({ model, input: 'x', previous_response_id: 'resp_nothing' }),
    );
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.param).toBe('previous_response_id');
    expect(error.code).toBe('previous_response_not_found');
  });

  it('refuses an image part saying the model cannot take it', async () => {
    const error = await refusal(
      lmx.openai.responses.create({
        model,
        input: [
          {
            role: 'user',
            content: [{ type: 'input_image', image_url: 'data:image/png;base64,AA==', detail: 'auto' }],
          },
        ],
      }),
    );
    expect(error.message).toMatch(/cannot take input_image/);
    expect(error.param).toBe('input[0].content[0]');
  });

  it('refuses an unknown top-level parameter and a stream for a missing model in OpenAI shape', async () => {
    const unknown = await refusal(lmx.openai.responses.create({ model, input: 'x', frobnicate: 1 } as never));
    expect(unknown.status).toBe(400);
    expect(unknown.param).toBe('frobnicate');
    const missing = await refusal(
      lmx.openai.responses.create({ model: 'no-such-model', input: 'x', stream: true }),
    );
    expect(missing.status).toBe(404);
  });
});
