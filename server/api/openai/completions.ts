import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TokenLogprob } from '../../engine/generation.ts';
import { completionBody } from './schema.ts';
import { respondWithGeneration, type ResponseShape } from './respond.ts';
import { samplingFromBody, unsupported } from './sampling.ts';
import type { InferenceRoutesOptions } from './options.ts';

const completionShape: ResponseShape = {
  idPrefix: 'cmpl',
  object: 'text_completion',
  chunkObject: 'text_completion',
  choice: (result, finishReason, index) => ({
    text: result.text,
    index,
    logprobs: result.logprobs ? completionLogprobs(result.logprobs) : null,
    finish_reason: finishReason,
  }),
  chunkChoice: (delta, finishReason, index) => ({
    text: delta && 'text' in delta ? delta.text : '',
    index,
    logprobs: delta && 'logprobs' in delta && delta.logprobs ? completionLogprobs(delta.logprobs) : null,
    finish_reason: finishReason,
  }),
};

/** The legacy shape: parallel lists, top alternatives as token → logprob, offsets into the completion's text. */
function completionLogprobs(entries: readonly TokenLogprob[]): Record<string, unknown> {
  return {
    tokens: entries.map((entry) => entry.token),
    token_logprobs: entries.map((entry) => entry.logprob),
    top_logprobs: entries.map((entry) =>
      Object.fromEntries(entry.top.map((alternative) => [alternative.token, alternative.logprob])),
    ),
    text_offset: entries.map((entry) => entry.offset),
  };
}

export const completionsRoute: FastifyPluginAsyncTypebox<InferenceRoutesOptions> = async (app, options) => {
  app.post('/completions', { schema: { body: completionBody(options.limits) } }, async (request, reply) => {
    const body = request.body;
    if (Array.isArray(body.prompt) && body.prompt.length > 1) {
      unsupported('prompt', 'one prompt per request is supported (a string or a list of one string)');
    }
    if (body.echo === true) unsupported('echo', 'echoing the prompt is not supported');
    if (body.suffix != null) unsupported('suffix', 'insertion (suffix) is not supported');
    if (body.best_of != null && body.best_of !== 1) unsupported('best_of', 'only best_of = 1 is supported');
    const prompt = Array.isArray(body.prompt) ? (body.prompt[0] ?? '') : body.prompt;
    return respondWithGeneration(
      request,
      reply,
      completionShape,
      {
        model: body.model,
        input: { kind: 'completion', prompt },
        // OpenAI's legacy completions default to 16 tokens.
        sampling: { ...samplingFromBody(body, body.max_tokens ?? 16), logprobs: body.logprobs ?? undefined },
        n: body.n ?? 1,
        stream: body.stream === true,
        includeUsage: body.stream_options?.include_usage === true,
      },
      options,
    );
  });
};
