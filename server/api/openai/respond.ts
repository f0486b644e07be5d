import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {
  GenerationInput,
  GenerationResult,
  SamplingOptions,
  StopCause,
} from '../../engine/generation.ts';
import { ApiError } from '../../errors.ts';
import { routeLabel, type Metrics, type RejectionReason } from '../../telemetry/metrics.ts';
import { abortOnClientGone } from './client-abort.ts';
import type { InferenceRoutesOptions } from './options.ts';
import { SseStream } from './sse.ts';

/** How one OpenAI endpoint shapes its objects; chat and text completions differ only here. */
export interface ResponseShape {
  idPrefix: string;
  object: string;
  chunkObject: string;
  choice(text: string, finishReason: FinishReason): Record<string, unknown>;
  /** A streamed choice: `text` undefined for the opening chunk, `finishReason` set on the closing one. */
  chunkChoice(text: string | undefined, finishReason: FinishReason | null): Record<string, unknown>;
}

export type FinishReason = 'stop' | 'length';

/** One /v1 request's generation, as its route reads it from the body. */
export interface InferenceRequest {
  /** The model id the request names. */
  model: string;
  input: GenerationInput;
  sampling: SamplingOptions;
  stream: boolean;
  includeUsage: boolean;
}

export interface InferenceOutcome {
  model: string;
  result?: GenerationResult;
  totalMs: number;
  error?: unknown;
}

export function finishReason(cause: StopCause): FinishReason {
  return cause === 'length' || cause === 'timeout' ? 'length' : 'stop';
}

/**
 * Runs one generation for a /v1 request and answers in OpenAI's format, streamed or whole: the model
 * (loaded just in time if need be), then admission before any byte is sent, so queue_full /
 * queue_timeout are real HTTP statuses.
 */
export async function respondWithGeneration(
  request: FastifyRequest,
  reply: FastifyReply,
  shape: ResponseShape,
  inference: InferenceRequest,
  { models, context, inferenceTimeoutMs }: InferenceRoutesOptions,
): Promise<FastifyReply> {
  const model = await models.forInference(inference.model, 'chat');
  const startedAt = performance.now();
  const clientGone = abortOnClientGone(reply);
  const stopped = AbortSignal.any([clientGone.signal, context.drain.signal]);
  const base = {
    id: `${shape.idPrefix}-${randomUUID().replaceAll('-', '')}`,
    created: Math.floor(Date.now() / 1000),
    model: model.id,
    system_fingerprint: 'lmx',
  };
  let sse: SseStream | undefined;
  const usageField = inference.includeUsage ? { usage: null } : {};
  const run = model.generate(inference.input, inference.sampling, {
    signal: stopped,
    timeoutMs: inferenceTimeoutMs,
    onText: inference.stream
      ? (text) =>
          text &&
          sse?.send({
            ...base,
            object: shape.chunkObject,
            choices: [shape.chunkChoice(text, null)],
            ...usageField,
          })
      : undefined,
  });
  // A client that leaves never lets the response finish, so onResponse never counts it: count it here,
  // as 499 (client closed request).
  clientGone.signal.addEventListener('abort', () =>
    context.metrics.observeRequest(
      routeLabel(request),
      request.method,
      499,
      (performance.now() - startedAt) / 1000,
    ),
  );
  const logOutcome = (outcome: Omit<InferenceOutcome, 'model' | 'totalMs'>) =>
    recordInference(request, context.metrics, {
      model: model.id,
      totalMs: performance.now() - startedAt,
      ...outcome,
    });

  try {
    await run.admitted;
  } catch (error) {
    run.result.catch(() => undefined);
    logOutcome({ error });
    const reason = rejectionReason(error);
    if (reason) context.metrics.reject(reason);
    throw error;
  }

  if (inference.stream) {
    sse = new SseStream(reply);
    sse.send({
      ...base,
      object: shape.chunkObject,
      choices: [shape.chunkChoice(undefined, null)],
      ...usageField,
    });
  }

  let result: GenerationResult;
  try {
    result = await run.result;
  } catch (error) {
    logOutcome({ error });
    if (!sse) throw error;
    request.log.error({ err: error }, 'generation failed mid-stream');
    sse.send({ error: { message: 'Generation failed.', type: 'server_error', param: null, code: null } });
    sse.done();
    return reply;
  }
  logOutcome({ result });

  if (result.cause === 'aborted' && context.drain.signal.aborted) {
    // The drain deadline passed: say so rather than pretend the answer is complete.
    const error = context.drain.signal.reason as ApiError;
    if (!sse) throw error;
    sse.send(error.toBody());
    sse.done();
    return reply;
  }
  const reason = finishReason(result.cause);
  const usage = {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
    prompt_tokens_details: { cached_tokens: result.cachedPromptTokens },
  };
  if (sse) {
    sse.send({
      ...base,
      object: shape.chunkObject,
      choices: [shape.chunkChoice(undefined, reason)],
      ...usageField,
    });
    if (inference.includeUsage) sse.send({ ...base, object: shape.chunkObject, choices: [], usage });
    sse.done();
    return reply;
  }
  // Nobody is listening any more; answering anyway (499) completes the request's lifecycle and its metrics.
  if (result.cause === 'aborted') throw clientGone.signal.reason;
  return reply.send({ ...base, object: shape.object, choices: [shape.choice(result.text, reason)], usage });
}

function rejectionReason(error: unknown): RejectionReason | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.code === 'queue_full' || error.code === 'queue_timeout' || error.code === 'draining'
    ? error.code
    : undefined;
}

/** One log line and the metrics of every inference request. */
function recordInference(request: FastifyRequest, metrics: Metrics, outcome: InferenceOutcome): void {
  const { result } = outcome;
  if (!result) {
    request.log.info({ model: outcome.model, outcome: 'refused', err: outcome.error }, 'inference refused');
    return;
  }
  const decodeSeconds = (outcome.totalMs - (result.timeToFirstTokenMs ?? 0)) / 1000;
  metrics.observeInference({
    model: outcome.model,
    promptTokens: result.promptTokens,
    cachedPromptTokens: result.cachedPromptTokens,
    completionTokens: result.completionTokens,
    timeToFirstTokenSeconds:
      result.timeToFirstTokenMs === undefined ? undefined : result.timeToFirstTokenMs / 1000,
    timePerOutputTokenSeconds:
      result.completionTokens > 1 ? decodeSeconds / (result.completionTokens - 1) : undefined,
  });
  request.log.info(
    {
      model: outcome.model,
      promptTokens: result.promptTokens,
      cachedPromptTokens: result.cachedPromptTokens,
      completionTokens: result.completionTokens,
      ttftMs: result.timeToFirstTokenMs === undefined ? null : Math.round(result.timeToFirstTokenMs),
      totalMs: Math.round(outcome.totalMs),
      tokensPerSecond:
        result.completionTokens > 1 && decodeSeconds > 0
          ? Math.round(((result.completionTokens - 1) / decodeSeconds) * 10) / 10
          : null,
      outcome: result.cause,
    },
    result.cause === 'timeout' ? 'inference stopped by timeout' : 'inference',
  );
}
