// Embedding throughput, batched ÷ one-by-one, and RAG query latency at 10 000 chunks, against a real LMX
// server on loopback with a generated random-weight embedding model (the figures are about LMX's paths,
// not a model's quality). `tsx bench/embeddings-rag.ts [--chunks 10000] [--queries 200]`; results in
// bench/results/embeddings-rag.json.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { distribution } from '../loadgen/percentiles.ts';
import { validateConfig } from '../server/config/load.ts';
import { LmxServer } from '../server/server.ts';
import { ensureGeneratedModel } from '../test/fixtures/models.ts';
import { testConfigLayer } from '../test/helpers/server.ts';

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const CHUNKS = argument('--chunks', 10_000);
const QUERIES = argument('--queries', 200);
const BATCH = 64;
const ROUNDS = 3;
const PARALLEL = 2;
const CHUNK_SIZE = 100;
const CHUNKS_PER_DOCUMENT = 50;

const words =
  'the a and to of in is it that was he she for on you with as his her they at be this have from'.split(' ');
/** Deterministic text of `length` characters or so, different for every seed. */
function text(seed: number, length: number): string {
  const out: string[] = [];
  let state = seed * 2654435761;
  let size = 0;
  while (size < length) {
    state = (state * 1103515245 + 12345) >>> 0;
    const word = words[state % words.length] as string;
    out.push(word);
    size += word.length + 1;
  }
  return out.join(' ');
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'lmx-bench-rag-'));
await mkdir(path.join(dataDir, 'models'), { recursive: true });
await copyFile(
  await ensureGeneratedModel('tiny', { poolingType: 1 }),
  path.join(dataDir, 'models', 'embed.gguf'),
);
// The test servers' settings (loopback, CPU, one decode thread, quiet), with two contexts per model.
const config = validateConfig({
  ...testConfigLayer(dataDir),
  parallel: PARALLEL,
  rateLimit: { exemptLoopback: true },
});
const server = await LmxServer.start(config, pino({ level: 'silent' }));
const post = async (pathname: string, body: unknown, admin = false) => {
  const response = await fetch(`${server.url}${pathname}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(admin ? { authorization: `Bearer ${server.adminKey.current}` } : {}),
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${pathname}: HTTP ${response.status} ${await response.text()}`);
  return response.json() as Promise<unknown>;
};

try {
  // Embeddings: the same BATCH inputs as one request, then as BATCH requests one after the other.
  const inputs = Array.from({ length: BATCH }, (_, index) => text(index, 200));
  await post('/v1/embeddings', { model: 'embed', input: inputs.slice(0, 4) }); // load + warm-up
  const rounds: { batched: number; oneByOne: number; ratio: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    await post('/v1/embeddings', { model: 'embed', input: inputs });
    const batched = BATCH / ((performance.now() - started) / 1000);
    started = performance.now();
    for (const input of inputs) await post('/v1/embeddings', { model: 'embed', input });
    const oneByOne = BATCH / ((performance.now() - started) / 1000);
    rounds.push({ batched, oneByOne, ratio: batched / oneByOne });
    console.log(
      `round ${round + 1}: batched ${batched.toFixed(1)} inputs/s, one-by-one ${oneByOne.toFixed(1)} inputs/s`,
    );
  }

  // RAG: CHUNKS chunks in documents of CHUNKS_PER_DOCUMENT, then QUERIES queries one after the other.
  await post(
    '/admin/rag/collections',
    { name: 'bench', model: 'embed', chunk_size: CHUNK_SIZE, chunk_overlap: 0 },
    true,
  );
  let stored = 0;
  const ingestStarted = performance.now();
  for (let document = 0; stored < CHUNKS; document++) {
    const added = (await post('/v1/rag/bench/documents', {
      documents: [
        {
          id: `d${document}`,
          text: text(10_000 + document, CHUNK_SIZE * CHUNKS_PER_DOCUMENT * 0.9),
          metadata: { group: document % 10 },
        },
      ],
    })) as { data: { chunks: number }[] };
    stored += added.data[0]?.chunks ?? 0;
  }
  const ingestSeconds = (performance.now() - ingestStarted) / 1000;
  console.log(`ingested ${stored} chunks in ${ingestSeconds.toFixed(1)} s`);
  const timed = async (body: unknown, pathname: string) => {
    const started = performance.now();
    await post(pathname, body);
    return performance.now() - started;
  };
  const query = (index: number) => ({ query: text(50_000 + index, 80), top_k: 10 });
  const embedOnly: number[] = [];
  const plain: number[] = [];
  const filtered: number[] = [];
  for (let index = 0; index < QUERIES; index++) {
    // The baseline, interleaved: embedding the same query text alone.
    embedOnly.push(await timed({ model: 'embed', input: query(index).query }, '/v1/embeddings'));
    plain.push(await timed(query(index), '/v1/rag/bench/query'));
    filtered.push(await timed({ ...query(index), filter: { group: 3 } }, '/v1/rag/bench/query'));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const result = {
    at: new Date().toISOString(),
    model: 'generated tiny (64-dim embeddings), CPU, 1 thread, parallel ' + PARALLEL,
    embeddings: { inputs: BATCH, rounds, medianRatio: median(rounds.map((round) => round.ratio)) },
    rag: {
      chunks: stored,
      ingestChunksPerSecond: stored / ingestSeconds,
      queryMs: distribution(plain),
      filteredQueryMs: distribution(filtered),
      embedOnlyMs: distribution(embedOnly),
      p50RatioToEmbedOnly: (distribution(plain)?.p50 ?? 0) / (distribution(embedOnly)?.p50 ?? 1),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  await writeFile(
    path.join(import.meta.dirname, 'results', 'embeddings-rag.json'),
    `${JSON.stringify(result, null, 2)}\n`,
  );
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
