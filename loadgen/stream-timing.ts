import type { RequestRecord } from './types.ts';

/** What one parsed SSE `data:` object contributed. */
export interface ChunkContent {
  /** Text of the first choice: chat `delta.content` or completions `text`; '' for role-only chunks. */
  text: string;
  usage?: { completionTokens?: number; promptTokens?: number };
  /** A mid-stream error object, as OpenAI-compatible servers send one after the headers went out. */
  error?: { message: string; code?: string };
}

type TimingFields = Pick<
  RequestRecord,
  'ttftMs' | 'interTokenMs' | 'tpotMs' | 'outputTokens' | 'tokenSource' | 'promptTokens' | 'chunkOffsetsMs'
>;

/**
 * Attributes times to the tokens of one streamed response. TTFT is the first chunk that carries
 * content — servers open with a role-only chunk as soon as a request is admitted, before any token
 * exists, and counting that would flatter them. Inter-token latencies are gaps between content chunks.
 * Token count: the server's `usage` when it sends one (a chunk may hold several tokens), else chunks.
 */
export class StreamTimer {
  readonly #chunkOffsets: number[] = [];
  #usageTokens: number | undefined;
  #promptTokens: number | undefined;

  /** @param sentAt when the request was sent, on the same clock as the `at` values given later */
  constructor(private readonly sentAt: number) {}

  get contentChunks(): number {
    return this.#chunkOffsets.length;
  }

  onChunk(content: ChunkContent, at: number): void {
    if (content.text.length > 0) this.#chunkOffsets.push(at - this.sentAt);
    if (content.usage?.completionTokens !== undefined) this.#usageTokens = content.usage.completionTokens;
    if (content.usage?.promptTokens !== undefined) this.#promptTokens = content.usage.promptTokens;
  }

  /** The timing fields of the record, for a response that ended at `endedAt`. */
  finish(endedAt: number): TimingFields {
    const offsets = this.#chunkOffsets;
    const ttftMs = offsets[0];
    const interTokenMs = offsets.slice(1).map((offset, index) => offset - (offsets[index] as number));
    const outputTokens = this.#usageTokens ?? offsets.length;
    const latencyMs = endedAt - this.sentAt;
    const tpotMs =
      ttftMs !== undefined && outputTokens > 1 ? (latencyMs - ttftMs) / (outputTokens - 1) : undefined;
    return {
      ttftMs,
      interTokenMs,
      tpotMs,
      outputTokens,
      tokenSource: this.#usageTokens === undefined ? 'chunks' : 'usage',
      promptTokens: this.#promptTokens,
      chunkOffsetsMs: [...offsets],
    };
  }
}

/** Reads the parts of an OpenAI chat or completions chunk the timer needs; tolerant of other shapes. */
export function readChunk(data: unknown): ChunkContent {
  if (!isObject(data)) return { text: '' };
  const result: ChunkContent = { text: '' };
  if (isObject(data.error)) {
    result.error = {
      message: typeof data.error.message === 'string' ? data.error.message : 'error in stream',
      code: typeof data.error.code === 'string' ? data.error.code : undefined,
    };
  }
  const choice = Array.isArray(data.choices) ? (data.choices[0] as unknown) : undefined;
  if (isObject(choice)) {
    if (isObject(choice.delta) && typeof choice.delta.content === 'string')
      result.text = choice.delta.content;
    else if (typeof choice.text === 'string') result.text = choice.text;
  }
  if (isObject(data.usage)) {
    result.usage = {
      completionTokens: numberOrUndefined(data.usage.completion_tokens),
      promptTokens: numberOrUndefined(data.usage.prompt_tokens),
    };
  }
  return result;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
