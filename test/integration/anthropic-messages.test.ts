// Anthropic's Messages API through the official @anthropic-ai/sdk against a real server on loopback and a
// random-weight model whose GGUF carries a ChatML template. Random weights never choose to call a tool or
// write JSON: what these tests see of tools comes from the grammar.
import Anthropic from '@anthropic-ai/sdk';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { weatherParameters } from '../fixtures/weather-tool.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let lmx: TestServer;
let model: string;
let client: Anthropic;
const apiKey = 'sk-anthropic-dialect-test';

beforeAll(async () => {
  const file = await ensureGeneratedModel('tiny', { chatTemplate: true });
  lmx = await startTestServer({ startupModels: [file], parallel: 2, contextSize: 2048, apiKey });
  model = (await lmx.openai.models.list()).data[0]!.id;
  // This SDK sends apiKey as a bearer token; the x-api-key header is tested below.
  client = new Anthropic({ baseURL: lmx.url, apiKey, maxRetries: 0 });
});
afterAll(async () => lmx?.stop());

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: weatherParameters,
};
const validateWeather = new Ajv().compile(weather.input_schema);

/** The error a call throws, as the SDK types it. */
async function failure(call: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Anthropic.APIError);
  return error as InstanceType<typeof Anthropic.APIError>;
}

describe('messages.create', () => {
  it('answers a message with text content, max_tokens stop reason and Anthropic usage', async () => {
    // Asserts: the Message shape (id, type, role, content blocks, stop_reason, usage) with a system prompt
    // given as text blocks carrying cache_control, which is accepted.
    const message = await client.messages.create({
      model,
      max_tokens: 5,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Hello' }],
      metadata: { user_id: 'u1' },
    });
    expect(message.id).toMatch(/^msg_/);
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.model).toBe(model);
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.stop_sequence).toBeNull();
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect((message.content[0] as Anthropic.TextBlock).text.length).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBe(5);
    expect(message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0)).toBeGreaterThan(5);
  });

  it('reports the prompt cache as cache_read_input_tokens when a conversation goes on', async () => {
    // Asserts: turn two starts with turn one's prompt, so the sequence's cached tokens are read, not evaluated.
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'Tell me a story about a cat who lives in a lighthouse by the sea.' },
    ];
    const first = await client.messages.create({ model, max_tokens: 4, messages });
    messages.push({ role: 'assistant', content: first.content as Anthropic.TextBlockParam[] });
    messages.push({ role: 'user', content: 'And then?' });
    const second = await client.messages.create({ model, max_tokens: 4, messages });
    expect(second.usage.cache_read_input_tokens).toBeGreaterThan(10);
    const whole = await client.messages.countTokens({ model, messages });
    expect(second.usage.input_tokens + second.usage.cache_read_input_tokens!).toBe(whole.input_tokens);
  });

  it('stops at a stop sequence and names it', async () => {
    // Asserts: random text holds an 'e' within 200 tokens; the text ends before it; stop_reason stop_sequence.
    const message = await client.messages.create({
      model,
      max_tokens: 200,
      stop_sequences: ['e'],
      messages: [{ role: 'user', content: 'Write.' }],
    });
    expect(message.stop_reason).toBe('stop_sequence');
    expect(message.stop_sequence).toBe('e');
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    expect(text).not.toContain('e');
  });

  it('takes temperature, top_p, top_k and thinking disabled; headers Claude Code sends are accepted', async () => {
    const message = await client.messages.create(
      {
        model,
        max_tokens: 3,
        messages: [{ role: 'user', content: 'Hi' }],
        thinking: { type: 'disabled' },
        ...({ temperature: 0, top_p: 0.9, top_k: 20 } as object),
      },
      { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31,context-management-2025-06-27' } },
    );
    expect(message.stop_reason).toBe('max_tokens');
  });

  it('answers POST /v1/messages?beta=true, as Claude Code sends it', async () => {
    const message = await client.beta.messages.create({
      model,
      max_tokens: 2,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(message.type).toBe('message');
  });
});

describe('what agents send back', () => {
  it('takes a Claude Code-shaped request: cached system blocks, tools with $schema, beta fields, thinking sent back', async () => {
    // Asserts: the blocks and fields an agent's second turn carries are accepted (thinking with its
    // signature, redacted_thinking, tool_result with is_error, a system role in messages, cache_control on
    // blocks and tools, context_management, metadata), streamed as Claude Code asks.
    const tool = {
      ...weather,
      input_schema: { $schema: 'http://json-schema.org/draft-07/schema#', ...weather.input_schema },
      cache_control: { type: 'ephemeral' as const },
    };
    const stream = client.beta.messages.stream(
      {
        model,
        max_tokens: 4,
        system: [
          { type: 'text', text: 'You are an agent.' },
          { type: 'text', text: 'Use tools.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [
          {
            role: 'user',
            content: [{ type: 'text', text: 'Weather?', cache_control: { type: 'ephemeral' } }],
          },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'The user wants weather.', signature: 'sig' },
              { type: 'redacted_thinking', data: 'opaque' },
              { type: 'text', text: 'Let me look.' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Rome', days: 1 } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: 'unavailable', is_error: true },
              { type: 'text', text: 'Try again later.' },
            ],
          },
        ],
        tools: [tool],
        metadata: { user_id: 'user_abc_account__session_1' },
        ...({ context_management: { edits: [] }, temperature: 1 } as object),
      },
      { headers: { 'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14' } },
    );
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('max_tokens');
  });
});

describe('messages.stream', () => {
  it('streams text deltas that the SDK assembles into the final message', async () => {
    // Asserts: message_start … message_stop in the order the SDK's accumulator accepts; the text events
    // add up to the final text; the final usage comes from message_delta.
    const stream = client.messages.stream({
      model,
      max_tokens: 8,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    const events: string[] = [];
    let streamed = '';
    stream.on('streamEvent', (event) => events.push(event.type));
    stream.on('text', (text) => (streamed += text));
    const final = await stream.finalMessage();
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    expect(events).toContain('content_block_start');
    expect(events).toContain('content_block_delta');
    expect(events.at(-2)).toBe('message_delta');
    expect(final.stop_reason).toBe('max_tokens');
    expect(final.usage.output_tokens).toBe(8);
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    expect(await stream.finalText()).toBe(streamed);
    expect(streamed.length).toBeGreaterThan(0);
  });

  it('sends the event names and a ping on the wire', async () => {
    const response = await fetch(`${lmx.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model,
        max_tokens: 2,
        stream: true,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const wire = await response.text();
    expect(wire).toMatch(/^event: message_start\ndata: \{"type":"message_start"/);
    expect(wire).toContain('event: ping\ndata: {"type":"ping"}');
    expect(wire).toMatch(/event: message_stop\ndata: \{"type":"message_stop"\}\n\n$/);
    expect(wire).not.toContain('[DONE]');
  });
});

describe('tools', () => {
  it('a forced tool_use → tool_result → answer loop, not streamed', async () => {
    // Asserts: tool_choice any gives a schema-valid tool_use block with stop_reason tool_use; sending it
    // back with its tool_result yields an answer that is not another call.
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const call = await client.messages.create({
      model,
      max_tokens: 64,
      messages,
      tools: [weather],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    expect(call.stop_reason).toBe('tool_use');
    const toolUse = call.content.find((block) => block.type === 'tool_use')!;
    expect(toolUse.name).toBe('get_weather');
    expect(validateWeather(toolUse.input)).toBe(true);

    messages.push({ role: 'assistant', content: call.content as Anthropic.ContentBlockParam[] });
    messages.push({
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: toolUse.id,
          content: [{ type: 'text', text: '{"celsius": 21}' }],
        },
      ],
    });
    const answer = await client.messages.create({ model, max_tokens: 6, messages, tools: [weather] });
    expect(answer.stop_reason).not.toBe('tool_use');
    expect(answer.content.every((block) => block.type === 'text')).toBe(true);
  });

  it('a named tool streamed as input_json_delta, assembled by the SDK', async () => {
    const stream = client.messages.stream({
      model,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weather],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    let json = '';
    stream.on('inputJson', (delta) => (json += delta));
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const toolUse = final.content.find((block) => block.type === 'tool_use')!;
    expect(toolUse.id.length).toBeGreaterThan(0);
    expect(validateWeather(toolUse.input)).toBe(true);
    expect(JSON.parse(json)).toEqual(toolUse.input);
  });

  it('tool_choice none declares the tools but never calls one', async () => {
    const message = await client.messages.create({
      model,
      max_tokens: 4,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weather],
      tool_choice: { type: 'none' },
    });
    expect(message.stop_reason).toBe('max_tokens');
  });

  it('structured output: output_config.format answers JSON valid against the schema', async () => {
    const message = await client.messages.create({
      model,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Weather as JSON' }],
      output_config: { format: { type: 'json_schema', schema: weather.input_schema } },
    });
    const text = (message.content[0] as Anthropic.TextBlock).text;
    expect(validateWeather(JSON.parse(text))).toBe(true);
  });
});

describe('auth and models', () => {
  it('takes the key as x-api-key (as Claude Code and older SDKs send it) or as a bearer token; a wrong one is a 401', async () => {
    const asHeader = new Anthropic({
      baseURL: lmx.url,
      apiKey: null,
      authToken: null,
      defaultHeaders: { 'x-api-key': apiKey },
      maxRetries: 0,
    });
    expect(
      (await asHeader.messages.create({ model, max_tokens: 1, messages: [{ role: 'user', content: 'Hi' }] }))
        .type,
    ).toBe('message');
    const bearer = new Anthropic({ baseURL: lmx.url, apiKey: null, authToken: apiKey, maxRetries: 0 });
    const message = await bearer.messages.create({
      model,
      max_tokens: 1,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(message.type).toBe('message');
    const wrong = new Anthropic({ baseURL: lmx.url, apiKey: 'wrong-key', maxRetries: 0 });
    const error = await failure(
      wrong.messages.create({ model, max_tokens: 1, messages: [{ role: 'user', content: 'Hi' }] }),
    );
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(error.type).toBe('authentication_error');
    expect(
      (await failure(wrong.messages.countTokens({ model, messages: [{ role: 'user', content: 'Hi' }] })))
        .status,
    ).toBe(401);
  });

  it("lists and retrieves models through the SDK's models API (GET /v1/models keeps OpenAI's shape)", async () => {
    const listed: Anthropic.ModelInfo[] = [];
    for await (const info of client.models.list()) listed.push(info);
    expect(listed.map((info) => info.id)).toEqual([model]);
    expect(listed[0]).toMatchObject({ type: 'model', display_name: model });
    expect(Date.parse(listed[0]!.created_at)).toBeGreaterThan(0);
    expect((await client.models.retrieve(model)).id).toBe(model);
  });
});

describe('count_tokens', () => {
  it('counts the prompt as generation evaluates it, tools included', async () => {
    // Asserts: on a fresh prompt, count_tokens equals the usage of a create with the same messages;
    // declaring a tool adds its documentation to the prompt.
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: `A fresh prompt ${Math.random()} to count` },
    ];
    const counted = await client.messages.countTokens({ model, messages, system: 'Be brief.' });
    const created = await client.messages.create({ model, max_tokens: 1, messages, system: 'Be brief.' });
    expect(created.usage.input_tokens + created.usage.cache_read_input_tokens!).toBe(counted.input_tokens);
    const withTools = await client.messages.countTokens({
      model,
      messages,
      system: 'Be brief.',
      tools: [weather],
    });
    expect(withTools.input_tokens).toBeGreaterThan(counted.input_tokens);
  });
});

describe('errors in Anthropic shape', () => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${lmx.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey, ...headers },
      body: JSON.stringify(body),
    });
  const errorOf = async (response: Response) => {
    const body = (await response.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(Object.keys(body.error).sort()).toEqual(['message', 'type']);
    return body.error;
  };

  it('missing max_tokens is a 400 invalid_request_error naming it', async () => {
    const error = await failure(
      client.messages.create({ model, messages: [{ role: 'user', content: 'Hi' }] } as never),
    );
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toMatch(/max_tokens/);
  });

  it('an image block is a 400 saying the model reads text only, with its path', async () => {
    const error = await failure(
      client.messages.create({
        model,
        max_tokens: 2,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } },
            ],
          },
        ],
      }),
    );
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.message).toMatch(/messages\.0\.content\.1: this model cannot take image content/);
  });

  it('an unknown block type, a misplaced block and a bad block field are 400s naming the block', async () => {
    const cases: [unknown[], RegExp][] = [
      [[{ type: 'hologram', text: 'x' }], /messages\.0\.content\.0\.type: content block type 'hologram'/],
      [
        [{ type: 'tool_use', id: 'a', name: 'b', input: {} }],
        /messages\.0\.content\.0: a tool_use block cannot be in a user message/,
      ],
      [[{ type: 'text', text: 7 }], /messages\.0\.content\.0\.text/],
    ];
    for (const [content, message] of cases) {
      const response = await post('/v1/messages', {
        model,
        max_tokens: 2,
        messages: [{ role: 'user', content }],
      });
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toMatch(message);
    }
  });

  it("refuses Anthropic's built-in tools and parameters that would change the answer", async () => {
    const builtIn = await post('/v1/messages', {
      model,
      max_tokens: 2,
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [{ type: 'web_search_20250305', name: 'web_search' }],
    });
    expect(builtIn.status).toBe(400);
    expect((await errorOf(builtIn)).message).toMatch(/built-in tool 'web_search_20250305'/);
    const mcp = await post('/v1/messages', {
      model,
      max_tokens: 2,
      messages: [{ role: 'user', content: 'Hi' }],
      mcp_servers: [{ type: 'url', url: 'http://127.0.0.1:1', name: 'x' }],
    });
    expect(mcp.status).toBe(400);
    expect((await errorOf(mcp)).message).toMatch(/mcp_servers/);
  });

  it('a tool schema keyword the grammar cannot enforce is a 400 naming it where it sits', async () => {
    const error = await failure(
      client.messages.create({
        model,
        max_tokens: 2,
        messages: [{ role: 'user', content: 'Hi' }],
        tools: [
          weather,
          {
            name: 'grep',
            input_schema: { type: 'object', properties: { q: { type: 'string', pattern: '^a' } } },
          },
        ],
      }),
    );
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.message).toMatch(/'pattern' \(at tools\.1\.input_schema\/properties\/q\/pattern\)/);
  });

  it('an unknown model is a 404 not_found_error; an unknown path under /v1/messages too', async () => {
    const error = await failure(
      client.messages.create({
        model: 'no-such-model',
        max_tokens: 2,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    );
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect(error.type).toBe('not_found_error');
    const unknown = await post('/v1/messages/batches', {});
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).type).toBe('not_found_error');
  });

  it('a body past the limit is a 413 request_too_large', async () => {
    const response = await post('/v1/messages', {
      model,
      max_tokens: 2,
      messages: [{ role: 'user', content: 'x'.repeat(5_000_000) }],
    });
    expect(response.status).toBe(413);
    expect((await errorOf(response)).type).toBe('request_too_large');
  });
});
