import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { adminCall, adminHeavyEnv } from '../helpers/model-library.ts';
import { equalChunksDocument } from '../helpers/rag-documents.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';

const ADMIN_KEY = 'lmx-test-admin-key-0123456789';
const MAX_DOCUMENTS = 40;

// A real `lmx serve` killed with SIGKILL while documents are being ingested, then started again on the
// same data dir: every acknowledged document is there whole, and the one cut short is whole or absent.
describe('RAG store under kill -9', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged document and no part of an interrupted one', async () => {
    dataDir = await makeDataDir();
    await mkdir(path.join(dataDir, 'models'), { recursive: true });
    const model = await ensureGeneratedModel('tiny', { poolingType: 1 });
    await copyFile(model, path.join(dataDir, 'models', 'embed.gguf'));
    server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), adminHeavyEnv);
    const created = await adminCall(server.url, ADMIN_KEY, 'POST', '/admin/rag/collections', {
      name: 'docs',
      model: 'embed',
      chunk_size: 60,
      chunk_overlap: 10,
    });
    expect(created.status).toBe(201);

    const ingest = (url: string, index: number) =>
      fetch(`${url}/v1/rag/docs/documents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // Seeds repeat every 90 documents; fewer are sent.
        body: JSON.stringify({ documents: [{ id: `doc-${index}`, text: equalChunksDocument(index % 90) }] }),
      });
    const acknowledged = new Map<string, number>();
    const sent: string[] = [];
    const url = server.url;
    // Two ingests in flight at a time; the kill lands while some are under way.
    const worker = async (first: number) => {
      for (let index = first; index < MAX_DOCUMENTS; index += 2) {
        sent.push(`doc-${index}`);
        const response = await ingest(url, index).catch(() => undefined);
        if (response?.status !== 201) return;
        const body = (await response.json()) as { data: { id: string; chunks: number }[] };
        for (const document of body.data) acknowledged.set(document.id, document.chunks);
      }
    };
    const workers = [worker(0), worker(1)];
    const deadline = Date.now() + 60_000;
    while (acknowledged.size < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(acknowledged.size).toBeGreaterThanOrEqual(4);
    server.child.kill('SIGKILL');
    await server.exited;
    await Promise.all(workers);

    server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), adminHeavyEnv);
    const listed = await adminCall(server.url, ADMIN_KEY, 'GET', '/v1/rag/docs/documents');
    expect(listed.status).toBe(200);
    const stored = new Map<string, number>(
      (listed.body.data as { id: string; chunks: number }[]).map((document) => [
        document.id,
        document.chunks,
      ]),
    );
    const chunksPerDocument = [...acknowledged.values()][0];
    expect(chunksPerDocument).toBeGreaterThan(1);
    for (const [id, chunks] of acknowledged) expect(stored.get(id)).toBe(chunks);
    for (const [id, chunks] of stored) {
      expect(sent).toContain(id);
      expect(chunks).toBe(chunksPerDocument);
    }
    // The store still takes writes and answers queries after the crash.
    expect((await ingest(server.url, 77)).status).toBe(201);
    const firstChunk = equalChunksDocument(77).slice(0, equalChunksDocument(77).lastIndexOf(' ', 60));
    const query = await adminCall(server.url, ADMIN_KEY, 'POST', '/v1/rag/docs/query', {
      query: firstChunk,
      top_k: 1,
    });
    expect(query.body.data[0]).toMatchObject({ document_id: 'doc-77', chunk_index: 0 });
  }, 240_000);
});
