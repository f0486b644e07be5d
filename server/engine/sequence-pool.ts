/**
 * The sequences of one model's context, kept between requests so a request whose prompt starts like an earlier
 * one (a chat that goes on, a shared system prompt, a retried request) reuses the tokens already evaluated: its
 * time to first token is the new tokens' only. node-llama-cpp does the reuse itself when a sequence already
 * holds a common prefix (it erases from the first different token); this pool picks which idle sequence a request
 * gets. The choice is by the text of the conversation, not its tokens, which is cheap and ranks the same:
 * the idle sequence whose last conversation shares the longest start with the new one, else the least recently
 * used (whose cache is the least likely to be wanted again).
 */
import type { LlamaContext, LlamaContextSequence } from 'node-llama-cpp';
import type { ChatTurn, GenerationInput, GenerationResult } from './generation.ts';

/** What a sequence holds after a request: its input and the text generated on it. */
export type SequenceHistory =
  { kind: 'chat'; turns: readonly ChatTurn[] } | { kind: 'completion'; text: string };

interface IdleSequence {
  sequence: LlamaContextSequence;
  history: SequenceHistory;
}

export class SequencePool {
  /** In the order they were released: the first is the least recently used. */
  #idle: IdleSequence[] = [];
  #created = 0;

  constructor(private readonly context: LlamaContext) {}

  /**
   * An idle sequence for this input (callers hold an admission slot, so one is idle or can be created).
   * Give it back with `release`, or `discard` it when its state cannot be trusted.
   */
  take(input: GenerationInput): LlamaContextSequence {
    // The longest shared start; among equals the first, i.e. the least recently used.
    let best: IdleSequence | undefined;
    let bestScore = -1;
    for (const idle of this.#idle) {
      const score = sharedStart(input, idle.history);
      if (score > bestScore) {
        best = idle;
        bestScore = score;
      }
    }
    // Prefer a fresh sequence over evicting a cache that shares nothing with this request.
    if (!best || (bestScore === 0 && this.#created < this.context.totalSequences)) return this.#create();
    this.#idle.splice(this.#idle.indexOf(best), 1);
    return best.sequence;
  }

  /** Back to the pool, remembering what it now holds. */
  release(sequence: LlamaContextSequence, history: SequenceHistory): void {
    this.#idle.push({ sequence, history });
  }

  /** Frees a sequence whose generation failed; the next request gets a fresh one. */
  async discard(sequence: LlamaContextSequence): Promise<void> {
    this.#created--;
    await sequence.dispose();
  }

  /** Sequences a generation holds now (taken and not yet released or discarded). */
  get busy(): number {
    return this.#created - this.#idle.length;
  }

  #create(): LlamaContextSequence {
    const sequence = this.context.getSequence();
    this.#created++;
    return sequence;
  }
}

/** What a sequence holds after generating `result` for `input`. */
export function historyAfter(input: GenerationInput, result: GenerationResult): SequenceHistory {
  return input.kind === 'chat'
    ? {
        kind: 'chat',
        turns: [
          ...input.messages,
          {
            role: 'assistant',
            content: result.text,
            reasoning: result.reasoning,
            toolCalls: result.toolCalls,
          },
        ],
      }
    : { kind: 'completion', text: input.prompt + result.text };
}

/** A turn's text for comparing conversations (tool calls and results included). */
function turnText(turn: ChatTurn): string {
  return turn.role === 'assistant' && (turn.toolCalls?.length || turn.reasoning)
    ? JSON.stringify(turn)
    : turn.content;
}

/**
 * How much of the new input's start the held history already covers: characters of the common start for
 * completions, and for chats the characters of the leading turns that are equal (role and content).
 */
function sharedStart(input: GenerationInput, history: SequenceHistory): number {
  if (input.kind === 'completion' && history.kind === 'completion')
    return commonPrefixLength(input.prompt, history.text);
  if (input.kind === 'chat' && history.kind === 'chat') {
    let shared = 0;
    for (let i = 0; i < input.messages.length && i < history.turns.length; i++) {
      const a = input.messages[i] as ChatTurn;
      const b = history.turns[i] as ChatTurn;
      if (a.role !== b.role) break;
      const [textA, textB] = [turnText(a), turnText(b)];
      if (textA !== textB) return shared + commonPrefixLength(textA, textB);
      shared += textA.length + 1;
    }
    return shared;
  }
  return 0;
}

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}
