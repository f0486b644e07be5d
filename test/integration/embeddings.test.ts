import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel, testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Random weights: the vectors mean nothing, but the same text must give the same vector and different
// texts different ones; float and base64 answers must be the same numbers.
describe('POST /v1/embeddings', () => {
  let lmx: TestServer;

  beforeAll(async () => {
    const embedding = await ensureGeneratedModel('tiny', { poolingType: 1 });
    const matryoshka = await ensureGeneratedModel('tiny', { poolingType: 1, matryoshkaDimensions: [32, 64] });
    lmx = await startTestServer({ parallel: 2 });
    const modelsDir = path.join(lmx.dataDir, 'models');
    await mkdir(modelsDir, { recursive: true });
    await copyFile(embedding, path.join(modelsDir, 'embed.gguf'));
    await copyFile(matryoshka, path.join(modelsDir, 'embed-mrl.gguf'));
    await copyFile(await testModelPath(), path.join(modelsDir, 'chat.gguf'));
  }, 120_000);
  afterAll(() => lmx?.stop());

  it('answers the official SDK in float and base64 with the same vectors, one string and a batch', async () => {
    const texts = ['the cat sat', 'a dog ran far away', 'the cat sat'];
    const asFloat = await lmx.openai.embeddings.create({
      model: 'embed',
      input: texts,
      encoding_format: 'float',
    });
    const asBase64 = await lmx.openai.embeddings.create({ model: 'embed', input: texts });
    const one = await lmx.openai.embeddings.create({ model: 'embed', input: 'a dog ran far away' });
    expect(asFloat.data).toHaveLength(3);
    expect(asFloat.usage.prompt_tokens).toBeGreaterThan(0);
    const vectors = asFloat.data.map((item) => item.embedding);
    expect(asBase64.data.map((item) => item.embedding)).toEqual(vectors);
    expect(one.data[0]?.embedding).toEqual(vectors[1]);
    expect(vectors[0]).toEqual(vectors[2]);
    expect(vectors[0]).not.toEqual(vectors[1]);
    const norm = Math.hypot(...(vectors[0] ?? []));
    expect(norm).toBeCloseTo(1, 5);
  });

  it('takes token arrays', async () => {
    const response = await lmx.openai.embeddings.create({
      model: 'embed',
      input: [
        [5, 6, 7],
        [8, 9],
      ],
    });
    expect(response.data).toHaveLength(2);
  });

  it('lists the kind and refuses a model of the wrong kind, naming its kind', async () => {
    const listed = (await (await fetch(`${lmx.url}/v1/models`)).json()) as {
      data: { id: string; kind: string }[];
    };
    expect(listed.data.find((model) => model.id === 'embed')?.kind).toBe('embedding');
    expect(listed.data.find((model) => model.id === 'chat')?.kind).toBe('chat');
    const wrong = await lmx.openai.embeddings
      .create({ model: 'chat', input: 'x' })
      .catch((error: unknown) => error);
    expect(wrong).toMatchObject({ status: 400, code: 'model_kind_mismatch' });
    expect(String((wrong as Error).message)).toContain('chat model');
    const chat = await lmx.openai.chat.completions
      .create({ model: 'embed', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
      .catch((error: unknown) => error);
    expect(chat).toMatchObject({ status: 400, code: 'model_kind_mismatch' });
  });

  it('shortens vectors only for a model that declares Matryoshka dimensions', async () => {
    const refused = await lmx.openai.embeddings
      .create({ model: 'embed', input: 'x', dimensions: 16 })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, param: 'dimensions' });
    const short = await lmx.openai.embeddings.create({ model: 'embed-mrl', input: 'x', dimensions: 16 });
    expect(short.data[0]?.embedding).toHaveLength(16);
    expect(Math.hypot(...(short.data[0]?.embedding ?? []))).toBeCloseTo(1, 5);
  });

  it('refuses an input longer than the context naming its index, or truncates it when asked', async () => {
    const long = Array.from({ length: 600 }, (_, index) => 3 + (index % 50));
    const refused = await lmx.openai.embeddings
      .create({ model: 'embed', input: [[5, 6], long] })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, param: 'input[1]', code: 'input_too_long' });
    const response = await fetch(`${lmx.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'embed', input: [long], truncate: true }),
    });
    expect(response.status).toBe(200);
    const metrics = await (await fetch(`${lmx.url}/metrics`)).text();
    expect(metrics).toMatch(/lmx_embedded_tokens_total\{model="embed"\} [1-9]/);
    expect(metrics).toContain('route="/v1/embeddings"');
  });

  it('says which limit a request is over (inputs per request, tokens per input), not the first type tried', async () => {
    const refusal = async (input: unknown) => {
      const response = await fetch(`${lmx.url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'embed', input }),
      });
      expect(response.status).toBe(400);
      return ((await response.json()) as { error: { message: string; param: string } }).error;
    };
    expect(await refusal(Array.from({ length: 513 }, () => 'a'))).toMatchObject({
      param: 'input',
      message: "Invalid value for 'input': must NOT have more than 512 items.",
    });
    expect(await refusal([Array.from({ length: 32_769 }, () => 1)])).toMatchObject({
      param: 'input[0]',
      message: "Invalid value for 'input[0]': must NOT have more than 32768 items.",
    });
    expect(await refusal([])).toMatchObject({
      param: 'input',
      message: expect.stringMatching(/fewer than 1/),
    });
    expect(await refusal(5)).toMatchObject({
      param: 'input',
      message: "Invalid value for 'input': must be string.",
    });
  });
});
