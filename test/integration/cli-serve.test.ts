import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { repoRoot, runCli, spawnServer, waitUntilReady, type ServerProcess } from '../helpers/server.ts';
import { expectStoppedAtMaxTokens } from '../helpers/tokens.ts';

const dirs: string[] = [];
const running: ServerProcess[] = [];

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lmx-cli-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const server of running.splice(0)) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const quiet = { LMX_LOG_LEVEL: 'warn', LMX_ENGINE_THREADS: '1', LMX_GPU: 'off' };

describe('lmx serve', () => {
  it('prints exactly one listening line on stdout and serves the model given with --model', async () => {
    const server = await spawnServer(
      [
        '--model',
        // A path relative to where the command runs, as a person types it.
        path.relative(repoRoot, await testModelPath()),
        '--port',
        '0',
        '--data-dir',
        await dataDir(),
        '--context-size',
        '256',
      ],
      { ...quiet, LMX_LOG_LEVEL: 'info' },
    );
    running.push(server);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitUntilReady(server.url);
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const model = (await openai.models.list()).data[0]!.id;
    expect(model).toBe(path.basename(await testModelPath(), '.gguf'));
    const completion = await openai.completions.create({ model, prompt: 'a', max_tokens: 2, temperature: 0 });
    expectStoppedAtMaxTokens(completion.usage!.completion_tokens, 2);
    expect(server.stdout()).toBe(`LMX listening on ${server.url}\n`);
    // Logs are JSON on stderr.
    const firstLog = server.stderr().split('\n').find(Boolean)!;
    expect(JSON.parse(firstLog)).toHaveProperty('level');
  });

  it('starts with no --model, redirects / to the dashboard and serves it (built by npm ci)', async () => {
    const server = await spawnServer(['--port', '0', '--data-dir', await dataDir()], quiet);
    running.push(server);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'no_model_loaded' });
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    // The README's first command is `npm ci && npm run serve`: install builds the dashboard.
    const ui = await fetch(`${server.url}/ui/`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
    expect(await ui.text()).toContain('<div id="root">');
  });

  it('on SIGTERM lets a running stream finish, then exits 0', async () => {
    const server = await spawnServer(
      ['--model', await testModelPath(), '--port', '0', '--data-dir', await dataDir()],
      quiet,
    );
    running.push(server);
    await waitUntilReady(server.url);
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const model = (await openai.models.list()).data[0]!.id;
    const stream = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 200,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let signalled = false;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      if (!signalled && chunk.choices[0]?.delta?.content) {
        server.child.kill('SIGTERM');
        signalled = true;
      }
      usage = chunk.usage ?? usage;
    }
    expect(signalled).toBe(true);
    expectStoppedAtMaxTokens(usage!.completion_tokens, 200);
    expect(await server.exited).toBe(0);
  });
});

describe('configuration errors exit with code 2 and name the key', () => {
  it('a bad flag value', async () => {
    const result = await runCli(['serve', '--port', '70000', '--data-dir', await dataDir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/port/);
    expect(result.stderr).toMatch(/command line/);
  });

  it('an unknown flag', async () => {
    const result = await runCli(['serve', '--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no-such-flag/);
  });

  it('a bad environment variable', async () => {
    const result = await runCli(['serve', '--data-dir', await dataDir()], { LMX_PARALLEL: 'many' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/parallel/);
    expect(result.stderr).toMatch(/LMX_PARALLEL/);
  });

  it('a config file that is not JSON, and one with a wrong key', async () => {
    const dir = await dataDir();
    await writeFile(path.join(dir, 'config.json'), '{ nope');
    const broken = await runCli(['serve', '--data-dir', dir]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/config\.json/);

    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ queue: { maxQueued: -1 } }));
    const invalid = await runCli(['serve', '--data-dir', dir]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/queue\.maxQueued/);

    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ colour: 'blue' }));
    const unknown = await runCli(['serve', '--data-dir', dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/colour/);
  });
});
