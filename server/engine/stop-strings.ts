/**
 * OpenAI stop strings, found in the generated text as it streams.
 *
 * LlamaCompletion (node-llama-cpp 3.21, still so in 3.22) matches stop triggers against each token
 * detokenized on its own, and a SentencePiece token read alone loses its leading space ("▁Lily" reads
 * "Lily"). So a stop string containing a space never matches, and one without can match across a word
 * boundary ("namedLily" in " named Lily"). The text it streams is detokenized in context and is right,
 * so completions look for their stop strings here instead. Chat does too: LlamaChat matches in context,
 * but an answer that reaches max_tokens while it holds back the start of a stop string loses that text.
 */
export class StopStringScanner {
  readonly #stops: readonly string[];
  /** Text not released yet: the longest tail that may still grow into a stop string. */
  #held = '';
  #found = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((stop) => stop !== '');
  }

  /** Whether a stop string has appeared; nothing is released after it. */
  get found(): boolean {
    return this.#found;
  }

  /** Takes the next piece of text; returns what can be sent on: never a stop string nor the start of one. */
  push(text: string): string {
    if (this.#found) return '';
    const pending = this.#held + text;
    const at = firstStopIndex(pending, this.#stops);
    if (at !== undefined) {
      this.#found = true;
      this.#held = '';
      return pending.slice(0, at);
    }
    const keep = this.#longestTailStartingAStop(pending);
    this.#held = pending.slice(pending.length - keep);
    return pending.slice(0, pending.length - keep);
  }

  /** The held-back tail, when the generation ended without a stop string. */
  flush(): string {
    const held = this.#held;
    this.#held = '';
    return held;
  }

  #longestTailStartingAStop(text: string): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
        if (text.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}

/** Where the earliest of the stop strings starts in the text (undefined if none is in it). */
export function firstStopIndex(text: string, stops: readonly string[]): number | undefined {
  let first: number | undefined;
  for (const stop of stops) {
    if (stop === '') continue;
    const at = text.indexOf(stop);
    if (at !== -1 && (first === undefined || at < first)) first = at;
  }
  return first;
}
