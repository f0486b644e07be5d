import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { ensureRerankerModel } from '../fixtures/reranker.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Answers of many shapes; the tests assert on their fields.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON, checked by the assertions
type Json = any;

// The reranker fixture scores a document by its last word: "happy" > "little" > "girl" > Json other word
// (see test/fixtures/reranker.ts), so the order of a rerank answer is known in advance.
const DOCUMENTS = ['the cat sat on a mat', 'she was a girl', 'the dog was happy', 'a big ball', 'so little'];

describe('POST /v1/rerank with a real reranker', () => {
  let lmx: TestServer;

  beforeAll(async () => {
    lmx = await startTestServer();
    const modelsDir = path.join(lmx.dataDir, 'models');
    await mkdir(modelsDir, { recursive: true });
    await copyFile(await ensureRerankerModel(), path.join(modelsDir, 'ranker.gguf'));
    await copyFile(
      await ensureGeneratedModel('tiny', { poolingType: 1 }),
      path.join(modelsDir, 'embed.gguf'),
    );
  }, 120_000);
  afterAll(() => lmx?.stop());

  const rerank = async (route: string, body: unknown) => {
    const response = await fetch(`${lmx.url}/v1/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  it('orders documents by the reranker score, highest first', async () => {
    const { status, body } = await rerank('rerank', {
      model: 'ranker',
      query: 'who is glad',
      documents: DOCUMENTS,
    });
    expect(status).toBe(200);
    expect(body.results.map((result: Json) => result.index)).toEqual([
      2,
      4,
      1,
      expect.any(Number),
      expect.any(Number),
    ]);
    const scores = body.results.map((result: Json) => result.relevance_score);
    for (const score of scores) expect(score).toBeGreaterThan(0);
    for (const score of scores) expect(score).toBeLessThan(1);
    expect(scores[2]).toBeGreaterThan(scores[3]);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('cuts to top_n, returns documents on request and answers on /v1/reranking with {text} documents', async () => {
    const { body } = await rerank('reranking', {
      model: 'ranker',
      query: 'who is glad',
      documents: DOCUMENTS.map((text) => ({ text })),
      top_n: 2,
      return_documents: true,
    });
    expect(body.results).toEqual([
      { index: 2, relevance_score: expect.any(Number), document: { text: 'the dog was happy' } },
      { index: 4, relevance_score: expect.any(Number), document: { text: 'so little' } },
    ]);
  });

  it('lists the reranker kind and refuses the wrong kind both ways', async () => {
    const listed = (await (await fetch(`${lmx.url}/v1/models`)).json()) as {
      data: { id: string; kind: string }[];
    };
    expect(listed.data.find((model) => model.id === 'ranker')?.kind).toBe('reranker');
    const embedOnRanker = await lmx.openai.embeddings
      .create({ model: 'ranker', input: 'x' })
      .catch((error: unknown) => error);
    expect(embedOnRanker).toMatchObject({ status: 400, code: 'model_kind_mismatch' });
    const rankOnEmbed = await rerank('rerank', { model: 'embed', query: 'x', documents: ['y'] });
    expect(rankOnEmbed.status).toBe(400);
    expect(rankOnEmbed.body.error.code).toBe('model_kind_mismatch');
  });
});
