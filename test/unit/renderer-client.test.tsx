// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { ApiError, LmxClient, type ConnectionState, type FetchLike } from '../../renderer/api/client.ts';
import type { ServerEvent } from '../../renderer/api/types.ts';

/** A Response whose body arrives in the given pieces (split anywhere, as a network would). */
function streamed(pieces: string[], status = 200): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
  return new Response(body, { status, headers: { 'content-type': 'text/event-stream' } });
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function recordingFetch(answer: (call: Call, index: number) => Response | Promise<Response>): {
  fetch: FetchLike;
  calls: Call[];
} {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const call = { url, init };
      calls.push(call);
      return answer(call, calls.length - 1);
    },
  };
}

describe('LmxClient requests', () => {
  it('sends the admin key as bearer token and JSON bodies', async () => {
    const { fetch, calls } = recordingFetch(() => json({ id: 'm', state: 'loading' }));
    const client = new LmxClient('http://127.0.0.1:9/', 'lmx-key-123', fetch);
    await client.loadModel('m', { contextSize: 1024 });
    expect(calls[0]?.url).toBe('http://127.0.0.1:9/admin/models/load');
    const headers = calls[0]?.init?.headers as Record<string, string>;
    expect(headers.authorization).toBe('Bearer lmx-key-123');
    expect(headers['content-type']).toBe('application/json');
    expect(JSON.parse(String(calls[0]?.init?.body))).toEqual({ model: 'm', contextSize: 1024 });
  });

  it("turns the server's OpenAI-shaped error into an ApiError with its status, code and message", async () => {
    const { fetch } = recordingFetch(() =>
      json(
        {
          error: { message: 'Model m is loaded.', type: 'conflict_error', param: null, code: 'model_loaded' },
        },
        409,
      ),
    );
    const error = await new LmxClient('', 'k', fetch).deleteModel('m').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: 'model_loaded', message: 'Model m is loaded.' });
  });

  it('reports an unreachable server as status 0', async () => {
    const client = new LmxClient('http://127.0.0.1:9', 'k', async () => {
      throw new TypeError('fetch failed');
    });
    await expect(client.state()).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('switches to the new admin key after a rotation', async () => {
    const { fetch, calls } = recordingFetch((_call, index) =>
      index === 0 ? json({ adminKey: 'lmx-new' }) : json({ data: [] }),
    );
    const client = new LmxClient('', 'lmx-old', fetch);
    expect(await client.rotateAdminKey()).toBe('lmx-new');
    await client.models();
    expect((calls[1]?.init?.headers as Record<string, string>).authorization).toBe('Bearer lmx-new');
  });
});

describe('LmxClient event feed', () => {
  it('parses events split across chunks, ignores unknown ones and reconnects when the stream ends', async () => {
    const events: ServerEvent[] = [];
    const states: ConnectionState[] = [];
    let stop = () => {};
    const done = new Promise<void>((resolve) => {
      const { fetch } = recordingFetch((_call, index) => {
        if (index === 0) {
          return streamed([
            ': ping\n\nevent: model\ndata: {"id":"a","st',
            'ate":"loaded","error":null}\n\nevent: mystery\ndata: {}\n\n',
            'event: stats\ndata: {"tokensPerSecond":12.5,"ttftMs":40,"inflight":1,"queued":0,"at":"2025-01-01T00:00:00Z"}\n\n',
          ]);
        }
        // The second connection: proof of the reconnect; stop here.
        resolve();
        return streamed([]);
      });
      stop = new LmxClient('', 'k', fetch).subscribe({
        onEvent: (event) => events.push(event),
        onConnection: (state) => states.push(state),
      });
    });
    await done;
    stop();
    expect(events).toEqual([
      { type: 'model', data: { id: 'a', state: 'loaded', error: null } },
      {
        type: 'stats',
        data: { tokensPerSecond: 12.5, ttftMs: 40, inflight: 1, queued: 0, at: '2025-01-01T00:00:00Z' },
      },
    ]);
    expect(states.slice(0, 3)).toEqual(['connecting', 'open', 'reconnecting']);
  });

  it('stops following, without retrying, when the admin key is refused', async () => {
    const { fetch, calls } = recordingFetch(() =>
      json(
        { error: { message: 'no', type: 'authentication_error', param: null, code: 'invalid_admin_key' } },
        401,
      ),
    );
    const states: ConnectionState[] = [];
    const finished = new Promise<void>((resolve) => {
      new LmxClient('', 'wrong', fetch).subscribe({
        onEvent: () => {},
        onConnection: (state) => {
          states.push(state);
          if (state === 'unauthorized') resolve();
        },
      });
    });
    await finished;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(calls).toHaveLength(1);
    expect(states).toEqual(['connecting', 'unauthorized']);
    expect((calls[0]?.init?.headers as Record<string, string>).authorization).toBe('Bearer wrong');
  });
});

describe('LmxClient chat stream', () => {
  it('hands over each piece of text and stops at [DONE]', async () => {
    const chunk = (content: string) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const { fetch, calls } = recordingFetch(() =>
      streamed([
        `data: ${JSON.stringify({ choices: [{ delta: { role: 'assistant', content: '' } }] })}\n\n`,
        chunk('Once'),
        chunk(' upon'),
        'data: [DONE]\n\n',
      ]),
    );
    const pieces: string[] = [];
    await new LmxClient('', 'k', fetch).streamChat({
      model: 'm',
      prompt: 'Hi',
      onText: (text) => pieces.push(text),
    });
    expect(pieces).toEqual(['Once', ' upon']);
    expect(calls[0]?.url).toBe('/v1/chat/completions');
    expect(JSON.parse(String(calls[0]?.init?.body))).toMatchObject({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });
});
