import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { processExists, supervise, type Harness } from './supervisor-harness.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function runningWithModel(): Promise<{ h: Harness; openai: OpenAI; model: string }> {
  const file = await testModelPath();
  const h = await supervise({ startupModels: [file] });
  harness = h;
  h.supervisor.start();
  await h.until('running', () => h.supervisor.status === 'running');
  await h.until('the model to load', () =>
    h.messages.some((m) => m.type === 'activity' && m.loadedModels === 1),
  );
  const openai = new OpenAI({ baseURL: `${h.supervisor.serverUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  return { h, openai, model: path.basename(file, '.gguf') };
}

describe('server supervisor: quit → drain → exit', () => {
  it('lets an in-flight stream finish, then the server exits 0 and is not restarted', async () => {
    const { h, openai, model } = await runningWithModel();
    const pid = h.supervisor.pid!;
    const stream = await openai.completions.create({
      model,
      prompt: 'Once upon a time',
      max_tokens: 64,
      stream: true,
    });
    const chunks: string[] = [];
    let finish: string | null = null;
    let quitting: Promise<void> | undefined;
    for await (const chunk of stream) {
      chunks.push(chunk.choices[0]?.text ?? '');
      finish = chunk.choices[0]?.finish_reason ?? finish;
      // Quit once the request is surely in flight.
      quitting ??= h.supervisor.quit();
    }
    expect(quitting).toBeDefined();
    await quitting;

    expect(finish).toBe('length');
    expect(chunks.length).toBeGreaterThan(1);
    expect(h.exits).toEqual([{ pid, code: 0, signal: undefined, expected: true }]);
    const states = h.messages.filter((m) => m.type === 'state').map((m) => m.state);
    expect(states.slice(-2)).toEqual(['draining', 'stopped']);
    expect(h.statuses.slice(-2)).toEqual(['draining', 'stopped']);
    expect(h.restarts).toEqual([]);
    expect(processExists(pid)).toBe(false);
  }, 120_000);

  it('a second quit does not wait for the drain', async () => {
    const { h } = await runningWithModel();
    const pid = h.supervisor.pid!;
    const first = h.supervisor.quit();
    const second = h.supervisor.quit();
    await Promise.all([first, second]);
    expect(h.exits).toHaveLength(1);
    expect(h.exits[0]).toMatchObject({ pid, signal: 'SIGTERM', expected: true });
    expect(h.supervisor.status).toBe('stopped');
    expect(processExists(pid)).toBe(false);
  }, 120_000);
});
