import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiError } from '../../errors.ts';
import type { InferenceRoutesOptions } from '../openai/options.ts';
import { runInference, type InferenceRun, type RunListener } from '../openai/respond.ts';
import { renderMessage, type MessageHeader } from './render.ts';
import { countTokensBody, messagesBody } from './schema.ts';
import { MessageEventStream } from './stream.ts';
import { toChatTurns, toConstraints, toSampling } from './to-generation.ts';

/**
 * Anthropic's Messages API (POST /v1/messages, also as Claude Code sends it with ?beta=true, and
 * POST /v1/messages/count_tokens): a dialect over the same run as Chat Completions, so admission,
 * limits, metrics, drain, auth and the prompt cache are the same.
 */
export const anthropicRoutes: FastifyPluginAsyncTypebox<InferenceRoutesOptions> = async (app, options) => {
  app.post('/messages', { schema: { body: messagesBody(options.limits) } }, async (request, reply) => {
    const body = request.body;
    const inference = {
      model: body.model,
      input: { kind: 'chat' as const, messages: toChatTurns(body) },
      sampling: toSampling(body),
      constraints: toConstraints(body),
      stream: body.stream === true,
      includeUsage: false,
    };
    const id = `msg_${randomUUID().replaceAll('-', '')}`;
    const omitThinking = body.thinking?.display === 'omitted';
    let stream: MessageEventStream | undefined;
    const listener: RunListener = {
      admitted: (model) => {
        stream = new MessageEventStream(reply, { id, model: model.id, omitThinking });
      },
      delta: (_index, delta) => stream?.delta(delta),
    };
    let run: InferenceRun;
    try {
      run = await runInference(request, reply, inference, options, inference.stream ? listener : undefined);
    } catch (error) {
      if (!stream) throw error;
      stream.fail(error as ApiError, request.id);
      return reply;
    }
    const result = run.results[0]!;
    if (stream) {
      stream.finish(result);
      return reply;
    }
    const header: MessageHeader = { id, model: run.model.id, omitThinking };
    return reply.send(renderMessage(header, result));
  });

  app.post(
    '/messages/count_tokens',
    { schema: { body: countTokensBody(options.limits) } },
    async (request) => {
      const body = request.body;
      const turns = toChatTurns(body);
      const constraints = toConstraints(body);
      const model = await options.models.forInference(body.model, 'chat');
      return { input_tokens: model.countPromptTokens(turns, constraints) };
    },
  );
};
