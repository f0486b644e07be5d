// The request side of the load generator against a scripted loopback HTTP server: SSE timing
// attribution over a real socket, and how each kind of failure is classified.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyHttpError, classifyThrown } from '../../loadgen/classify.ts';
import { builtInPrompts } from '../../loadgen/prompts.ts';
import { requestBody, runStreamingRequest, type RequestSpec } from '../../loadgen/stream-request.ts';

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;
const handlers = new Map<string, Handler>();
let server: Server;
let root: string;
const timers = new Set<NodeJS.Timeout>();

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });

const sse = (response: ServerResponse, data: unknown) =>
  response.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
const delta = (content: string, role = false) => ({
  choices: [{ index: 0, delta: role ? { role: 'assistant', content } : { content }, finish_reason: null }],
});

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const name = request.url?.split('/')[1] ?? '';
      const handler = handlers.get(name);
      if (handler) handler(request, response, body);
      else response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const timer of timers) clearTimeout(timer);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function spec(name: string, overrides: Partial<RequestSpec> = {}): RequestSpec {
  return {
    target: { label: 'A', baseUrl: `${root}/${name}`, apiKey: 'secret' },
    model: 'm',
    prompt: builtInPrompts('short')[0]!,
    endpoint: 'chat',
    maxTokens: 8,
    ignoreEos: false,
    includeUsage: true,
    timeoutMs: 10_000,
    step: 's',
    runStartedAt: performance.now(),
    ...overrides,
  };
}

describe('runStreamingRequest', () => {
  it('measures TTFT from the first content token even when the role chunk comes at once', async () => {
    let seenBody: Record<string, unknown> = {};
    let seenAuth: string | undefined;
    handlers.set('slowfirst', (request, response, body) => {
      seenBody = JSON.parse(body) as Record<string, unknown>;
      seenAuth = request.headers.authorization;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      sse(response, delta('', true));
      void (async () => {
        await sleep(300);
        sse(response, delta('Once'));
        await sleep(100);
        sse(response, delta(' upon'));
        sse(response, { choices: [{ index: 0, delta: {}, finish_reason: 'length' }] });
        sse(response, { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } });
        response.end('data: [DONE]\n\n');
      })();
    });
    const record = await runStreamingRequest(spec('slowfirst'));
    expect(record.outcome).toEqual({ class: 'ok', status: 200 });
    // The role chunk left at once; counting it would give a TTFT near 0.
    expect(record.ttftMs).toBeGreaterThanOrEqual(290);
    expect(record.interTokenMs).toHaveLength(1);
    expect(record.interTokenMs[0]).toBeGreaterThanOrEqual(90);
    expect(record.outputTokens).toBe(2);
    expect(record.tokenSource).toBe('usage');
    expect(seenAuth).toBe('Bearer secret');
    expect(seenBody).toMatchObject({
      model: 'm',
      stream: true,
      max_tokens: 8,
      stream_options: { include_usage: true },
    });
    expect(seenBody).not.toHaveProperty('ignore_eos');
  });

  it('sends ignore_eos only when asked, and the prompt text to /completions', () => {
    expect(requestBody(spec('x', { ignoreEos: true }))).toHaveProperty('ignore_eos', true);
    const completion = requestBody(spec('x', { endpoint: 'completions', includeUsage: false }));
    expect(completion).toHaveProperty('prompt');
    expect(completion).not.toHaveProperty('messages');
    expect(completion).not.toHaveProperty('stream_options');
  });

  it("sends a temperature only when one is set (otherwise the server's default applies)", () => {
    expect(requestBody(spec('x', { temperature: 0 }))).toHaveProperty('temperature', 0);
    expect(requestBody(spec('x'))).not.toHaveProperty('temperature');
  });

  it('classifies 429, 503 and other statuses with their OpenAI error codes', async () => {
    const answer = (status: number, code: string) => (_: IncomingMessage, response: ServerResponse) =>
      response
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: `no: ${code}`, type: 'x', code } }));
    handlers.set('full', answer(429, 'queue_full'));
    handlers.set('loading', answer(503, 'model_loading'));
    handlers.set('bad', answer(400, 'unsupported_parameter'));
    handlers.set('broken', (_, response) => response.writeHead(500).end('oops'));
    const [full, loading, bad, broken] = await Promise.all(
      ['full', 'loading', 'bad', 'broken'].map((name) => runStreamingRequest(spec(name))),
    );
    expect(full?.outcome).toMatchObject({ class: 'rate_limited', status: 429, code: 'queue_full' });
    expect(loading?.outcome).toMatchObject({ class: 'unavailable', status: 503, code: 'model_loading' });
    expect(bad?.outcome).toMatchObject({ class: 'error', status: 400, code: 'unsupported_parameter' });
    expect(broken?.outcome).toMatchObject({ class: 'error', status: 500, message: 'oops' });
    expect(full?.ttftMs).toBeUndefined();
  });

  it('classifies our own deadline as a client timeout', async () => {
    handlers.set('stall', (_, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      sse(response, delta('', true)); // and then nothing
    });
    const record = await runStreamingRequest(spec('stall', { timeoutMs: 200 }));
    expect(record.outcome).toMatchObject({ class: 'timeout', code: 'client_timeout' });
  });

  it('classifies a refused connection, a mid-stream error and a cut stream as errors', async () => {
    handlers.set('midstream', (_, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      sse(response, delta('a'));
      sse(response, { error: { message: 'Generation failed.', type: 'server_error', code: null } });
      response.end('data: [DONE]\n\n');
    });
    handlers.set('cut', (_, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      sse(response, delta('a'));
      response.end();
    });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const refused = await runStreamingRequest({
      ...spec('x'),
      target: { label: 'A', baseUrl: `http://127.0.0.1:${closedPort}/v1` },
    });
    expect(refused.outcome).toMatchObject({ class: 'error', code: 'ECONNREFUSED' });
    expect((await runStreamingRequest(spec('midstream'))).outcome).toMatchObject({
      class: 'error',
      code: 'stream_error',
      message: 'Generation failed.',
    });
    expect((await runStreamingRequest(spec('cut'))).outcome).toMatchObject({
      class: 'error',
      code: 'stream_truncated',
    });
  });
});

describe('classify', () => {
  it('keeps a non-JSON body as the message', () => {
    expect(classifyHttpError(502, '<html>bad gateway</html>')).toEqual({
      class: 'error',
      status: 502,
      message: '<html>bad gateway</html>',
    });
  });

  it('tells a client timeout from other thrown errors', () => {
    expect(classifyThrown(new DOMException('t', 'TimeoutError'), false).class).toBe('timeout');
    expect(classifyThrown(new Error('aborted'), true).class).toBe('timeout');
    expect(
      classifyThrown(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }), false),
    ).toMatchObject({
      class: 'error',
      code: 'ECONNRESET',
    });
  });
});
