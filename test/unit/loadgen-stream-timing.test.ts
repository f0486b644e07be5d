import { describe, expect, it } from 'vitest';
import { readChunk, StreamTimer } from '../../loadgen/stream-timing.ts';

const chatChunk = (content: string | undefined, role = false) => ({
  object: 'chat.completion.chunk',
  choices: [
    {
      index: 0,
      delta: { ...(role ? { role: 'assistant' } : {}), ...(content === undefined ? {} : { content }) },
    },
  ],
});

describe('StreamTimer', () => {
  it('starts TTFT at the first content token, not at the role chunk', () => {
    const timer = new StreamTimer(1000);
    timer.onChunk(readChunk(chatChunk('', true)), 1010); // admitted: role only
    timer.onChunk(readChunk(chatChunk('Once')), 1250);
    timer.onChunk(readChunk(chatChunk(' upon')), 1270);
    timer.onChunk(readChunk(chatChunk(' a')), 1300);
    timer.onChunk(readChunk({ choices: [{ index: 0, delta: {}, finish_reason: 'length' }] }), 1301);
    const timing = timer.finish(1310);
    expect(timing.ttftMs).toBe(250);
    expect(timing.interTokenMs).toEqual([20, 30]);
    expect(timing.outputTokens).toBe(3);
    expect(timing.tokenSource).toBe('chunks');
    // (310 − 250) / (3 − 1)
    expect(timing.tpotMs).toBe(30);
    expect(timing.chunkOffsetsMs).toEqual([250, 270, 300]);
  });

  it('prefers the usage count of the server over counted chunks', () => {
    const timer = new StreamTimer(0);
    timer.onChunk(readChunk(chatChunk('ab')), 100); // one chunk, two tokens
    timer.onChunk(readChunk(chatChunk('cd')), 120);
    timer.onChunk(readChunk({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 4 } }), 121);
    const timing = timer.finish(160);
    expect(timing.outputTokens).toBe(4);
    expect(timing.tokenSource).toBe('usage');
    expect(timing.promptTokens).toBe(7);
    expect(timing.tpotMs).toBe(20); // (160 − 100) / 3
  });

  it('reads completions chunks (choices[].text)', () => {
    const timer = new StreamTimer(0);
    timer.onChunk(readChunk({ object: 'text_completion', choices: [{ text: '' }] }), 5);
    timer.onChunk(readChunk({ object: 'text_completion', choices: [{ text: 'Hi' }] }), 40);
    expect(timer.finish(50).ttftMs).toBe(40);
  });

  it('has no TTFT or TPOT without content, and no TPOT with one token', () => {
    const empty = new StreamTimer(0);
    empty.onChunk(readChunk(chatChunk('', true)), 3);
    expect(empty.finish(10)).toMatchObject({ ttftMs: undefined, tpotMs: undefined, outputTokens: 0 });
    const one = new StreamTimer(0);
    one.onChunk(readChunk(chatChunk('x')), 3);
    expect(one.finish(10)).toMatchObject({ ttftMs: 3, tpotMs: undefined, outputTokens: 1 });
  });
});

describe('readChunk', () => {
  it('finds a mid-stream error object', () => {
    expect(readChunk({ error: { message: 'Generation failed.', type: 'server_error', code: null } })).toEqual(
      {
        text: '',
        error: { message: 'Generation failed.', code: undefined },
      },
    );
  });

  it('tolerates shapes it does not know', () => {
    expect(readChunk(null)).toEqual({ text: '' });
    expect(readChunk({ choices: 'nope' })).toEqual({ text: '' });
    expect(readChunk({ choices: [{ delta: { content: 5 } }] })).toEqual({ text: '' });
  });
});
