import type OpenAI from 'openai';

/** The reasoning field LMX (like llama-server, LM Studio and DeepSeek) adds to messages and deltas. */
export type Reasoned = { reasoning_content?: string };

/** A chat stream's reasoning and answer, each its deltas joined. */
export async function streamedTexts(
  stream: AsyncIterable<OpenAI.ChatCompletionChunk>,
): Promise<{ reasoning: string; content: string }> {
  let reasoning = '';
  let content = '';
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & Reasoned) | undefined;
    reasoning += delta?.reasoning_content ?? '';
    content += delta?.content ?? '';
  }
  return { reasoning, content };
}

/** The prompt tokens of a three-turn chat whose assistant turn carries this reasoning_content (or none). */
export async function promptTokensWithReasoning(
  openai: OpenAI,
  model: string,
  reasoning?: string,
): Promise<number> {
  const completion = await openai.chat.completions.create({
    model,
    messages: [
      { role: 'user', content: 'Hi' },
      {
        role: 'assistant',
        content: 'Hello',
        ...(reasoning ? { reasoning_content: reasoning } : {}),
      } as OpenAI.ChatCompletionAssistantMessageParam,
      { role: 'user', content: 'And?' },
    ],
    max_tokens: 1,
  });
  return completion.usage!.prompt_tokens;
}
