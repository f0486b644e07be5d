import {
  LlamaChat,
  LlamaCompletion,
  TokenBias,
  type ChatHistoryItem,
  type LlamaContextSequence,
  type LLamaContextualRepeatPenalty,
  type LlamaModel,
} from 'node-llama-cpp';
import { firstStopIndex, StopStringScanner } from './stop-strings.ts';

export interface ChatTurn {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string;
}

export type GenerationInput =
  { kind: 'chat'; messages: readonly ChatTurn[] } | { kind: 'completion'; prompt: string };

export interface SamplingOptions {
  /** Undefined: until end of sequence or the context is full. */
  maxTokens?: number;
  temperature: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop: readonly string[];
  presencePenalty: number;
  frequencyPenalty: number;
  /** Ban the model's end-of-generation tokens, so only maxTokens, a stop string or the context ends it. */
  ignoreEos: boolean;
}

/** Why a generation ended, in engine terms; the API maps it to OpenAI's finish_reason. */
export type StopCause = 'eos' | 'stop' | 'length' | 'aborted' | 'timeout';

export interface GenerationResult {
  text: string;
  cause: StopCause;
  /** The whole prompt, in tokens. */
  promptTokens: number;
  /** Of the prompt, the tokens the sequence already held from an earlier request (not evaluated again). */
  cachedPromptTokens: number;
  completionTokens: number;
  /** Milliseconds from the start of generation to the first output token (undefined if none). */
  timeToFirstTokenMs?: number;
}

export interface GenerationHooks {
  signal: AbortSignal;
  onText?: (text: string) => void;
  /** Output tokens as they are released (live figures; the result's count is the exact one). */
  onTokens?: (count: number) => void;
}

/** Runs one generation on a sequence the caller owns. Stops cleanly (with what it has) when the signal aborts. */
export async function generateOnSequence(
  sequence: LlamaContextSequence,
  input: GenerationInput,
  sampling: SamplingOptions,
  hooks: GenerationHooks,
): Promise<GenerationResult> {
  const meterBefore = sequence.tokenMeter.getState();
  const startedAt = performance.now();
  let timeToFirstTokenMs: number | undefined;
  // Stop strings are found in the streamed text and end the generation through the abort signal, not by
  // node-llama-cpp's stop triggers (see stop-strings.ts for why).
  const stopScanner = sampling.stop.length > 0 ? new StopStringScanner(sampling.stop) : undefined;
  const stopStringFound = new AbortController();
  const common = {
    signal: stopScanner ? AbortSignal.any([hooks.signal, stopStringFound.signal]) : hooks.signal,
    stopOnAbortSignal: true,
    maxTokens: sampling.maxTokens,
    temperature: sampling.temperature,
    topP: sampling.topP,
    topK: sampling.topK,
    seed: sampling.seed,
    repeatPenalty: repeatPenalty(sampling),
    tokenBias: sampling.ignoreEos ? endOfGenerationBan(sequence.model) : undefined,
    onToken: (tokens: readonly unknown[]) => {
      timeToFirstTokenMs ??= performance.now() - startedAt;
      hooks.onTokens?.(tokens.length);
    },
    onTextChunk: stopScanner
      ? (chunk: string) => {
          const released = stopScanner.push(chunk);
          if (released !== '') hooks.onText?.(released);
          if (stopScanner.found) stopStringFound.abort();
        }
      : hooks.onText,
  };

  let text: string;
  let stopReason: string;
  if (input.kind === 'chat') {
    const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      const result = await chat.generateResponse(toChatHistory(input.messages), common);
      text = result.response;
      stopReason = result.metadata.stopReason;
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  } else {
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      const result = await completion.generateCompletionWithMeta(input.prompt, common);
      text = result.response;
      stopReason = result.metadata.stopReason;
    } finally {
      completion.dispose({ disposeSequence: false });
    }
  }
  if (stopScanner?.found) {
    text = text.slice(0, firstStopIndex(text, sampling.stop));
    stopReason = 'customStopTrigger';
  } else {
    // Ended otherwise (length, EOS, abort) while holding the start of a stop string: that text is the answer's.
    const held = stopScanner?.flush() ?? '';
    if (held !== '') hooks.onText?.(held);
  }
  const usage = sequence.tokenMeter.diff(meterBefore);
  // The meter counts the tokens evaluated now; a prompt that starts like the sequence's previous one reuses
  // those (prompt cache). The whole prompt is what the sequence holds minus what was generated.
  const promptTokens = Math.max(
    usage.usedInputTokens,
    sequence.contextTokens.length - usage.usedOutputTokens,
  );
  return {
    text,
    cause: stopCause(stopReason, hooks.signal),
    promptTokens,
    cachedPromptTokens: promptTokens - usage.usedInputTokens,
    // The meter counts every generated token, including ones held back while matching a stop sequence.
    completionTokens: usage.usedOutputTokens,
    timeToFirstTokenMs,
  };
}

function stopCause(stopReason: string, signal: AbortSignal): StopCause {
  if (stopReason === 'maxTokens') return 'length';
  if (stopReason === 'abort' || signal.aborted) return 'aborted';
  if (stopReason === 'customStopTrigger' || stopReason === 'stopGenerationTrigger') return 'stop';
  return 'eos';
}

function repeatPenalty(sampling: SamplingOptions): false | LLamaContextualRepeatPenalty {
  if (sampling.presencePenalty === 0 && sampling.frequencyPenalty === 0) return false;
  // OpenAI's penalties are additive on logits; llama.cpp's multiplicative repeat penalty stays neutral (1).
  return {
    penalty: 1,
    presencePenalty: sampling.presencePenalty,
    frequencyPenalty: sampling.frequencyPenalty,
  };
}

/**
 * llama.cpp's ignore_eos: a -Infinity logit bias on EOS (and EOT, when the model has one).
 * TokenBias.set deliberately skips end-of-generation tokens, so they go straight into the bias map that
 * the native sampler applies as it is (node-llama-cpp is pinned; the ignore_eos tests catch a change).
 */
export function endOfGenerationBan(
  model: LlamaModel,
  /** Another copy of node-llama-cpp's TokenBias (the engine-floor bench loads one for A/B runs). */
  tokenBias: Pick<typeof TokenBias, 'for'> = TokenBias,
): TokenBias {
  const bias = tokenBias.for(model);
  const biases = (bias as unknown as { _biases?: unknown })._biases;
  if (!(biases instanceof Map))
    throw new Error('node-llama-cpp TokenBias has no bias map: ignore_eos cannot work');
  for (const token of [model.tokens.eos, model.tokens.eot]) {
    if (token != null) biases.set(token, -Infinity);
  }
  return bias;
}

/** OpenAI messages → node-llama-cpp chat history; the model's own chat template formats it. */
export function toChatHistory(messages: readonly ChatTurn[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message): ChatHistoryItem => {
    switch (message.role) {
      case 'system':
      case 'developer':
        return { type: 'system', text: message.content };
      case 'user':
        return { type: 'user', text: message.content };
      case 'assistant':
        return { type: 'model', response: [message.content] };
    }
  });
  // An empty model turn at the end asks for the next reply (unless the client is continuing one).
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}
