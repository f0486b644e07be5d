import { createParser } from 'eventsource-parser';
import { classifyHttpError, classifyThrown } from './classify.ts';
import type { BenchPrompt } from './prompts.ts';
import { readChunk, StreamTimer } from './stream-timing.ts';
import { authHeaders, type BenchTarget } from './target.ts';
import type { Outcome, RequestRecord } from './types.ts';

export type Endpoint = 'chat' | 'completions';

export interface RequestSpec {
  target: BenchTarget;
  model: string;
  prompt: BenchPrompt;
  endpoint: Endpoint;
  maxTokens: number;
  /** Send `ignore_eos: true` (LMX, llama.cpp, vLLM); opt-in, as other servers may refuse it. */
  ignoreEos: boolean;
  /** Sampling temperature to send; undefined: the server's default. */
  temperature?: number;
  /** Ask for `usage` in the stream (stream_options.include_usage). */
  includeUsage: boolean;
  timeoutMs: number;
  step: string;
  /** performance.now() at the start of the run: records carry offsets from it. */
  runStartedAt: number;
  /** Aborts the request when the whole run is cancelled. */
  signal?: AbortSignal;
}

export function requestBody(spec: RequestSpec): Record<string, unknown> {
  return {
    model: spec.model,
    ...(spec.endpoint === 'chat' ? { messages: spec.prompt.messages } : { prompt: spec.prompt.text }),
    max_tokens: spec.maxTokens,
    ...(spec.temperature === undefined ? {} : { temperature: spec.temperature }),
    stream: true,
    ...(spec.includeUsage ? { stream_options: { include_usage: true } } : {}),
    ...(spec.ignoreEos ? { ignore_eos: true } : {}),
  };
}

/** Sends one streaming request and measures it. Never throws: failures are outcomes. */
export async function runStreamingRequest(spec: RequestSpec): Promise<RequestRecord> {
  // AbortSignal.timeout takes whole milliseconds only.
  const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(spec.timeoutMs)));
  const signal = spec.signal ? AbortSignal.any([timeout, spec.signal]) : timeout;
  const path = spec.endpoint === 'chat' ? '/chat/completions' : '/completions';
  const sentAt = performance.now();
  const timer = new StreamTimer(sentAt);
  const record = (outcome: Outcome): RequestRecord => {
    const endedAt = performance.now();
    return {
      target: spec.target.label,
      step: spec.step,
      model: spec.model,
      startMs: sentAt - spec.runStartedAt,
      latencyMs: endedAt - sentAt,
      ...timer.finish(endedAt),
      outcome,
    };
  };
  try {
    const response = await fetch(`${spec.target.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...authHeaders(spec.target),
      },
      body: JSON.stringify(requestBody(spec)),
      signal,
    });
    if (!response.ok || response.body === null) {
      return record(classifyHttpError(response.status, await response.text()));
    }
    let done = false;
    let streamError: Outcome | undefined;
    const parser = createParser({
      onEvent(event) {
        if (event.data === '[DONE]') {
          done = true;
          return;
        }
        let data: unknown;
        try {
          data = JSON.parse(event.data);
        } catch {
          streamError ??= { class: 'error', status: response.status, code: 'bad_chunk', message: event.data };
          return;
        }
        const chunk = readChunk(data);
        if (chunk.error) {
          streamError ??= {
            class: 'error',
            status: response.status,
            code: chunk.error.code ?? 'stream_error',
            message: chunk.error.message,
          };
        }
        timer.onChunk(chunk, performance.now());
      },
    });
    const decoder = new TextDecoder();
    for await (const bytes of response.body) parser.feed(decoder.decode(bytes, { stream: true }));
    if (streamError) return record(streamError);
    if (!done) {
      return record({
        class: 'error',
        status: response.status,
        code: 'stream_truncated',
        message: 'no [DONE]',
      });
    }
    return record({ class: 'ok', status: response.status });
  } catch (error) {
    return record(classifyThrown(error, timeout.aborted));
  }
}
