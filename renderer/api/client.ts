import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type {
  ClusterView,
  ConfigPatch,
  ConfigResponse,
  DownloadJob,
  HealthReport,
  LoadOptions,
  ModelEntry,
  OpenAiErrorBody,
  ServerEvent,
  ServerEvents,
  ServerState,
} from './types.ts';

/** A failed call: the server's OpenAI-shaped error, or status 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly type: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed';

export interface EventHandlers {
  onEvent(event: ServerEvent): void;
  onConnection?(state: ConnectionState): void;
}

export interface ChatStreamRequest {
  model: string;
  prompt: string;
  maxTokens?: number;
  signal?: AbortSignal;
  onText(text: string): void;
}

const EVENT_TYPES: ReadonlySet<string> = new Set<keyof ServerEvents>([
  'model',
  'download',
  'health',
  'state',
  'alert',
  'stats',
]);

/** Backoff between reconnects of the event feed: quick at first, then at most every 15 s. */
export const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000] as const;

/**
 * The one way the UI talks to the server: the admin API and the event feed, with the admin key as
 * bearer token, plus the OpenAI chat endpoint for "Try it".
 */
export class LmxClient {
  readonly #fetch: FetchLike;

  constructor(
    readonly baseUrl: string,
    private adminKey: string,
    // Bound explicitly: calling window.fetch as a method of another object throws "Illegal invocation".
    fetchImpl: FetchLike = (input, init) => fetch(input, init),
  ) {
    this.#fetch = fetchImpl;
  }

  get key(): string {
    return this.adminKey;
  }

  state = () => this.#json<ServerState>('GET', '/admin/state');
  health = () => this.#json<HealthReport>('GET', '/admin/health');
  models = async () => (await this.#json<{ data: ModelEntry[] }>('GET', '/admin/models')).data;
  downloads = async () => (await this.#json<{ data: DownloadJob[] }>('GET', '/admin/downloads')).data;
  config = () => this.#json<ConfigResponse>('GET', '/admin/config');
  cluster = () => this.#json<ClusterView>('GET', '/admin/cluster');

  loadModel = (model: string, options: LoadOptions = {}) =>
    this.#json<ModelEntry>('POST', '/admin/models/load', { model, ...options });
  unloadModel = (model: string) => this.#json<ModelEntry>('POST', '/admin/models/unload', { model });
  deleteModel = (model: string) => this.#json<void>('DELETE', `/admin/models/${encodeURIComponent(model)}`);
  startDownload = (uri: string) => this.#json<DownloadJob>('POST', '/admin/models/download', { uri });
  cancelDownload = (id: string) => this.#json<void>('DELETE', `/admin/downloads/${encodeURIComponent(id)}`);
  exitSafeMode = () => this.#json<{ safeMode: ServerState['safeMode'] }>('POST', '/admin/safe-mode/exit');
  updateConfig = (patch: ConfigPatch) => this.#json<ConfigResponse>('PUT', '/admin/config', patch);

  /** Rotates the admin key; this client switches to the new key at once. */
  rotateAdminKey = async (): Promise<string> => {
    const { adminKey } = await this.#json<{ adminKey: string }>('POST', '/admin/keys/rotate');
    this.adminKey = adminKey;
    return adminKey;
  };

  /**
   * Follows GET /admin/events until the returned function is called, reconnecting with backoff when
   * the stream ends or fails. A refused admin key stops it (retrying would not help).
   */
  subscribe(handlers: EventHandlers): () => void {
    const controller = new AbortController();
    void this.#followEvents(handlers, controller.signal);
    return () => controller.abort();
  }

  async #followEvents(handlers: EventHandlers, signal: AbortSignal): Promise<void> {
    let attempt = 0;
    handlers.onConnection?.('connecting');
    while (!signal.aborted) {
      try {
        const response = await this.#fetch(this.#url('/admin/events'), {
          headers: { ...this.#authHeader(), accept: 'text/event-stream' },
          signal,
          cache: 'no-store',
        });
        if (response.status === 401) {
          handlers.onConnection?.('unauthorized');
          return;
        }
        if (!response.ok || !response.body) throw await errorFromResponse(response);
        attempt = 0;
        handlers.onConnection?.('open');
        await readEvents(response.body, (message) => {
          const event = toServerEvent(message);
          if (event) handlers.onEvent(event);
        });
      } catch {
        // Network errors, a closed stream and HTTP errors all end in the same place: try again shortly.
      }
      if (signal.aborted) break;
      handlers.onConnection?.('reconnecting');
      const delay = RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)] ?? 15000;
      attempt += 1;
      await sleep(delay, signal);
    }
    handlers.onConnection?.('closed');
  }

  /** Streams a chat reply from /v1/chat/completions, calling onText for every piece of text. */
  async streamChat(request: ChatStreamRequest): Promise<void> {
    const response = await this.#send(
      'POST',
      '/v1/chat/completions',
      {
        model: request.model,
        messages: [{ role: 'user', content: request.prompt }],
        stream: true,
        max_tokens: request.maxTokens ?? 200,
      },
      request.signal,
    );
    if (!response.body) throw new ApiError(0, 'The server sent an empty reply.', 'empty_reply');
    await readEvents(response.body, (message) => {
      if (message.data === '[DONE]') return;
      const chunk = parseJson(message.data) as {
        choices?: { delta?: { content?: string } }[];
        error?: OpenAiErrorBody['error'];
      } | null;
      if (chunk?.error) throw new ApiError(500, chunk.error.message, chunk.error.code, chunk.error.type);
      const text = chunk?.choices?.[0]?.delta?.content;
      if (text) request.onText(text);
    });
  }

  async #json<T>(method: string, pathname: string, body?: unknown): Promise<T> {
    const response = await this.#send(method, pathname, body);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  async #send(method: string, pathname: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await this.#fetch(this.#url(pathname), {
        method,
        headers: {
          ...this.#authHeader(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(
        0,
        `Could not reach the LMX server at ${this.baseUrl || 'this address'}.`,
        'network_error',
      );
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  #url(pathname: string): string {
    return `${this.baseUrl.replace(/\/$/, '')}${pathname}`;
  }

  #authHeader(): Record<string, string> {
    return { authorization: `Bearer ${this.adminKey}` };
  }
}

/** Feeds a byte stream through eventsource-parser, calling onMessage for every complete event. */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  onMessage: (message: EventSourceMessage) => void,
): Promise<void> {
  let failure: unknown;
  const parser = createParser({
    onEvent: (message) => {
      if (failure !== undefined) return;
      try {
        onMessage(message);
      } catch (error) {
        failure = error;
      }
    },
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      if (failure !== undefined) throw failure;
    }
  } finally {
    reader.releaseLock();
  }
}

function toServerEvent(message: EventSourceMessage): ServerEvent | undefined {
  if (!message.event || !EVENT_TYPES.has(message.event)) return undefined;
  const data = parseJson(message.data);
  if (data === null || typeof data !== 'object') return undefined;
  return { type: message.event, data } as ServerEvent;
}

async function errorFromResponse(response: Response): Promise<ApiError> {
  const body = parseJson(await response.text().catch(() => '')) as Partial<OpenAiErrorBody> | null;
  const error = body?.error;
  if (error && typeof error.message === 'string') {
    return new ApiError(
      response.status,
      error.message,
      error.code ?? null,
      error.type ?? null,
      error.param ?? null,
    );
  }
  return new ApiError(
    response.status,
    `The server answered ${response.status} ${response.statusText}.`.trim(),
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
