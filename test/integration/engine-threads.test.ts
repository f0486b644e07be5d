import { afterEach, describe, expect, it } from 'vitest';
import { libuvPoolSize } from '../../server/engine/threads.ts';
import { testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let lmx: TestServer | undefined;
afterEach(async () => {
  await lmx?.stop();
  lmx = undefined;
});

interface Component {
  name: string;
  details: Record<string, unknown>;
}

async function healthComponents(server: TestServer): Promise<Component[]> {
  return ((await (await server.admin('/admin/health')).json()) as { components: Component[] }).components;
}

describe('decode threads', () => {
  it('a configured engine.threads is used as is and reported in deep health', async () => {
    lmx = await startTestServer({ startupModels: [await testModelPath()], engine: { threads: 1 } });
    const model = (await lmx.openai.models.list()).data[0]!.id;
    expect(lmx.server.models.loaded(model)!.context.currentThreads).toBe(1);
    const components = await healthComponents(lmx);
    expect(components.find((c) => c.name === 'engine')!.details).toMatchObject({
      backend: 'cpu',
      threads: 1,
      threadsReason: 'configured (engine.threads)',
      libuvThreadpoolSize: libuvPoolSize(),
    });
    expect(components.find((c) => c.name === `model:${model}`)!.details).toMatchObject({ threads: 1 });
  });

  it('engine.threads 0 on the CPU calibrates the candidates at load and keeps the faster', async () => {
    lmx = await startTestServer({ startupModels: [await testModelPath()], engine: { threads: 0 } });
    const model = (await lmx.openai.models.list()).data[0]!.id;
    const engine = (await healthComponents(lmx)).find((c) => c.name === 'engine')!.details;
    const candidates = engine.calibrate as number[];
    expect(candidates.length).toBeGreaterThanOrEqual(1);
    const loaded = lmx.server.models.loaded(model)!;
    if (candidates.length >= 2) {
      expect(loaded.options.threadsReason).toMatch(/calibrat/i);
      expect(candidates).toContain(loaded.options.threads);
    }
    expect(loaded.context.currentThreads).toBe(loaded.options.threads);
  });
});
