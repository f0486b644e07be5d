import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {
  GenerationConstraints,
  GenerationInput,
  GenerationResult,
  SamplingOptions,
  StopCause,
  ToolCallDelta,
  TokenLogprob,
} from '../../engine/generation.ts';
import type { LoadedModel } from '../../engine/loaded-model.ts';
import { ApiError, generationFailed, unsupportedParameter } from '../../errors.ts';
import { routeLabel, type Metrics, type RejectionReason } from '../../telemetry/metrics.ts';
import { abortOnClientGone } from './client-abort.ts';
import type { InferenceRoutesOptions } from './options.ts';
import { SseStream } from './sse.ts';

/** How one OpenAI endpoint shapes its objects; chat and text completions differ only here. */
export interface ResponseShape {
  idPrefix: string;
  object: string;
  chunkObject: string;
  choice(result: GenerationResult, finishReason: FinishReason, index: number): Record<string, unknown>;
  /** A streamed choice: `delta` undefined for the opening chunk, `finishReason` set on the closing one. */
  chunkChoice(
    delta: ChoiceDelta | undefined,
    finishReason: FinishReason | null,
    index: number,
  ): Record<string, unknown>;
}

/** One streamed piece of a choice. */
export type ChoiceDelta =
  { text: string; logprobs?: TokenLogprob[] } | { reasoning: string } | { toolCall: ToolCallDelta };

export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** One /v1 request's generation, as its route reads it from the body. */
export interface InferenceRequest {
  /** The model id the request names. */
  model: string;
  input: GenerationInput;
  sampling: SamplingOptions;
  constraints?: GenerationConstraints;
  /** Choices to generate, each on its own sequence, decoded together in one batch. */
  n?: number;
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
  if (cause === 'tool_calls') return 'tool_calls';
  return cause === 'length' || cause === 'timeout' ? 'length' : 'stop';
}

/** What a streaming dialect does as a run goes: open its stream once admitted, then send the pieces. */
export interface RunListener {
  admitted(model: LoadedModel): void;
  delta(index: number, delta: ChoiceDelta): void;
}

export interface InferenceRun {
  model: LoadedModel;
  /** One per choice. */
  results: GenerationResult[];
}

/**
 * Runs one /v1 request's generation, whatever its dialect: the model (loaded just in time if need be),
 * then admission before any byte is sent, so queue_full / queue_timeout are real HTTP statuses; metrics
 * and the log line of every outcome. With a listener, the run streams: `admitted` comes first, then the
 * deltas. An error after admission reaches a streaming caller as an ApiError (the drain's, or
 * generationFailed) for it to send in its own stream.
 */
export async function runInference(
  request: FastifyRequest,
  reply: FastifyReply,
  inference: InferenceRequest,
  { models, context, inferenceTimeoutMs }: InferenceRoutesOptions,
  listener?: RunListener,
): Promise<InferenceRun> {
  const model = await models.forInference(inference.model, 'chat');
  const startedAt = performance.now();
  const clientGone = abortOnClientGone(reply);
  // One choice refused (queue full) stops its siblings.
  const stopOthers = new AbortController();
  const stopped = AbortSignal.any([clientGone.signal, context.drain.signal, stopOthers.signal]);
  const n = inference.n ?? 1;
  if (n > model.options.parallel)
    throw unsupportedParameter('n', `this model decodes at most ${model.options.parallel} sequences at once`);
  // Before admission: a prompt that cannot fit is refused at once, and never reaches node-llama-cpp.
  model.checkPromptFits(inference.input, inference.constraints);
  const runs = Array.from({ length: n }, (_, index) =>
    startRun(model, inference, stopped, inferenceTimeoutMs, index, listener?.delta),
  );
  const run = {
    admitted: Promise.all(runs.map((r) => r.admitted)),
    result: Promise.all(runs.map((r) => r.result)),
  };
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
    stopOthers.abort();
    run.result.catch(() => undefined);
    logOutcome({ error });
    const reason = rejectionReason(error);
    if (reason) context.metrics.reject(reason);
    throw error;
  }
  listener?.admitted(model);

  let results: GenerationResult[];
  try {
    results = await run.result;
  } catch (error) {
    logOutcome({ error });
    if (!listener) throw error;
    request.log.error({ err: error }, 'generation failed mid-stream');
    throw generationFailed();
  }
  for (const result of results) logOutcome({ result });
  if ((results[0] as GenerationResult).cause === 'aborted') {
    // The drain deadline passed: say so rather than pretend the answer is complete.
    if (context.drain.signal.aborted) throw context.drain.signal.reason as ApiError;
    // Nobody is listening any more; answering anyway (499) completes the request's lifecycle and its metrics.
    if (!listener) throw clientGone.signal.reason;
  }
  return { model, results };
}

/**
 * Runs one generation for a /v1 request and answers in OpenAI's format, streamed or whole.
 */
export async function respondWithGeneration(
  request: FastifyRequest,
  reply: FastifyReply,
  shape: ResponseShape,
  inference: InferenceRequest,
  options: InferenceRoutesOptions,
): Promise<FastifyReply> {
  const id = `${shape.idPrefix}-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);
  const base = (model: LoadedModel) => ({ id, created, model: model.id, system_fingerprint: 'lmx' });
  let sse: SseStream | undefined;
  let chunkBase: ReturnType<typeof base> | undefined;
  const usageField = inference.includeUsage ? { usage: null } : {};
  const n = inference.n ?? 1;
  const listener: RunListener = {
    admitted: (model) => {
      chunkBase = base(model);
      sse = new SseStream(reply);
      sse.send({
        ...chunkBase,
        object: shape.chunkObject,
        choices: Array.from({ length: n }, (_, index) => shape.chunkChoice(undefined, null, index)),
        ...usageField,
      });
    },
    delta: (index, delta) =>
      sse?.send({
        ...chunkBase,
        object: shape.chunkObject,
        choices: [shape.chunkChoice(delta, null, index)],
        ...usageField,
      }),
  };
  let run: InferenceRun;
  try {
    run = await runInference(request, reply, inference, options, inference.stream ? listener : undefined);
  } catch (error) {
    if (!sse) throw error;
    sse.send((error as ApiError).toBody());
    sse.done();
    return reply;
  }
  const { model, results } = run;
  const result = sumUsage(results);
  const usage = {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
    prompt_tokens_details: { cached_tokens: result.cachedPromptTokens },
    completion_tokens_details: { reasoning_tokens: result.reasoningTokens },
  };
  if (sse) {
    sse.send({
      ...base(model),
      object: shape.chunkObject,
      choices: results.map((choice, index) =>
        shape.chunkChoice(undefined, finishReason(choice.cause), index),
      ),
      ...usageField,
    });
    if (inference.includeUsage) sse.send({ ...base(model), object: shape.chunkObject, choices: [], usage });
    sse.done();
    return reply;
  }
  return reply.send({
    ...base(model),
    object: shape.object,
    choices: results.map((choice, index) => shape.choice(choice, finishReason(choice.cause), index)),
    usage,
  });
}

/** One choice's generation; its streamed pieces go out tagged with its index. */
function startRun(
  model: LoadedModel,
  inference: InferenceRequest,
  signal: AbortSignal,
  timeoutMs: number,
  index: number,
  send: ((index: number, delta: ChoiceDelta) => void) | undefined,
) {
  return model.generate(
    inference.input,
    // Choices of one seeded request differ from each other, and each reproduces.
    inference.sampling.seed === undefined || index === 0
      ? inference.sampling
      : { ...inference.sampling, seed: inference.sampling.seed + index },
    {
      signal,
      timeoutMs,
      onText: send && ((text, logprobs) => text && send(index, { text, logprobs })),
      onReasoning: send && ((reasoning) => send(index, { reasoning })),
      onToolCall: send && ((toolCall) => send(index, { toolCall })),
    },
    inference.constraints,
  );
}

/** The usage of all choices: one prompt (shared), the completions summed; the first choice's cause. */
function sumUsage(results: GenerationResult[]): GenerationResult {
  const first = results[0] as GenerationResult;
  return {
    ...first,
    completionTokens: results.reduce((sum, r) => sum + r.completionTokens, 0),
    reasoningTokens: results.reduce((sum, r) => sum + r.reasoningTokens, 0),
  };
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
    // A refusal (queue full, draining) is the request's own log line (short, sampled in a storm).
    if (!rejectionReason(outcome.error)) {
      const code = outcome.error instanceof ApiError ? outcome.error.code : null;
      request.log.info({ model: outcome.model, outcome: 'failed', code }, 'inference failed');
    }
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
      // To 0.1 ms: the dialect benchmark compares the generation's TTFT between dialects from these lines.
      ttftMs:
        result.timeToFirstTokenMs === undefined ? null : Math.round(result.timeToFirstTokenMs * 10) / 10,
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
