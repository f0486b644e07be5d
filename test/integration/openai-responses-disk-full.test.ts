// A response the store cannot keep (the data dir's disk is full) is not handed out as stored: the client
// gets OpenAI's error shape (or, streamed, `error` then `response.failed`), never a stream left open.
// On a 2 MiB tmpfs; skipped with the reason printed where none can be mounted.
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';
import { mountSmallDisk, type SmallDisk } from '../helpers/tmpfs.ts';

let mounted: SmallDisk | undefined;
let server: ServerProcess | undefined;
afterAll(async () => {
  server?.child.kill('SIGKILL');
  await server?.exited;
  await mounted?.unmount();
});

describe('the Responses store on a full disk', () => {
  it('refuses to claim a response stored that it could not keep', async (context) => {
    const disk = await mountSmallDisk('2m');
    if ('skipReason' in disk) {
      console.log(`skipped: ${disk.skipReason}`);
      return context.skip();
    }
    mounted = disk;
    const file = await ensureGeneratedModel('tiny', { chatTemplate: true });
    const args = [...smallServerArgs(path.join(disk.dir, 'data'), 'lmx-test-admin-key-0123456789')];
    server = await spawnServer([...args, '--model', file], { LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0' });
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const model = (await openai.models.list()).data[0]!.id;
    await openai.responses.create({ model, input: 'x', max_output_tokens: 1 });
    await disk.fill();

    const refused = (await openai.responses
      .create({ model, input: 'x', max_output_tokens: 1 })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect([503, 507]).toContain(refused.status);
    expect(['storage_unavailable', 'insufficient_storage']).toContain(refused.code);

    const stream = await openai.responses.create({ model, input: 'x', max_output_tokens: 1, stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.slice(-2)).toEqual(['error', 'response.failed']);

    // What is not to be kept is answered as ever.
    const unkept = await openai.responses.create({ model, input: 'x', max_output_tokens: 1, store: false });
    expect(unkept.status).not.toBe('failed');
    expect(server.child.exitCode).toBeNull();
  }, 120_000);
});
