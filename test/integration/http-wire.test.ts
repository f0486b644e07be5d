import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { collectUntilClosed, openRaw, parseFirstResponse, rawRequest } from '../helpers/raw-http.ts';
import {
  makeDataDir,
  smallServerArgs,
  spawnServer,
  startTestServer,
  type ServerProcess,
  type TestServer,
} from '../helpers/server.ts';

// Issue 13, findings 8, 12, 13, 14 and 16: what happens on the wire, before and around the routes.
let lmx: TestServer;
let model: string;

beforeAll(async () => {
  lmx = await startTestServer({
    startupModels: [await testModelPath()],
    http: {
      headersTimeoutMs: 500,
      requestTimeoutMs: 3000,
      bodyIdleTimeoutMs: 500,
      stalledWriteTimeoutMs: 500,
    },
  });
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

function expectOpenAiError(body: unknown, code: string) {
  const error = (body as { error: Record<string, unknown> }).error;
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(error).toMatchObject({ type: 'invalid_request_error', code });
}

describe('timeouts of requests that do not arrive (finding 8)', () => {
  it('headers never completed: 408 in OpenAI shape, connection closed', async () => {
    const exchange = await rawRequest(lmx.url, 'GET /healthz HTTP/1.1\r\nHost: lmx\r\n', 10_000);
    expect(exchange.closedByServer).toBe(true);
    const response = parseFirstResponse(exchange.received);
    expect(response.status).toBe(408);
    expectOpenAiError(response.body, 'request_timeout');
  });

  it('a declared body never sent: 408, connection closed', async () => {
    const exchange = await rawRequest(
      lmx.url,
      'POST /v1/chat/completions HTTP/1.1\r\nHost: lmx\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mo',
      10_000,
    );
    expect(exchange.closedByServer).toBe(true);
    const response = parseFirstResponse(exchange.received);
    expect(response.status).toBe(408);
    expectOpenAiError(response.body, 'request_timeout');
    // Cut by the body-idle timeout, well before the whole-request one.
    expect((response.body as { error: { message: string } }).error.message).toMatch(/stopped arriving/);
  });

  it('a body trickling in a byte at a time is cut by the request timeout', async () => {
    const socket = await openRaw(lmx.url);
    const collected = collectUntilClosed(socket, 15_000);
    socket.write(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: lmx\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
    );
    let closed = false;
    void collected.then(() => (closed = true));
    // Always faster than the body-idle timeout; bounded in count.
    for (let i = 0; i < 100 && !closed && !socket.destroyed; i++) {
      socket.write(' ');
      await sleep(100);
    }
    const exchange = await collected;
    expect(exchange.closedByServer).toBe(true);
    expect(parseFirstResponse(exchange.received).status).toBe(408);
  });
});

describe('a streamed answer and Connection: close (finding 12)', () => {
  it('the server closes the connection when the stream ends', async () => {
    const body = JSON.stringify({
      model,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
      stream: true,
    });
    const exchange = await rawRequest(
      lmx.url,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: lmx\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      15_000,
    );
    expect(exchange.received).toContain('data: [DONE]');
    expect(exchange.received.toLowerCase()).not.toContain('connection: keep-alive');
    expect(exchange.closedByServer).toBe(true);
  });
});

describe("errors raised before a route runs, in OpenAI's shape (finding 13)", () => {
  const cases: [string, string, number, string][] = [
    [
      'a URL that does not decode (FST_ERR_BAD_URL)',
      'GET /v1/models/% HTTP/1.1\r\nHost: lmx\r\nConnection: close\r\n\r\n',
      400,
      'invalid_url',
    ],
    [
      'a model id over the parameter limit',
      `GET /v1/models/${'a'.repeat(150)} HTTP/1.1\r\nHost: lmx\r\nConnection: close\r\n\r\n`,
      414,
      'uri_too_long',
    ],
    ["a request Node's parser refuses", 'GARBAGE\r\n\r\n', 400, 'bad_request'],
    [
      'headers over the size limit',
      `GET /healthz HTTP/1.1\r\nHost: lmx\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      431,
      'request_header_fields_too_large',
    ],
    [
      'an Expect the server cannot meet',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: lmx\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}',
      417,
      'expectation_failed',
    ],
  ];
  it.each(cases)('%s', async (_name, request, status, code) => {
    const response = parseFirstResponse((await rawRequest(lmx.url, request, 10_000)).received);
    expect(response.status).toBe(status);
    expectOpenAiError(response.body, code);
  });
});

describe('a body over the limit (finding 14)', () => {
  // In its own process: a client and server sharing one event loop never race, and the reset never shows.
  let spawned: ServerProcess;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await makeDataDir();
    // No load shedding: a busy shared machine would answer 503 before the body is looked at.
    spawned = await spawnServer(smallServerArgs(dataDir, 'lmx-test-admin-key-0123456789'), {
      LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0',
    });
  });
  afterAll(async () => {
    spawned?.child.kill('SIGKILL');
    await spawned?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('every client gets the 413 body, none a reset', async () => {
    // Over the default 4 MiB limit.
    const body = JSON.stringify({ model: 'm', prompt: 'x'.repeat(5 * 1024 * 1024) });
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      try {
        const response = await fetch(`${spawned.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const answer = (await response.json()) as { error: { code: string } };
        outcomes.push(`${response.status} ${answer.error.code}`);
      } catch (error) {
        outcomes.push(String((error as Error).cause ?? error));
      }
    }
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => '413 request_too_large'));
  });
});

describe('a client that stops reading (finding 16)', () => {
  it('has its connection closed instead of holding its buffered answers', async () => {
    const socket = await openRaw(lmx.url);
    socket.pause();
    // Pipelined requests whose answers far exceed what the socket buffers hold.
    const requests = 4000;
    socket.write('GET /metrics HTTP/1.1\r\nHost: lmx\r\n\r\n'.repeat(requests));
    // Long enough for the server to fill the socket's buffers and then wait on the client, even on a busy machine.
    await sleep(8000);
    const collected = collectUntilClosed(socket, 30_000);
    socket.resume();
    const exchange = await collected;
    expect(exchange.closedByServer).toBe(true);
    const answered = exchange.received.split('HTTP/1.1 200 OK').length - 1;
    expect(answered).toBeLessThan(requests);
  }, 120_000);
});
