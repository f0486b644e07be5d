import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel, testModelPath } from '../fixtures/models.ts';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.ts';
import { adminHeavy } from '../helpers/model-library.ts';
import { ensureRerankerModel } from '../fixtures/reranker.ts';

// Answers of many shapes; the tests assert on their fields.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON, checked by the assertions
type Json = any;

// A random-weight embedding model: vectors carry no meaning, but identical texts embed identically, so a
// query equal to a chunk's text finds that chunk first with a cosine similarity of 1.
const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november';
const OTHER = 'oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu one two';

async function json(response: Response): Promise<Json> {
  return response.json();
}

describe('RAG store', () => {
  let dataDir: string;
  let lmx: TestServer;

  const start = () => startTestServer({ dataDir, ...adminHeavy });
  const v1 = (pathname: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') =>
    fetch(`${lmx.url}/v1${pathname}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const adminPost = (pathname: string, body: unknown) =>
    lmx.admin(pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const createCollection = (name: string, model: string, chunkSize?: number, chunkOverlap?: number) =>
    adminPost('/admin/rag/collections', { name, model, chunk_size: chunkSize, chunk_overlap: chunkOverlap });

  beforeAll(async () => {
    dataDir = await makeDataDir();
    const modelsDir = path.join(dataDir, 'models');
    await mkdir(modelsDir, { recursive: true });
    await copyFile(
      await ensureGeneratedModel('tiny', { poolingType: 1 }),
      path.join(modelsDir, 'embed.gguf'),
    );
    await copyFile(await testModelPath(), path.join(modelsDir, 'chat.gguf'));
    await copyFile(await ensureRerankerModel(), path.join(modelsDir, 'ranker.gguf'));
    lmx = await start();
  }, 120_000);
  afterAll(() => lmx?.stop());

  it('creates a collection, refuses a second of that name and one on a chat model', async () => {
    const created = await createCollection('notes', 'embed', 40, 0);
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({ name: 'notes', model: 'embed', chunks: 0, documents: 0 });
    const again = await createCollection('notes', 'embed');
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('collection_exists');
    const wrongKind = await createCollection('chatty', 'chat');
    expect(wrongKind.status).toBe(400);
    expect((await json(wrongKind)).error.code).toBe('model_kind_mismatch');
    const badOverlap = await createCollection('x', 'embed', 20, 20);
    expect(badOverlap.status).toBe(400);
    expect((await json(badOverlap)).error.param).toBe('chunk_overlap');
  });

  it('ingests chunked documents and finds a chunk by its own text, with metadata filters', async () => {
    const added = await v1('/rag/notes/documents', {
      documents: [
        { id: 'doc-a', text: WORDS, metadata: { topic: 'a', year: 2024 } },
        { id: 'doc-b', text: OTHER, metadata: { topic: 'b', year: 2025 } },
      ],
    });
    expect(added.status).toBe(201);
    const body = await json(added);
    expect(body.data).toEqual([
      { id: 'doc-a', chunks: expect.any(Number) },
      { id: 'doc-b', chunks: expect.any(Number) },
    ]);
    expect(body.data[0].chunks).toBeGreaterThan(1);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);

    const firstChunk = WORDS.slice(0, WORDS.lastIndexOf(' ', 40));
    const found = await json(await v1('/rag/notes/query', { query: firstChunk, top_k: 3 }));
    expect(found.data).toHaveLength(3);
    expect(found.data[0]).toMatchObject({ document_id: 'doc-a', chunk_index: 0, text: firstChunk });
    expect(found.data[0].score).toBeCloseTo(1, 4);
    expect(found.data[0].metadata).toEqual({ topic: 'a', year: 2024 });
    expect(found.data[1].score).toBeLessThan(found.data[0].score);

    const filtered = await json(
      await v1('/rag/notes/query', { query: firstChunk, top_k: 50, filter: { topic: 'b' } }),
    );
    expect(filtered.data.length).toBe(body.data[1].chunks);
    expect(filtered.data.every((hit: Json) => hit.document_id === 'doc-b')).toBe(true);
    const byNumber = await json(
      await v1('/rag/notes/query', { query: firstChunk, filter: { year: 2024, topic: 'a' } }),
    );
    expect(byNumber.data.every((hit: Json) => hit.document_id === 'doc-a')).toBe(true);
    // A number and the string of it are different values.
    const byString = await json(
      await v1('/rag/notes/query', { query: firstChunk, filter: { year: '2024' } }),
    );
    expect(byString.data).toEqual([]);
  });

  it('lists collections and documents with counts, and reports the store in deep health', async () => {
    const listed = await json(await lmx.admin('/admin/rag/collections'));
    const notes = listed.data.find((collection: Json) => collection.name === 'notes');
    const documents = await json(await v1('/rag/notes/documents'));
    const chunks = documents.data.reduce((sum: number, document: Json) => sum + document.chunks, 0);
    expect(notes).toMatchObject({ documents: 2, chunks, dimensions: expect.any(Number) });
    expect(documents.data.map((document: Json) => document.id).sort()).toEqual(['doc-a', 'doc-b']);
    const health = await json(await lmx.admin('/admin/health'));
    const rag = health.components.find((component: Json) => component.name === 'rag');
    expect(rag.status).toBe('ok');
    expect(rag.details).toMatchObject({
      opened: true,
      collections: 1,
      documents: 2,
      chunks,
      byCollection: [{ name: 'notes', model: 'embed', documents: 2, chunks }],
    });
    expect(rag.details.sizeBytes).toBeGreaterThan(0);
    expect(Date.parse(rag.details.lastWriteAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
  });

  it('ingests all documents of a call or none', async () => {
    await createCollection('wide', 'embed', 5000);
    const tooLong = Array.from({ length: 2400 }, (_, index) => `w${index % 97}`).join(' ');
    const refused = await v1('/rag/wide/documents', {
      documents: [
        { id: 'fits', text: WORDS },
        { id: 'too-long', text: tooLong },
      ],
    });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error).toMatchObject({ code: 'chunk_too_long', param: 'documents[1].text' });
    expect((await json(await v1('/rag/wide/documents'))).data).toEqual([]);

    const existing = await v1('/rag/notes/documents', {
      documents: [
        { id: 'doc-new', text: WORDS },
        { id: 'doc-a', text: OTHER },
      ],
    });
    expect(existing.status).toBe(409);
    expect((await json(existing)).error.code).toBe('document_exists');
    const ids = (await json(await v1('/rag/notes/documents'))).data.map((document: Json) => document.id);
    expect(ids).not.toContain('doc-new');
  });

  it('reorders the nearest chunks with a reranker when asked', async () => {
    await createCollection('moods', 'embed');
    // The reranker fixture scores by the last word: happy > little > girl > anything else.
    const texts = ['the cat sat on a mat', 'the dog was happy', 'so little', 'she was a girl'];
    await v1('/rag/moods/documents', { documents: texts.map((text, index) => ({ id: `m${index}`, text })) });
    const plain = await json(await v1('/rag/moods/query', { query: texts[0], top_k: 2 }));
    expect(plain.data[0].document_id).toBe('m0');
    const reranked = await json(
      await v1('/rag/moods/query', { query: texts[0], top_k: 3, rerank: { model: 'ranker', candidates: 4 } }),
    );
    expect(reranked.data.map((hit: Json) => hit.document_id)).toEqual(['m1', 'm2', 'm3']);
    expect(reranked.data[0].rerank_score).toBeGreaterThan(reranked.data[1].rerank_score);
    expect(reranked.data[0].score).toBeLessThan(1);
    await lmx.admin('/admin/rag/collections/moods', { method: 'DELETE' });
  });

  it('answers bad input in OpenAI error shape', async () => {
    const unknown = await v1('/rag/nope/query', { query: 'x' });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.type).toBe('not_found_error');
    const extra = await v1('/rag/notes/query', { query: 'x', bogus: 1 });
    expect(extra.status).toBe(400);
    const nested = await v1('/rag/notes/documents', {
      documents: [{ text: 'x', metadata: { a: { b: 1 } } }],
    });
    expect(nested.status).toBe(400);
    const twice = await v1('/rag/notes/documents', {
      documents: [
        { id: 'd', text: 'x' },
        { id: 'd', text: 'y' },
      ],
    });
    expect(twice.status).toBe(400);
    const missing = await v1('/rag/notes/documents/nope', undefined, 'DELETE');
    expect(missing.status).toBe(404);
  });

  it('keeps every document across a restart, then deletes documents and collections', async () => {
    const before = await json(await v1('/rag/notes/documents'));
    await lmx.stop();
    lmx = await start();
    const after = await json(await v1('/rag/notes/documents'));
    expect(after.data).toEqual(before.data);
    const found = await json(await v1('/rag/notes/query', { query: OTHER.slice(0, 30), top_k: 1 }));
    expect(found.data[0].document_id).toBe('doc-b');

    const deleted = await v1('/rag/notes/documents/doc-b', undefined, 'DELETE');
    expect(await json(deleted)).toMatchObject({ id: 'doc-b', deleted: true });
    const left = await json(await v1('/rag/notes/query', { query: OTHER, top_k: 50 }));
    expect(left.data.every((hit: Json) => hit.document_id === 'doc-a')).toBe(true);

    expect((await lmx.admin('/admin/rag/collections/notes', { method: 'DELETE' })).status).toBe(204);
    expect((await v1('/rag/notes/documents')).status).toBe(404);
    await lmx.stop();
    lmx = await start();
    const names = (await json(await lmx.admin('/admin/rag/collections'))).data.map((c: Json) => c.name);
    expect(names).toEqual(['wide']);
  }, 120_000);
});
