import type { LlamaEmbeddingContext, LlamaModel, Token } from 'node-llama-cpp';
import { ContextPool, type PoolShape } from './context-pool.ts';
import { kindOfModelFile } from './model-kind.ts';

/** One input of an embedding request: text, or token ids as the client tokenized it. */
export type EmbeddingInput = string | readonly number[];

/** Tokens a model's input becomes, and whether they were cut to fit. */
export interface PreparedInput {
  tokens: Token[];
  /** Tokens evaluated, the model's added BOS/EOS included (what usage counts). */
  length: number;
}

/** Inputs longer than the context: the index of the first one, and its length. */
export class InputTooLongError extends Error {
  override readonly name = 'InputTooLongError';
  constructor(
    readonly index: number,
    readonly length: number,
    readonly limit: number,
  ) {
    super(
      `Input ${index} is ${length} tokens, longer than the model's context of ${limit} tokens; shorten it or send "truncate": true.`,
    );
  }
}

/** A token id the model's vocabulary does not have. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
  constructor(
    readonly index: number,
    readonly token: number,
  ) {
    super(`Input ${index} holds the token ${token}, which is not in the model's vocabulary.`);
  }
}

/** `dimensions` asked of a model that does not declare Matryoshka training, or larger than its vectors. */
export class DimensionsUnsupportedError extends Error {
  override readonly name = 'DimensionsUnsupportedError';
  constructor(model: string, dimensions: number, size: number, declared: boolean) {
    super(
      declared
        ? `The model '${model}' makes vectors of ${size} dimensions; 'dimensions' must be between 1 and ${size}.`
        : `The model '${model}' does not declare Matryoshka embeddings, so its vectors (${size} dimensions) cannot be shortened; leave 'dimensions' out.`,
    );
  }
}

/** L2-normalised, as llama.cpp's server and OpenAI return them (cosine similarity is then a dot product). */
export function normalized(vector: readonly number[], dimensions = vector.length): number[] {
  const kept = vector.slice(0, dimensions);
  const norm = Math.sqrt(kept.reduce((sum, value) => sum + value * value, 0));
  return norm === 0 ? kept : kept.map((value) => value / norm);
}

/** Tokenizes text (or checks client token ids) and cuts an input to `fit` tokens when asked. */
export function tokenizeFor(model: LlamaModel, input: EmbeddingInput, index: number): Token[] {
  if (typeof input === 'string') return model.tokenize(input, false);
  const size = vocabularySize(model);
  for (const token of input) {
    if (!Number.isInteger(token) || token < 0 || token >= size) throw new InvalidTokenError(index, token);
  }
  return [...input] as Token[];
}

function vocabularySize(model: LlamaModel): number {
  const tokens = (model.fileInfo.metadata as unknown as { tokenizer?: { ggml?: { tokens?: unknown[] } } })
    .tokenizer?.ggml?.tokens;
  return Array.isArray(tokens) ? tokens.length : Infinity;
}

/**
 * An embedding model in memory: `parallel` embedding contexts of node-llama-cpp, each evaluating one input
 * at a time; a request's inputs are spread over all of them.
 */
export class Embedder {
  /** Sizes the model was trained to be truncated to (Matryoshka); empty: it cannot be shortened. */
  readonly matryoshkaDimensions: readonly number[];

  private constructor(
    readonly model: LlamaModel,
    readonly contextSize: number,
    private readonly pool: ContextPool<LlamaEmbeddingContext>,
  ) {
    this.matryoshkaDimensions = kindOfModelFile(model.fileInfo).matryoshkaDimensions;
  }

  /** Throws DimensionsUnsupportedError unless the vectors may be cut to `dimensions`. */
  checkDimensions(id: string, dimensions: number | undefined): void {
    if (dimensions === undefined) return;
    const size = this.model.embeddingVectorSize;
    const declared = this.matryoshkaDimensions.length > 0;
    if (!declared || dimensions > size) throw new DimensionsUnsupportedError(id, dimensions, size, declared);
  }

  static async create(model: LlamaModel, shape: PoolShape): Promise<Embedder> {
    const pool = await ContextPool.create(shape, (options) => model.createEmbeddingContext(options));
    return new Embedder(model, shape.contextSize, pool);
  }

  /** Every input's tokens and evaluated length; too long: InputTooLongError, unless `truncate` cuts it. */
  prepare(inputs: readonly EmbeddingInput[], truncate: boolean): PreparedInput[] {
    const context = this.pool.contexts[0] as LlamaEmbeddingContext;
    // getEmbeddingFor refuses an input of contextSize tokens or more.
    const limit = this.contextSize - 1;
    return inputs.map((input, index) => {
      let tokens = tokenizeFor(this.model, input, index);
      let length = context.calculateInputLength(tokens);
      if (length > limit) {
        if (!truncate) throw new InputTooLongError(index, length, limit);
        tokens = tokens.slice(0, Math.max(0, tokens.length - (length - limit)));
        length = context.calculateInputLength(tokens);
      }
      return { tokens, length };
    });
  }

  /**
   * The pooled vectors of the inputs, in order, L2-normalised (after the Matryoshka cut to `dimensions`);
   * stops between inputs when `signal` aborts.
   */
  embed(inputs: readonly PreparedInput[], signal: AbortSignal, dimensions?: number): Promise<number[][]> {
    return Promise.all(
      inputs.map((input) =>
        this.pool.use(async (context) => {
          signal.throwIfAborted();
          return normalized((await context.getEmbeddingFor(input.tokens)).vector, dimensions);
        }),
      ),
    );
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
