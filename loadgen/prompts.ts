import { readFile } from 'node:fs/promises';

/** One prompt of a run, usable on either endpoint. */
export interface BenchPrompt {
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  /** The same prompt as plain text, for /v1/completions. */
  text: string;
}

export type BuiltInPromptSet = 'short' | 'medium' | 'long';
export const builtInPromptSets: readonly BuiltInPromptSet[] = ['short', 'medium', 'long'];

const storyOpenings = [
  'Once upon a time there was a little girl named Lily who loved to play in the park.',
  'Tom had a red ball. One day the ball rolled away into the big green forest.',
  'The sun was shining and the birds were singing when Ben found a shiny key.',
  'Sara and her dog Max went to the beach to build a very big sand castle.',
];

const scene =
  'The wind moved through the tall grass and the children laughed as they ran to the old tree by the river. ' +
  'Their mother called them home for dinner, but they wanted to stay and watch the boats go by. ';

/**
 * A fixed set per length, so runs are comparable across days and servers. Lengths are in words,
 * roughly: short ≈ 15, medium ≈ 90, long ≈ 300 (well inside a 2 k context with room to generate).
 */
function builtIn(set: BuiltInPromptSet): string[] {
  const repeat = set === 'short' ? 0 : set === 'medium' ? 2 : 8;
  return storyOpenings.map((opening) => `${scene.repeat(repeat)}${opening} Tell the rest of the story.`);
}

export function builtInPrompts(set: BuiltInPromptSet): BenchPrompt[] {
  return builtIn(set).map(fromText);
}

export function isBuiltInPromptSet(value: string): value is BuiltInPromptSet {
  return (builtInPromptSets as readonly string[]).includes(value);
}

/** `short|medium|long`, or a JSONL file of `{"prompt": "..."}` or `{"messages": [...]}` lines. */
export async function loadPrompts(spec: string): Promise<BenchPrompt[]> {
  if (isBuiltInPromptSet(spec)) return builtInPrompts(spec);
  let text: string;
  try {
    text = await readFile(spec, 'utf8');
  } catch (error) {
    throw new PromptFileError(`cannot read prompt file ${spec}: ${(error as Error).message}`);
  }
  return parsePromptLines(text, spec);
}

export class PromptFileError extends Error {
  override name = 'PromptFileError';
}

export function parsePromptLines(text: string, source = 'prompts'): BenchPrompt[] {
  const prompts: BenchPrompt[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${source}:${index + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new PromptFileError(`${where}: not valid JSON`);
    }
    prompts.push(promptFromJson(parsed, where));
  });
  if (prompts.length === 0) throw new PromptFileError(`${source}: no prompts in the file`);
  return prompts;
}

function promptFromJson(value: unknown, where: string): BenchPrompt {
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record.prompt === 'string' && record.prompt.length > 0) return fromText(record.prompt);
    if (Array.isArray(record.messages) && record.messages.length > 0) {
      const messages = record.messages.map((message: unknown, index) => {
        const { role, content } = (message ?? {}) as Record<string, unknown>;
        if ((role !== 'system' && role !== 'user' && role !== 'assistant') || typeof content !== 'string') {
          throw new PromptFileError(
            `${where}: messages[${index}] needs a role (system, user, assistant) and string content`,
          );
        }
        return { role, content } as BenchPrompt['messages'][number];
      });
      return { messages, text: messages.map((message) => message.content).join('\n') };
    }
  }
  throw new PromptFileError(`${where}: expected {"prompt": "..."} or {"messages": [...]}`);
}

function fromText(text: string): BenchPrompt {
  return { messages: [{ role: 'user', content: text }], text };
}
