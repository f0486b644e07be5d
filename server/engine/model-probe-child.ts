/**
 * The probe process (model-probe.ts forks it): loads one model file with the server's engine settings,
 * creates a small context and evaluates a few tokens, then exits 0. Native code that aborts on the file
 * kills this process, not the server. It reports each phase over IPC before starting it, so the server
 * knows which one died; an error thrown in JavaScript is reported and is no crash (exit 0).
 */
import type { LlamaModel, Token } from 'node-llama-cpp';
import pino from 'pino';
import { createLlamaRuntime } from './llama.ts';
import type { ProbeMessage, ProbeRequest } from './model-probe.ts';

/** A few tokens: enough to run the whole graph once for a prompt and once for a decode. */
const probeTokens = 3;
const probeContextSize = 256;

function send(message: ProbeMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
}

async function infer(model: LlamaModel, request: ProbeRequest): Promise<void> {
  const shape = {
    contextSize: Math.min(probeContextSize, model.trainContextSize),
    threads: request.threads,
    batchSize: request.batchSize,
  };
  if (request.kind === 'embedding') {
    const context = await model.createEmbeddingContext(shape);
    await context.getEmbeddingFor('Hello');
    return;
  }
  if (request.kind === 'reranker') {
    const context = await model.createRankingContext(shape);
    await context.rank('Hello', 'world');
    return;
  }
  const context = await model.createContext({ ...shape, sequences: 1, batchThreads: request.batchThreads });
  const sequence = context.getSequence();
  const prompt = model.tokenize('Hello');
  const tokens: Token[] = prompt.length > 0 ? prompt : [0 as Token];
  let generated = 0;
  for await (const token of sequence.evaluate(tokens)) {
    void token;
    if (++generated >= probeTokens) break;
  }
}

async function probe(request: ProbeRequest): Promise<void> {
  // The server's log keeps this process's stderr; warnings and errors of llama.cpp are what matter.
  const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
  const { llama } = await createLlamaRuntime(request.gpu, logger);
  await send({ phase: 'load' });
  const model = await llama.loadModel({ modelPath: request.path, gpuLayers: request.gpuLayers });
  await send({ phase: 'inference' });
  await infer(model, request);
  await send({ done: true });
}

// The server went away (stopped, or died of something else): nothing is waiting for the answer.
process.on('disconnect', () => process.exit(0));
const request = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
try {
  await probe(request);
} catch (error) {
  await send({ error: error instanceof Error ? error.message : String(error) });
}
process.exit(0);
