/**
 * Log probabilities of the answer's tokens (OpenAI's `logprobs` / `top_logprobs`).
 *
 * node-llama-cpp 3.21.1's LlamaChat and LlamaCompletion draw every token through `sequence.evaluate`,
 * which asks the sampler for no metadata and exposes no probabilities. While a generation that wants them
 * runs, the sequence's `evaluate` is replaced (on that instance only, restored after) by the same loop
 * over its public `evaluateWithMetadata` with `probabilities: true`, which records each drawn token with
 * the sampler's distribution. The probabilities are those the token was drawn from: after logit bias,
 * penalties, the grammar and, above temperature 0, top-k / top-p / min-p and temperature (llama-server's
 * `post_sampling_probs`); at temperature 0 they are the model's whole distribution.
 *
 * Not every drawn token is answer text (thoughts, tool-call syntax, a chat wrapper's stop trigger): the
 * generation hands the answer's tokens over as LlamaChat / LlamaCompletion release them, and they are
 * matched in order against what was drawn.
 */
import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';

export interface TokenAlternative {
  token: string;
  /** The UTF-8 bytes of `token`. */
  bytes: number[];
  /** Natural log of the probability, ≤ 0. */
  logprob: number;
}

export interface TokenLogprob extends TokenAlternative {
  /** Where the token starts in the answer text, in UTF-16 code units. */
  offset: number;
  /** The most likely tokens at this position, most likely first (up to the count asked for). */
  top: TokenAlternative[];
}

interface Drawn {
  token: Token;
  probability: number;
  top: [Token, number][];
}

/** How many preceding tokens detokenization looks at (leading spaces of SentencePiece pieces). */
const detokenizeContext = 4;

export class AnswerLogprobs {
  readonly #model: LlamaModel;
  readonly #topCount: number;
  /** Drawn tokens not yet matched to answer text, oldest first. */
  readonly #drawn: Drawn[] = [];
  /** The answer's entries, in order. */
  readonly #entries: TokenLogprob[] = [];
  #textLength = 0;
  /** How many entries, and how much answer text, went out with the streamed text. */
  #releasedEntries = 0;
  #releasedLength = 0;
  #lastTokens: Token[] = [];

  constructor(model: LlamaModel, topCount: number) {
    this.#model = model;
    this.#topCount = topCount;
  }

  /** Records every token drawn on the sequence until the returned function is called. */
  record(sequence: LlamaContextSequence): () => void {
    const drawn = this.#drawn;
    const topCount = this.#topCount;
    const evaluate: LlamaContextSequence['evaluate'] = async function* (tokens, options) {
      const iterator = sequence.evaluateWithMetadata(tokens, { probabilities: true }, options);
      let input: Token | Token[] | void = undefined;
      try {
        while (true) {
          const { value, done } = await iterator.next(input);
          if (done) return;
          const top: [Token, number][] = [];
          for (const pair of value.probabilities) {
            if (top.length >= topCount) break;
            top.push(pair);
          }
          drawn.push({ token: value.token, probability: value.probabilities.get(value.token) ?? 0, top });
          input = yield value.token;
        }
      } finally {
        await iterator.return();
      }
    };
    Object.defineProperty(sequence, 'evaluate', { value: evaluate, configurable: true, writable: true });
    return () => {
      delete (sequence as { evaluate?: unknown }).evaluate;
    };
  }

  /** Released tokens that are not answer text (thoughts): matched, so answer tokens cannot take their place. */
  skip(tokens: readonly Token[]): void {
    for (const token of tokens) this.#match(token);
  }

  /** The next tokens of the answer text, as the generation releases them. */
  add(tokens: readonly Token[]): void {
    for (const token of tokens) {
      const drawn = this.#match(token);
      if (!drawn) continue;
      const context = this.#lastTokens;
      const text = this.#model.detokenize([token], false, context);
      this.#entries.push({
        ...alternative(text, drawn.probability),
        offset: this.#textLength,
        top: drawn.top
          .filter(([, probability]) => probability > 0)
          .map(([alt, probability]) =>
            alternative(this.#model.detokenize([alt], true, context), probability),
          ),
      });
      this.#textLength += text.length;
      this.#lastTokens = [...context, token].slice(-detokenizeContext);
    }
  }

  /** The entries of tokens starting within the next `length` characters of answer text sent on. */
  release(length: number): TokenLogprob[] {
    this.#releasedLength += length;
    const from = this.#releasedEntries;
    while (
      this.#releasedEntries < this.#entries.length &&
      (this.#entries[this.#releasedEntries] as TokenLogprob).offset < this.#releasedLength
    )
      this.#releasedEntries++;
    return this.#entries.slice(from, this.#releasedEntries);
  }

  /** The entries of the tokens that start within the final answer text (a stop string cuts the rest). */
  within(text: string): TokenLogprob[] {
    return this.#entries.filter(({ offset }) => offset < text.length);
  }

  /** The oldest drawn token that is this one; the drawn tokens before it were not released as text. */
  #match(token: Token): Drawn | undefined {
    const at = this.#drawn.findIndex((drawn) => drawn.token === token);
    return at < 0 ? undefined : this.#drawn.splice(0, at + 1)[at];
  }
}

function alternative(token: string, probability: number): TokenAlternative {
  // A float32 distribution can sum a hair above 1.
  return { token, bytes: [...Buffer.from(token, 'utf8')], logprob: Math.min(0, Math.log(probability)) };
}
