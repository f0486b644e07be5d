import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { makeDataDir, startTestServer } from '../helpers/server.ts';
import { adminCall, adminHeavy } from '../helpers/model-library.ts';

const stateFile = (dataDir: string) => path.join(dataDir, 'runtime-state.json');

describe('runtime state file', () => {
  for (const [name, content] of [
    ['garbage', 'this is {not json at all'],
    ['torn', '{"version":1,"pid":12345,"last_clean_shutdown":false,"startup_count":4,"recent_st'],
    ['wrong shape', JSON.stringify({ version: 1, pid: 'nope' })],
  ] as const) {
    it(`moves a ${name} state file aside and starts fresh`, async () => {
      const dataDir = await makeDataDir();
      await writeFile(stateFile(dataDir), content);
      const lmx = await startTestServer({ dataDir, startupModels: [await testModelPath()], ...adminHeavy });
      try {
        const completion = await lmx.openai.completions.create({
          model: (await lmx.openai.models.list()).data[0]!.id,
          prompt: 'Hi',
          max_tokens: 2,
        });
        expect(completion.choices.length).toBe(1);
        const aside = (await readdir(dataDir)).filter((file) =>
          file.startsWith('runtime-state.json.corrupt-'),
        );
        expect(aside.length).toBe(1);
        expect(await readFile(path.join(dataDir, aside[0]!), 'utf8')).toBe(content);
        const fresh = JSON.parse(await readFile(stateFile(dataDir), 'utf8'));
        expect(fresh).toMatchObject({
          version: 1,
          startup_count: 1,
          pid: process.pid,
          last_clean_shutdown: false,
        });
        const state = await adminCall(lmx.url, lmx.adminKey, 'GET', '/admin/state');
        expect(state.body.lastCleanShutdown).toBeNull();
      } finally {
        await lmx.stop();
      }
      expect(JSON.parse(await readFile(stateFile(dataDir), 'utf8')).last_clean_shutdown).toBe(true);
    });
  }

  it('keeps serving when the state cannot be written, and says why', async () => {
    const dataDir = await makeDataDir();
    // A directory where the file should be: unreadable and unwritable, even for root (unlike chmod).
    await mkdir(stateFile(dataDir));
    const lmx = await startTestServer({ dataDir, startupModels: [await testModelPath()], ...adminHeavy });
    try {
      const model = (await lmx.openai.models.list()).data[0]!.id;
      const completion = await lmx.openai.completions.create({ model, prompt: 'Hi', max_tokens: 2 });
      expect(completion.choices.length).toBe(1);
      const state = await adminCall(lmx.url, lmx.adminKey, 'GET', '/admin/state');
      expect(state.status).toBe(200);
      expect(state.body.reason).toMatch(/cannot write .*runtime-state\.json/);
    } finally {
      await lmx.stop();
    }
  });
});
