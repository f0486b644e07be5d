// The Responses output builder's events, fed to the openai SDK's own accumulator (what responses.stream()
// runs on every event): reasoning, text and function calls of one reply must rebuild the builder's items.
// (The integration tests cover text and calls end to end; a random-weight model never thinks.)
import type OpenAI from 'openai';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import { describe, expect, it } from 'vitest';
import { toChatTurns } from '../../server/api/openai/responses-input.ts';
import { ResponseOutputBuilder, type ResponseEvent } from '../../server/api/openai/responses-output.ts';

type StreamEvent = OpenAI.Responses.ResponseStreamEvent;

function accumulate(events: ResponseEvent[]): OpenAI.Responses.Response {
  let snapshot: OpenAI.Responses.Response | undefined;
  for (const event of events) snapshot = accumulateResponse(event as unknown as StreamEvent, snapshot);
  return snapshot!;
}

describe('ResponseOutputBuilder', () => {
  it('streams reasoning, then text, then two calls in the order the SDK accumulates', () => {
    const events: ResponseEvent[] = [];
    const output = new ResponseOutputBuilder((event) => events.push(event));
    output.event('response.created', { response: { id: 'resp_1', object: 'response', output: [] } });
    output.reasoning('Let me ');
    output.reasoning('think.');
    output.text('Hel');
    output.text('lo');
    output.toolCall({ index: 0, id: 'call_a', name: 'f', argumentsDelta: '{"a"' });
    output.toolCall({ index: 0, argumentsDelta: ':1}' });
    output.toolCall({ index: 1, id: 'call_b', name: 'g', argumentsDelta: '{}' });
    output.finish('completed');

    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const snapshot = accumulate(events);
    expect(snapshot.output).toEqual(output.items);
    expect(output.items.map((item) => item.type)).toEqual([
      'reasoning',
      'message',
      'function_call',
      'function_call',
    ]);
    expect(output.items[0]).toMatchObject({ content: [{ type: 'reasoning_text', text: 'Let me think.' }] });
    expect(output.items[2]).toMatchObject({
      call_id: 'call_a',
      name: 'f',
      arguments: '{"a":1}',
      status: 'completed',
    });
    expect(output.outputText).toBe('Hello');
    expect(snapshot.output_text).toBe('Hello');
  });

  it('gives a reply with nothing to show an empty message, marked incomplete when cut', () => {
    const output = new ResponseOutputBuilder();
    output.finish('incomplete');
    expect(output.items).toMatchObject([
      { type: 'message', status: 'incomplete', content: [{ type: 'output_text', text: '' }] },
    ]);
  });
});

describe('toChatTurns', () => {
  it('makes reasoning, an assistant message and its calls one assistant turn; outputs tool turns', () => {
    const turns = toChatTurns('Be brief.', [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
      { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Greet.' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello' }] },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: 'done' },
      { type: 'function_call', call_id: 'c2', name: 'f', arguments: '{}' },
    ]);
    expect(turns).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      {
        role: 'assistant',
        content: 'Hello',
        reasoning: 'Greet.',
        toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }],
      },
      { role: 'tool', toolCallId: 'c1', content: 'done' },
      {
        role: 'assistant',
        content: '',
        reasoning: '',
        toolCalls: [{ id: 'c2', name: 'f', arguments: '{}' }],
      },
    ]);
  });
});
