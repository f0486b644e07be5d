// The in-process floor the suite compares the server against: node-llama-cpp's own LlamaChat on a context
// shaped like the server's (same context size, same sequence count, same threads), one stream, no HTTP.

import {
  getLlama,
  LlamaChat,
  LlamaLogLevel,
  type ChatHistoryItem,
  type LlamaContext,
  type LlamaModel,
} from 'node-llama-cpp';
import { distribution } from '../loadgen/percentiles.ts';
import type { Distribution } from '../loadgen/types.ts';

export interface InProcessOptions {
  modelPath: string;
  threads: number;
  gpu: 'auto' | 'off';
  /** The server's context size setting (capped at the model's trained context, as the server does). */
  contextSize: number;
  /** The server's `parallel`: sequences of the context. */
  sequences: number;
  prompt: string;
  maxTokens: number;
  /** Bound of each measurement. */
  timeoutMs: number;
}

export interface InProcessResult {
  runs: number;
  ttftMs?: Distribution;
  /** Per run: (tokens − 1) ÷ (time from first to last token). */
  decodeTokensPerSecond?: Distribution;
  outputTokens: number[];
}

/** A model loaded in this process, shaped like the server's, measured a few runs at a time. */
export class InProcessEngine {
  readonly #warm: Promise<unknown>;

  private constructor(
    private readonly options: InProcessOptions,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
  ) {
    // One unmeasured run first, as the HTTP side gets a warm-up request.
    this.#warm = this.#runOnce(performance.now() + options.timeoutMs);
  }

  static async open(options: InProcessOptions): Promise<InProcessEngine> {
    const llama = await getLlama({
      gpu: options.gpu === 'off' ? false : 'auto',
      build: 'never',
      logLevel: LlamaLogLevel.error,
    });
    const model = await llama.loadModel({ modelPath: options.modelPath });
    const context = await model.createContext({
      contextSize: Math.min(options.contextSize, model.trainContextSize),
      sequences: options.sequences,
      threads: options.threads,
    });
    return new InProcessEngine(options, model, context);
  }

  /** `runs` single-stream generations, bounded by the options' timeout. */
  async measure(runs: number): Promise<InProcessRun[]> {
    await this.#warm;
    const deadline = performance.now() + this.options.timeoutMs;
    const results: InProcessRun[] = [];
    for (let run = 0; run < runs && performance.now() < deadline; run++) {
      const result = await this.#runOnce(deadline);
      if (result) results.push(result);
    }
    return results;
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }

  async #runOnce(deadline: number): Promise<InProcessRun | undefined> {
    const sequence = this.context.getSequence();
    const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    const history: ChatHistoryItem[] = [
      { type: 'user', text: this.options.prompt },
      { type: 'model', response: [] },
    ];
    let first: number | undefined;
    let last = 0;
    let count = 0;
    const startedAt = performance.now();
    try {
      await chat.generateResponse(history, {
        maxTokens: this.options.maxTokens,
        // The server's default for requests that name none (OpenAI's default).
        temperature: 1,
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now()))),
        stopOnAbortSignal: true,
        onToken: (chunk) => {
          const now = performance.now();
          first ??= now;
          last = now;
          count += chunk.length;
        },
      });
    } finally {
      chat.dispose({ disposeSequence: false });
      sequence.dispose();
    }
    if (first === undefined) return undefined;
    return {
      ttftMs: first - startedAt,
      outputTokens: count,
      decodeTokensPerSecond: count > 1 && last > first ? ((count - 1) * 1000) / (last - first) : undefined,
    };
  }
}

export interface InProcessRun {
  ttftMs: number;
  outputTokens: number;
  decodeTokensPerSecond?: number;
}

export function summarizeInProcess(runs: readonly InProcessRun[]): InProcessResult {
  return {
    runs: runs.length,
    ttftMs: distribution(runs.map((run) => run.ttftMs)),
    decodeTokensPerSecond: distribution(runs.flatMap((run) => run.decodeTokensPerSecond ?? [])),
    outputTokens: runs.map((run) => run.outputTokens),
  };
}
