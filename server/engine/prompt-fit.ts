/**
 * Does a prompt fit the context? Decided before admission, at a cost bounded by the context size, never by
 * the prompt's: node-llama-cpp would otherwise tokenize a whole oversized prompt on the event loop (seconds
 * for megabytes) and, for a chat, fit the history into the context by dropping turns one by one, each try
 * tokenizing the rest again (quadratic: minutes for a few hundred long turns, /healthz unanswered).
 *
 * 1. A lower bound from the size alone: no token stands for more bytes than the vocabulary's longest token,
 *    so a prompt of B bytes is at least B / longest tokens. Past the context: refused, nothing tokenized.
 * 2. Otherwise the prompt is at most context × longest bytes, and is rendered and tokenized as the
 *    generation will (the chat wrapper's template, tools included); a prompt that leaves no room for one
 *    generated token is refused.
 */
import type { LlamaModel } from 'node-llama-cpp';
import { countPromptTokens, type GenerationConstraints, type GenerationInput } from './generation.ts';

/** The prompt needs more tokens than the context holds (OpenAI's context_length_exceeded). */
export class ContextLengthExceededError extends Error {
  override readonly name = 'ContextLengthExceededError';
  constructor(
    readonly contextSize: number,
    /** The prompt's tokens, or a lower bound of them when `atLeast`. */
    readonly promptTokens: number,
    readonly atLeast: boolean,
    readonly param: 'messages' | 'prompt',
  ) {
    super(
      `This model's maximum context length is ${contextSize} tokens. However, your ${param} resulted in ` +
        `${atLeast ? 'at least ' : ''}${promptTokens} tokens. Please reduce the length of the ${param}.`,
    );
  }
}

const longestTokenBytes = new WeakMap<LlamaModel, number>();

/** The most UTF-8 bytes any one token of the vocabulary stands for (special tokens' text included). */
function longestTokenBytesOf(model: LlamaModel): number {
  let longest = longestTokenBytes.get(model);
  if (longest === undefined) {
    longest = 1;
    for (const token of model.iterateAllTokens())
      longest = Math.max(longest, Buffer.byteLength(model.detokenize([token], true)));
    longestTokenBytes.set(model, longest);
  }
  return longest;
}

/** The bytes of the input the prompt certainly holds (message texts; not reasoning, which templates may drop). */
function inputBytes(input: GenerationInput): number {
  if (input.kind === 'completion') return Buffer.byteLength(input.prompt);
  let bytes = 0;
  for (const turn of input.messages) bytes += Buffer.byteLength(turn.content);
  return bytes;
}

/** Throws ContextLengthExceededError when the prompt leaves no room for a generated token. */
export function checkPromptFits(
  model: LlamaModel,
  contextSize: number,
  input: GenerationInput,
  constraints: GenerationConstraints = {},
): void {
  const param = input.kind === 'chat' ? 'messages' : 'prompt';
  // node-llama-cpp keeps at least one token free for the answer: the prompt must be shorter than that.
  const limit = contextSize - 1;
  const lowerBound = Math.ceil(inputBytes(input) / longestTokenBytesOf(model));
  if (lowerBound >= limit) throw new ContextLengthExceededError(contextSize, lowerBound, true, param);
  const tokens = promptTokenCount(model, input, constraints);
  if (tokens >= limit) throw new ContextLengthExceededError(contextSize, tokens, false, param);
}

function promptTokenCount(
  model: LlamaModel,
  input: GenerationInput,
  constraints: GenerationConstraints,
): number {
  if (input.kind === 'completion') {
    // LlamaCompletion prepends BOS (when the model has one) to the prompt's own tokens.
    return (
      model.tokenize(input.prompt, false, 'trimLeadingSpace').length + (model.tokens.bos == null ? 0 : 1)
    );
  }
  return countPromptTokens(model, input.messages, constraints);
}
