/**
 * The generation core, shared by every API dialect (OpenAI chat and completions; Responses and Anthropic
 * Messages are meant to be thin layers over the same contract):
 *
 * In:  GenerationInput: chat turns (system/developer, user, assistant with text, reasoning and tool calls,
 *      tool results by call id) or a raw prompt; SamplingOptions (incl. seed, token biases);
 *      GenerationConstraints: tools + tool choice (none | auto | required | a name) + parallel calls, or an
 *      output constraint (any JSON object / a JSON schema), and a reasoning effort.
 * Out: GenerationResult: text, reasoning text, tool calls (id, name, arguments as JSON text), the stop
 *      cause, token usage (prompt, cached, completion, reasoning).
 * Streaming: GenerationHooks.onText / onReasoning / onToolCall deltas as the tokens are decoded.
 * Prompts use the model's own chat wrapper (node-llama-cpp resolves it from the GGUF); tool calls use the
 * wrapper's own function-calling format, grammar-constrained by node-llama-cpp.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  HarmonyChatWrapper,
  JinjaTemplateChatWrapper,
  LlamaChat,
  LlamaCompletion,
  QwenChatWrapper,
  resolveChatWrapper,
  TokenBias,
  type ChatModelFunctions,
  type ChatWrapper,
  type LlamaContextSequence,
  type LLamaContextualRepeatPenalty,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { toChatHistory } from './chat-history.ts';
import { forcingToolCall } from './forced-tool-call.ts';
import { toGrammarSchema } from './json-schema.ts';
import { firstStopIndex, StopStringScanner } from './stop-strings.ts';
import { AnswerLogprobs, type TokenLogprob } from './token-logprobs.ts';

export type { TokenAlternative, TokenLogprob } from './token-logprobs.ts';

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text. */
  arguments: string;
}

export type ChatTurn =
  | { role: 'system' | 'developer' | 'user'; content: string }
  | { role: 'assistant'; content: string; reasoning?: string; toolCalls?: readonly ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export type GenerationInput =
  { kind: 'chat'; messages: readonly ChatTurn[] } | { kind: 'completion'; prompt: string };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** A JSON schema of the arguments. */
  parameters?: unknown;
  /** Where `parameters` sits in the request, named in schema errors (default: Chat Completions' path). */
  parametersPath?: string;
}

export type ToolChoice = 'none' | 'auto' | 'required' | { name: string };

export interface GenerationConstraints {
  tools?: { definitions: readonly ToolDefinition[]; choice: ToolChoice; parallel: boolean };
  /** The answer's text is grammar-constrained: any JSON object, or one valid against the schema. */
  output?: { kind: 'json' } | { kind: 'json_schema'; schema: unknown };
  /** Into the wrapper's own setting where it has one (see wrapperSettingsFor); 'none' is also a thought budget of zero. */
  reasoningEffort?: 'none' | 'minimal' | 'low' | 'medium' | 'high';
}

export interface SamplingOptions {
  /** Undefined: until end of sequence or the context is full. */
  maxTokens?: number;
  temperature: number;
  topP?: number;
  topK?: number;
  /** Undefined: a fresh random seed (node-llama-cpp would seed from the clock's second). */
  seed?: number;
  stop: readonly string[];
  presencePenalty: number;
  frequencyPenalty: number;
  /** Ban the model's end-of-generation tokens, so only maxTokens, a stop string or the context ends it. */
  ignoreEos: boolean;
  /** Token id → additive logit bias (-100 bans the token). */
  logitBias?: ReadonlyMap<number, number>;
  /** Log probabilities of the answer's tokens, with this many top alternatives each (0–20); undefined: none. */
  logprobs?: number;
}

/** Why a generation ended, in engine terms; the API maps it to its own finish reason. */
export type StopCause = 'eos' | 'stop' | 'length' | 'aborted' | 'timeout' | 'tool_calls';

export interface GenerationResult {
  text: string;
  /** The model's thoughts, apart from the answer ('' for a model without them). */
  reasoning: string;
  toolCalls: ToolCall[];
  cause: StopCause;
  /** The stop string that ended the answer (cause 'stop' by one of SamplingOptions.stop). */
  stopSequence?: string;
  /** The whole prompt, in tokens. */
  promptTokens: number;
  /** Of the prompt, the tokens the sequence already held from an earlier request (not evaluated again). */
  cachedPromptTokens: number;
  completionTokens: number;
  /** Of the completion, the thought tokens. */
  reasoningTokens: number;
  /** Milliseconds from the start of generation to the first output token (undefined if none). */
  timeToFirstTokenMs?: number;
  /** When sampling.logprobs asked for them: the answer text's tokens, in order. */
  logprobs?: TokenLogprob[];
}

export interface ToolCallDelta {
  /** The call's position in this reply. */
  index: number;
  /** Set on a call's first delta, with its name. */
  id?: string;
  name?: string;
  argumentsDelta: string;
}

export interface GenerationHooks {
  signal: AbortSignal;
  /** With sampling.logprobs, the entries of the tokens that start in this text. */
  onText?: (text: string, logprobs?: TokenLogprob[]) => void;
  onReasoning?: (text: string) => void;
  onToolCall?: (delta: ToolCallDelta) => void;
  /** Output tokens as they are released (live figures; the result's count is the exact one). */
  onTokens?: (count: number) => void;
}

export type ReasoningEffort = NonNullable<GenerationConstraints['reasoningEffort']>;

const chatWrappers = new WeakMap<LlamaModel, Map<ReasoningEffort | undefined, ChatWrapper>>();

/**
 * The chat wrapper node-llama-cpp resolves for a model (from its template and name), resolved once, and its
 * variant for a reasoning effort (withEffort), made once per effort.
 */
export function chatWrapperOf(model: LlamaModel, effort?: ReasoningEffort): ChatWrapper {
  let byEffort = chatWrappers.get(model);
  if (!byEffort) chatWrappers.set(model, (byEffort = new Map()));
  const made = byEffort.get(effort);
  if (made) return made;
  // What LlamaChat's `chatWrapper: "auto"` does (slow for a large template: it compares it with every wrapper).
  const resolved = byEffort.get(undefined) ?? resolveChatWrapper(model);
  byEffort.set(undefined, resolved);
  const wrapper = effort === undefined ? resolved : withEffort(model, resolved, effort);
  byEffort.set(effort, wrapper);
  return wrapper;
}

/**
 * OpenAI's reasoning_effort in the wrapper's own setting, on a copy of the resolved wrapper (its settings kept):
 * gpt-oss (Harmony) is told low / medium / high in its system message (minimal and none: low); Qwen3's thinking
 * switch and a Jinja template's `enable_thinking` are off for none and minimal. Other wrappers have no such
 * setting and are used as they are; `none` also gives every wrapper a thought budget of zero (generateOnSequence).
 */
function withEffort(model: LlamaModel, wrapper: ChatWrapper, effort: ReasoningEffort): ChatWrapper {
  const thinking = effort !== 'none' && effort !== 'minimal';
  if (wrapper instanceof HarmonyChatWrapper)
    return new HarmonyChatWrapper({
      modelIdentity: wrapper.modelIdentity,
      cuttingKnowledgeDate: wrapper.cuttingKnowledgeDate,
      todayDate: wrapper.todayDate,
      requiredChannels: wrapper.requiredChannels,
      keepOnlyLastThought: wrapper.keepOnlyLastThought,
      reasoningEffort: effort === 'medium' || effort === 'high' ? effort : 'low',
    });
  if (thinking) return wrapper;
  if (wrapper instanceof QwenChatWrapper)
    return new QwenChatWrapper({
      variation: wrapper.variation,
      keepOnlyLastThought: wrapper.keepOnlyLastThought,
      thoughts: 'discourage',
    });
  if (wrapper instanceof JinjaTemplateChatWrapper)
    return resolveChatWrapper(model, {
      type: 'jinjaTemplate',
      customWrapperSettings: { jinjaTemplate: { reasoning: false } },
    });
  return wrapper;
}

/** The wrapper and functions a chat generation runs with (the prompt-fit check renders the same prompt). */
export function chatSetup(
  model: LlamaModel,
  constraints: GenerationConstraints,
): { chatWrapper: ChatWrapper; functions: ChatModelFunctions | undefined } {
  const tools = constraints.tools;
  const functions =
    tools && tools.choice !== 'none' ? toFunctions(tools.definitions, tools.choice) : undefined;
  const forced = tools !== undefined && (tools.choice === 'required' || typeof tools.choice === 'object');
  const wrapper = chatWrapperOf(model, constraints.reasoningEffort);
  return { chatWrapper: forced ? forcingToolCall(wrapper) : wrapper, functions };
}

/**
 * The prompt a chat generation would evaluate, in tokens: the turns (and the tools, as the wrapper
 * documents them) in the model's own template, through its tokenizer. Nothing is evaluated.
 */
export function countPromptTokens(
  model: LlamaModel,
  messages: readonly ChatTurn[],
  constraints: GenerationConstraints = {},
): number {
  const { chatWrapper, functions } = chatSetup(model, constraints);
  const { contextText } = chatWrapper.generateContextState({
    chatHistory: toChatHistory(messages, chatWrapper),
    availableFunctions: functions,
    documentFunctionParams: true,
  });
  return contextText.tokenize(model.tokenizer).length;
}

/** Runs one generation on a sequence the caller owns. Stops cleanly (with what it has) when the signal aborts. */
export async function generateOnSequence(
  sequence: LlamaContextSequence,
  input: GenerationInput,
  sampling: SamplingOptions,
  hooks: GenerationHooks,
  constraints: GenerationConstraints = {},
): Promise<GenerationResult> {
  const meterBefore = sequence.tokenMeter.getState();
  const startedAt = performance.now();
  let timeToFirstTokenMs: number | undefined;
  // Stop strings are found in the streamed text and end the generation through the abort signal, not by
  // node-llama-cpp's stop triggers (see stop-strings.ts for why).
  const stopScanner = sampling.stop.length > 0 ? new StopStringScanner(sampling.stop) : undefined;
  const stopStringFound = new AbortController();
  const logprobs =
    sampling.logprobs === undefined ? undefined : new AnswerLogprobs(sequence.model, sampling.logprobs);
  const sendText = (text: string) => hooks.onText?.(text, logprobs?.release(text.length));
  const onAnswerText = stopScanner
    ? (chunk: string) => {
        const released = stopScanner.push(chunk);
        if (released !== '') sendText(released);
        if (stopScanner.found) stopStringFound.abort();
      }
    : sendText;
  const common = {
    signal: stopScanner ? AbortSignal.any([hooks.signal, stopStringFound.signal]) : hooks.signal,
    stopOnAbortSignal: true,
    maxTokens: sampling.maxTokens,
    temperature: sampling.temperature,
    topP: sampling.topP,
    topK: sampling.topK,
    seed: sampling.seed ?? randomInt(2 ** 31),
    repeatPenalty: repeatPenalty(sampling),
    tokenBias: tokenBias(sequence.model, sampling),
    onToken: (tokens: readonly unknown[]) => {
      timeToFirstTokenMs ??= performance.now() - startedAt;
      hooks.onTokens?.(tokens.length);
    },
  };
  const grammar = await outputGrammar(sequence.model, constraints);
  // A deadline or a client gone before node-llama-cpp starts generating makes it throw the signal's reason
  // instead of stopping: that is a generation stopped with nothing said, not a failure.
  const unlessStopped = (error: unknown): undefined => {
    if (common.signal.aborted) return undefined;
    throw error;
  };

  let text: string;
  let reasoning = '';
  let reasoningTokens = 0;
  let toolCalls: ToolCall[] = [];
  let stopReason: string;
  if (input.kind === 'chat') {
    const tools = constraints.tools;
    const { chatWrapper, functions } = chatSetup(sequence.model, constraints);
    const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false, chatWrapper });
    const callIds: string[] = [];
    const callId = (index: number) =>
      (callIds[index] ??= `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`);
    const stopRecording = logprobs?.record(sequence);
    try {
      const result = await chat
        .generateResponse(toChatHistory(input.messages, chatWrapper), {
          ...common,
          ...(functions
            ? {
                functions,
                documentFunctionParams: true,
                maxParallelFunctionCalls: tools?.parallel === false ? 1 : undefined,
                onFunctionCallParamsChunk: (chunk) => {
                  const first = callIds[chunk.callIndex] === undefined;
                  hooks.onToolCall?.({
                    index: chunk.callIndex,
                    ...(first ? { id: callId(chunk.callIndex), name: chunk.functionName } : {}),
                    argumentsDelta: chunk.paramsChunk,
                  });
                },
              }
            : { grammar }),
          budgets: constraints.reasoningEffort === 'none' ? { thoughtTokens: 0 } : undefined,
          onResponseChunk: (chunk) => {
            if (chunk.type === undefined) {
              logprobs?.add(chunk.tokens);
              onAnswerText(chunk.text);
            } else if (chunk.segmentType === 'thought') {
              logprobs?.skip(chunk.tokens);
              reasoningTokens += chunk.tokens.length;
              if (chunk.text !== '') hooks.onReasoning?.(chunk.text);
            }
          },
        })
        .catch(unlessStopped);
      text = result?.response ?? '';
      reasoning = (result?.fullResponse ?? [])
        .flatMap((item) => (typeof item !== 'string' && item.segmentType === 'thought' ? [item.text] : []))
        .join('');
      toolCalls = (result?.functionCalls ?? []).map((call, index) => ({
        id: callId(index),
        name: call.functionName,
        arguments: JSON.stringify(call.params ?? {}),
      }));
      stopReason = result?.metadata.stopReason ?? 'abort';
    } finally {
      chat.dispose({ disposeSequence: false });
      stopRecording?.();
    }
  } else {
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    const stopRecording = logprobs?.record(sequence);
    try {
      const result = await completion
        .generateCompletionWithMeta(input.prompt, {
          ...common,
          grammar,
          onToken: (tokens) => {
            common.onToken(tokens);
            logprobs?.add(tokens);
          },
          onTextChunk: onAnswerText,
        })
        .catch(unlessStopped);
      text = result?.response ?? '';
      stopReason = result?.metadata.stopReason ?? 'abort';
    } finally {
      completion.dispose({ disposeSequence: false });
      stopRecording?.();
    }
  }
  let stopSequence: string | undefined;
  if (stopScanner?.found) {
    const at = firstStopIndex(text, sampling.stop) ?? text.length;
    stopSequence = sampling.stop.find((stop) => stop !== '' && text.startsWith(stop, at));
    text = text.slice(0, at);
    stopReason = 'customStopTrigger';
  } else {
    // Ended otherwise (length, EOS, abort) while holding the start of a stop string: that text is the answer's.
    const held = stopScanner?.flush() ?? '';
    if (held !== '') sendText(held);
  }
  const usage = sequence.tokenMeter.diff(meterBefore);
  // The meter counts the tokens evaluated now; a prompt that starts like the sequence's previous one reuses
  // those (prompt cache). It counts the evaluation of the prompt's last token, whose logits give the first
  // output token, as output; and the last token generated is never evaluated. So the whole prompt is what
  // the sequence holds minus what was generated, plus one (count_tokens' tokenization agrees).
  const generated = usage.usedOutputTokens > 0 ? 1 : 0;
  const promptTokens = Math.max(
    usage.usedInputTokens + generated,
    sequence.contextTokens.length - usage.usedOutputTokens + generated,
  );
  return {
    text,
    reasoning,
    toolCalls,
    cause: toolCalls.length > 0 ? 'tool_calls' : stopCause(stopReason, hooks.signal),
    stopSequence,
    promptTokens,
    cachedPromptTokens: promptTokens - usage.usedInputTokens - generated,
    // The meter counts every generated token, including ones held back while matching a stop sequence.
    completionTokens: usage.usedOutputTokens,
    reasoningTokens,
    timeToFirstTokenMs,
    ...(logprobs ? { logprobs: logprobs.within(text) } : {}),
  };
}

/** Declared tools → node-llama-cpp functions (a named choice leaves only that one to call). */
function toFunctions(definitions: readonly ToolDefinition[], choice: ToolChoice): ChatModelFunctions {
  const chosen = typeof choice === 'object' ? definitions.filter((d) => d.name === choice.name) : definitions;
  return Object.fromEntries(
    chosen.map((tool) => [
      tool.name,
      {
        description: tool.description,
        params:
          tool.parameters === undefined
            ? undefined
            : (toGrammarSchema(
                tool.parameters,
                tool.parametersPath ?? `tools[${definitions.indexOf(tool)}].function.parameters`,
              ) as never),
      },
    ]),
  );
}

/** Checks the schemas of a request's constraints without generating (the API refuses bad ones up front). */
export function checkConstraints(constraints: GenerationConstraints): void {
  if (constraints.tools) toFunctions(constraints.tools.definitions, constraints.tools.choice);
  if (constraints.output?.kind === 'json_schema')
    toGrammarSchema(constraints.output.schema, 'response_format.json_schema.schema');
}

let jsonObjectGrammarText: Promise<string> | undefined;

/**
 * llama.cpp's JSON grammar (its root is an object), read from the copy node-llama-cpp ships.
 * `llama.getGrammarFor('json')` looks for it beside the llama.cpp source clone when a local build runs,
 * and LMX's build is restored without that clone.
 */
function jsonObjectGrammar(): Promise<string> {
  jsonObjectGrammarText ??= readFile(
    fileURLToPath(new URL('../llama/grammars/json.gbnf', import.meta.resolve('node-llama-cpp'))),
    'utf8',
  );
  return jsonObjectGrammarText;
}

async function outputGrammar(
  model: LlamaModel,
  constraints: GenerationConstraints,
): Promise<LlamaGrammar | undefined> {
  const output = constraints.output;
  if (!output) return undefined;
  if (output.kind === 'json') return model.llama.createGrammar({ grammar: await jsonObjectGrammar() });
  return model.llama.createGrammarForJsonSchema(
    toGrammarSchema(output.schema, 'response_format.json_schema.schema') as never,
  );
}

function tokenBias(model: LlamaModel, sampling: SamplingOptions): TokenBias | undefined {
  if (!sampling.ignoreEos && !sampling.logitBias?.size) return undefined;
  const bias = sampling.ignoreEos ? endOfGenerationBan(model) : TokenBias.for(model);
  for (const [token, value] of sampling.logitBias ?? []) {
    // OpenAI's -100 / 100 mean "never" / "always"; in between, an additive logit bias.
    bias.set(token as Token, value <= -100 ? 'never' : { logit: value });
  }
  return bias;
}

function stopCause(stopReason: string, signal: AbortSignal): StopCause {
  if (stopReason === 'maxTokens') return 'length';
  if (stopReason === 'abort' || signal.aborted) return 'aborted';
  if (stopReason === 'customStopTrigger' || stopReason === 'stopGenerationTrigger') return 'stop';
  return 'eos';
}

function repeatPenalty(sampling: SamplingOptions): false | LLamaContextualRepeatPenalty {
  if (sampling.presencePenalty === 0 && sampling.frequencyPenalty === 0) return false;
  // OpenAI's penalties are additive on logits, on every token (node-llama-cpp leaves the newline out unless
  // told); llama.cpp's multiplicative repeat penalty stays neutral (1).
  return {
    penalty: 1,
    penalizeNewLine: true,
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
