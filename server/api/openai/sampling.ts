import { unsupportedParameter } from '../../errors.ts';
import type { SamplingOptions } from '../../engine/generation.ts';
import type { ChatCompletionBody, CompletionBody } from './schema.ts';

type SharedBody = Pick<
  ChatCompletionBody & CompletionBody,
  | 'max_tokens'
  | 'temperature'
  | 'top_p'
  | 'top_k'
  | 'seed'
  | 'stop'
  | 'presence_penalty'
  | 'frequency_penalty'
  | 'n'
  | 'ignore_eos'
  | 'logit_bias'
>;

/** OpenAI request parameters → engine sampling options. Values the server cannot honour are a 400. */
export function samplingFromBody(body: SharedBody, maxTokens = body.max_tokens): SamplingOptions {
  return {
    maxTokens: maxTokens ?? undefined,
    // OpenAI's defaults: temperature 1, top_p 1 (no nucleus cut).
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? undefined,
    topK: body.top_k ?? undefined,
    seed: body.seed ?? undefined,
    stop: body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop,
    presencePenalty: body.presence_penalty ?? 0,
    frequencyPenalty: body.frequency_penalty ?? 0,
    ignoreEos: body.ignore_eos === true,
    logitBias:
      body.logit_bias == null
        ? undefined
        : new Map(Object.entries(body.logit_bias).map(([token, bias]) => [Number(token), bias])),
  };
}

export function unsupported(param: string, why: string): never {
  throw unsupportedParameter(param, why);
}
