import { rm } from 'node:fs/promises';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';

const ADMIN_KEY = 'lmx-test-admin-key-0123456789';
const MAX_RESPONSES = 80;

// A real `lmx serve` killed with SIGKILL while stored responses are being written, then started again on
// the same data dir: every response the client got back is there, as it was sent, and the store goes on.
describe('Responses store under kill -9', () => {
  it('keeps every acknowledged response', async () => {
    const dataDir = await makeDataDir();
    const file = await ensureGeneratedModel('tiny', { chatTemplate: true });
    const args = [...smallServerArgs(dataDir, ADMIN_KEY), '--model', file];
    const servers: ServerProcess[] = [];
    const start = async () => {
      const started = await spawnServer(args, { LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0' });
      servers.push(started);
      return started;
    };
    try {
      await killedWhileStoring(start);
    } finally {
      for (const server of servers) server.child.kill('SIGKILL');
      await Promise.all(servers.map((server) => server.exited));
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});

async function killedWhileStoring(start: () => Promise<ServerProcess>): Promise<void> {
  let server = await start();
  const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
  let openai = client(server.url);
  await expect.poll(async () => (await openai.models.list()).data.length, { timeout: 60_000 }).toBe(1);
  const model = (await openai.models.list()).data[0]!.id;

  const acknowledged = new Map<string, string>();
  // Two requests in flight at a time; the kill lands while some are being answered and stored.
  const worker = async (first: number) => {
    for (let index = first; index < MAX_RESPONSES; index += 2) {
      const response = await openai.responses
        .create({ model, input: `Story ${index}`, max_output_tokens: 2, store: true })
        .catch(() => undefined);
      if (!response) return;
      acknowledged.set(response.id, response.output_text);
    }
  };
  const workers = [worker(0), worker(1)];
  const deadline = Date.now() + 60_000;
  while (acknowledged.size < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(acknowledged.size).toBeGreaterThanOrEqual(10);
  server.child.kill('SIGKILL');
  await server.exited;
  await Promise.all(workers);

  server = await start();
  openai = client(server.url);
  for (const [id, text] of acknowledged) {
    const stored = await openai.responses.retrieve(id);
    expect(stored.output_text, id).toBe(text);
  }
  // The store still takes writes, and a stored response still continues its conversation.
  await expect.poll(async () => (await openai.models.list()).data.length, { timeout: 60_000 }).toBe(1);
  const [lastId] = [...acknowledged.keys()].slice(-1);
  const next = await openai.responses.create({
    model,
    input: 'And then?',
    previous_response_id: lastId,
    max_output_tokens: 2,
  });
  expect((await openai.responses.inputItems.list(next.id)).data).toHaveLength(3);
}
