import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GenerationConstraints, GenerationResult } from '../../engine/generation.ts';
import type { LoadedModel } from '../../engine/loaded-model.ts';
import { ContextLengthExceededError } from '../../engine/prompt-fit.ts';
import { ApiError, invalidRequest, notFound, storageFailure } from '../../errors.ts';
import type { ResponseStore } from '../../persistence/response-store.ts';
import type { OpenOnFirstUse } from '../../persistence/open-on-first-use.ts';
import type { InferenceRoutesOptions } from './options.ts';
import { runInference, type ChoiceDelta, type InferenceRun, type RunListener } from './respond.ts';
import { itemId, normalizeInput, toChatTurns } from './responses-input.ts';
import { ResponseOutputBuilder } from './responses-output.ts';
import { refuseUnsupported, responseConstraints, responseSampling } from './responses-request.ts';
import {
  InputItemsQuery,
  responseCreateBody,
  ResponseIdParams,
  RetrieveQuery,
  type ResponseCreateBody,
  type ResponseItem,
} from './responses-schema.ts';
import { SseStream } from './sse.ts';

export interface ResponsesRouteOptions extends InferenceRoutesOptions {
  store: OpenOnFirstUse<ResponseStore>;
}

/**
 * OpenAI's Responses API (what Codex CLI and the Agents SDK speak): a dialect over the same run as Chat
 * Completions, so admission, limits, metrics, drain, auth and the prompt cache are the same. Responses
 * are kept (store, the default) so previous_response_id continues a conversation and GET / DELETE /
 * input_items work.
 */
export const responsesRoutes: FastifyPluginAsyncTypebox<ResponsesRouteOptions> = async (app, options) => {
  const { store } = options;
  const stored = async (id: string) => {
    const found = await (await store.open()).get(id);
    if (!found) throw notFound(`Response with id '${id}'`);
    return found;
  };

  app.post('/responses', { schema: { body: responseCreateBody(options.limits) } }, async (request, reply) =>
    createResponse(request, reply, request.body, options),
  );

  app.get(
    '/responses/:id',
    { schema: { params: ResponseIdParams, querystring: RetrieveQuery } },
    async (request) => (await stored(request.params.id)).response,
  );

  app.get(
    '/responses/:id/input_items',
    { schema: { params: ResponseIdParams, querystring: InputItemsQuery } },
    async (request) => {
      const { limit = '20', order = 'desc', after } = request.query;
      const items = (await stored(request.params.id)).input as ResponseItem[];
      const ordered = order === 'desc' ? [...items].reverse() : items;
      const start = after === undefined ? 0 : ordered.findIndex((item) => item.id === after) + 1;
      if (after !== undefined && start === 0)
        throw invalidRequest(`No input item with id '${after}' in this response.`, 'after');
      const data = ordered.slice(start, start + Number(limit));
      return {
        object: 'list',
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: start + data.length < ordered.length,
      };
    },
  );

  app.delete('/responses/:id', { schema: { params: ResponseIdParams } }, async (request) => {
    const { id } = request.params;
    if (!(await (await store.open()).delete(id))) throw notFound(`Response with id '${id}'`);
    return { id, object: 'response', deleted: true };
  });
};

async function createResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  body: ResponseCreateBody,
  options: ResponsesRouteOptions,
): Promise<FastifyReply> {
  refuseUnsupported(body);
  const previous = body.previous_response_id ?? undefined;
  // Opened (on first use) before the generation: a store that cannot open fails the request at once.
  const store = previous !== undefined || body.store !== false ? await options.store.open() : undefined;
  const earlier = previous === undefined || !store ? [] : await conversationOf(store, previous);
  // The conversation the model answers: the previous response's input and output, then this input.
  const input = [...earlier, ...normalizeInput(body.input)];
  const constraints = responseConstraints(body);
  const instructions = body.instructions ?? undefined;
  const answered =
    body.truncation === 'auto'
      ? fittingTail(input, instructions, constraints, await options.models.forInference(body.model, 'chat'))
      : input;
  const inference = {
    model: body.model,
    input: { kind: 'chat' as const, messages: toChatTurns(instructions, answered) },
    sampling: responseSampling(body),
    constraints,
    stream: body.stream === true,
    includeUsage: false,
  };
  let sse: SseStream | undefined;
  let response: ReturnType<typeof responseObject> | undefined;
  const output = new ResponseOutputBuilder((event) => sse?.send(event, event.type));
  const listener: RunListener = {
    admitted: (model) => {
      response = responseObject(body, model.id);
      sse = new SseStream(reply);
      output.event('response.created', { response: { ...response } });
      output.event('response.in_progress', { response: { ...response } });
    },
    delta: (_index, delta) => feed(output, delta),
  };
  let run: InferenceRun;
  try {
    run = await runInference(request, reply, inference, options, inference.stream ? listener : undefined);
  } catch (error) {
    if (!sse || !response) throw error;
    failStream(sse, output, response, error as ApiError);
    return reply;
  }
  const result = run.results[0]!;
  // Streamed to a client that left: nothing to finish and nothing kept.
  if (result.cause === 'aborted') {
    sse?.end();
    return reply;
  }
  response ??= responseObject(body, run.model.id);
  if (!sse) feedWhole(output, result);
  const finished = finish(response, output, result);
  if (finished.store && store) {
    try {
      await store.put({ id: finished.id, response: finished, input });
    } catch (error) {
      // Not kept: the client is told so rather than handed an id that will not be found.
      request.log.error({ err: error }, 'response store write failed');
      if (!sse) throw storageFailure(error);
      failStream(sse, output, response, storageFailure(error));
      return reply;
    }
  }
  if (!sse) return reply.send(finished);
  output.event(`response.${finished.status}`, { response: finished });
  sse.end();
  return reply;
}

/**
 * truncation 'auto': the longest tail of the conversation that fits the context, cut before a user
 * message (the oldest items are dropped, as OpenAI does; the instructions stay). If even the last user
 * message and what follows it do not fit, the prompt is refused as with truncation 'disabled'.
 */
function fittingTail(
  items: ResponseItem[],
  instructions: string | undefined,
  constraints: GenerationConstraints,
  model: LoadedModel,
): ResponseItem[] {
  const fits = (start: number) => {
    try {
      model.checkPromptFits(
        { kind: 'chat', messages: toChatTurns(instructions, items.slice(start)) },
        constraints,
      );
      return true;
    } catch (error) {
      if (error instanceof ContextLengthExceededError) return false;
      throw error;
    }
  };
  if (fits(0)) return items;
  const starts = items.flatMap((item, index) =>
    index > 0 && item.type === 'message' && item.role === 'user' ? [index] : [],
  );
  // Fewer items never take more tokens: the earliest start that fits, by bisection.
  let low = 0;
  let high = starts.length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (fits(starts[middle]!)) high = middle;
    else low = middle + 1;
  }
  // None fits: the last user turn is checked again by the run, which refuses it.
  return items.slice(starts[low] ?? starts.at(-1) ?? 0);
}

/** After the stream opened: `error`, then the response as failed (what responses.stream() rejects on). */
function failStream(
  sse: SseStream,
  output: ResponseOutputBuilder,
  response: ReturnType<typeof responseObject>,
  failure: ApiError,
): void {
  const reason = { code: failure.code ?? 'server_error', message: failure.message };
  output.event('error', { ...reason, param: null });
  output.event('response.failed', { response: { ...response, status: 'failed', error: reason } });
  sse.end();
}

/** The response once generated: its status, output items, text and usage. */
function finish(
  response: ReturnType<typeof responseObject>,
  output: ResponseOutputBuilder,
  result: GenerationResult,
) {
  const incomplete = result.cause === 'length' || result.cause === 'timeout';
  output.finish(incomplete ? 'incomplete' : 'completed');
  return {
    ...response,
    status: incomplete ? ('incomplete' as const) : ('completed' as const),
    completed_at: Math.floor(Date.now() / 1000),
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    output: output.items,
    output_text: output.outputText,
    usage: {
      input_tokens: result.promptTokens,
      input_tokens_details: { cached_tokens: result.cachedPromptTokens },
      output_tokens: result.completionTokens,
      output_tokens_details: { reasoning_tokens: result.reasoningTokens },
      total_tokens: result.promptTokens + result.completionTokens,
    },
  };
}

/** The items a continuation starts from: the stored response's input, then its output. */
async function conversationOf(store: ResponseStore, id: string): Promise<ResponseItem[]> {
  const previous = await store.get(id);
  // 404, as OpenAI answers an unknown previous_response_id.
  if (!previous)
    throw new ApiError(
      404,
      'invalid_request_error',
      `Previous response with id '${id}' not found (never stored, deleted, or past the store's bounds).`,
      'previous_response_not_found',
      'previous_response_id',
    );
  return [...(previous.input as ResponseItem[]), ...(previous.response.output as ResponseItem[])];
}

function feed(output: ResponseOutputBuilder, delta: ChoiceDelta): void {
  if ('text' in delta) output.text(delta.text);
  else if ('reasoning' in delta) output.reasoning(delta.reasoning);
  else output.toolCall(delta.toolCall);
}

/** A generation that was not streamed, given to the builder in the order the model produced it. */
function feedWhole(output: ResponseOutputBuilder, result: GenerationResult): void {
  if (result.reasoning !== '') output.reasoning(result.reasoning);
  if (result.text !== '') output.text(result.text);
  result.toolCalls.forEach((call, index) =>
    output.toolCall({ index, id: call.id, name: call.name, argumentsDelta: call.arguments }),
  );
}

/** The response as it stands before any output: what the request asked for, echoed as OpenAI does. */
function responseObject(body: ResponseCreateBody, model: string) {
  return {
    id: itemId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: body.max_tool_calls ?? null,
    model,
    output: [] as unknown[],
    output_text: '',
    parallel_tool_calls: body.parallel_tool_calls !== false,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    text: { format: body.text?.format ?? { type: 'text' }, verbosity: body.text?.verbosity ?? 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? 'disabled',
    usage: null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}
