import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { chatCompletionBody, type ChatMessage } from './schema.ts';
import type { ChatTurn } from '../../engine/generation.ts';
import { respondWithGeneration, type ResponseShape } from './respond.ts';
import { samplingFromBody, unsupported } from './sampling.ts';
import type { InferenceRoutesOptions } from './options.ts';

const chatShape: ResponseShape = {
  idPrefix: 'chatcmpl',
  object: 'chat.completion',
  chunkObject: 'chat.completion.chunk',
  choice: (text, finishReason) => ({
    index: 0,
    message: { role: 'assistant', content: text, refusal: null },
    logprobs: null,
    finish_reason: finishReason,
  }),
  chunkChoice: (text, finishReason) => ({
    index: 0,
    delta: finishReason ? {} : text === undefined ? { role: 'assistant', content: '' } : { content: text },
    logprobs: null,
    finish_reason: finishReason,
  }),
};

export const chatCompletionsRoute: FastifyPluginAsyncTypebox<InferenceRoutesOptions> = async (
  app,
  options,
) => {
  app.post(
    '/chat/completions',
    { schema: { body: chatCompletionBody(options.limits) } },
    async (request, reply) => {
      const body = request.body;
      if (body.tools != null && body.tools.length > 0)
        unsupported('tools', 'tool calling is not supported yet');
      if (body.tool_choice != null && body.tool_choice !== 'none')
        unsupported('tool_choice', 'tool calling is not supported yet');
      if (body.top_logprobs != null) unsupported('top_logprobs', 'log probabilities are not supported');
      if (body.response_format != null && body.response_format.type !== 'text') {
        unsupported('response_format', 'only {"type": "text"} is supported');
      }
      return respondWithGeneration(
        request,
        reply,
        chatShape,
        {
          model: body.model,
          input: { kind: 'chat', messages: body.messages.map(toChatTurn) },
          sampling: samplingFromBody(body, body.max_completion_tokens ?? body.max_tokens),
          stream: body.stream === true,
          includeUsage: body.stream_options?.include_usage === true,
        },
        options,
      );
    },
  );
};

function toChatTurn(message: ChatMessage): ChatTurn {
  const content =
    typeof message.content === 'string' ? message.content : message.content.map((part) => part.text).join('');
  return { role: message.role, content };
}
