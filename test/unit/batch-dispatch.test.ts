/**
 * node-llama-cpp's batch dispatcher must put every active sequence into every llama_decode.
 *
 * Unpatched 3.21.1 re-enters its dispatch loop as soon as *some* sequences have re-queued, so with 4
 * concurrent generations each batch carries ~3 tokens (≈1.34 decodes per step). Our patch
 * (patches/node-llama-cpp+3.21.1.patch, applied by patch-package on postinstall) makes the loop wait one
 * dispatch-schedule turn for the sequences it just served, and lets go of the context lock between batches, so a
 * reused sequence that must first erase its old tokens (under that lock) starts while the others generate
 * instead of after they finish. These tests fail without the patch.
 *
 * Model: LMX_TEST_MODEL, else ../shared/models/stories260K.gguf; skipped with a printed reason if neither exists.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getLlama,
  LlamaCompletion,
  LlamaLogLevel,
  TokenBias,
  type Llama,
  type LlamaModel,
} from 'node-llama-cpp';

const here = path.dirname(fileURLToPath(import.meta.url));
const candidates = [
  process.env.LMX_TEST_MODEL,
  path.resolve(here, '../../../shared/models/stories260K.gguf'),
];
const modelPath = candidates.find((p): p is string => p != null && p !== '' && existsSync(p));
if (modelPath == null)
  console.warn(
    'batch-dispatch: skipped, no model (set LMX_TEST_MODEL or provide ../shared/models/stories260K.gguf)',
  );

const STREAMS = 4;
const MAX_TOKENS = 24;

/** The internal addon context (node-llama-cpp strips `_ctx` from its .d.ts). */
interface AddonBatchApi {
  initBatch(size: number): void;
  addToBatch(sequenceId: number, ...rest: unknown[]): Uint32Array;
  decodeBatch(): Promise<void>;
}

/** Every llama_decode on this context: its token count and the sequences in the order they were added. */
function recordBatches(context: object): { size: number; sequenceIds: number[] }[] {
  const ctx = (context as { _ctx: AddonBatchApi })._ctx;
  const batches: { size: number; sequenceIds: number[] }[] = [];
  let pending = { size: 0, sequenceIds: [] as number[] };
  const initBatch = ctx.initBatch.bind(ctx);
  const addToBatch = ctx.addToBatch.bind(ctx);
  const decodeBatch = ctx.decodeBatch.bind(ctx);
  // N-API methods are read-only on the prototype; own properties shadow them.
  Object.defineProperty(ctx, 'initBatch', {
    value: (size: number) => ((pending = { size, sequenceIds: [] }), initBatch(size)),
  });
  Object.defineProperty(ctx, 'addToBatch', {
    value: (sequenceId: number, ...rest: unknown[]) => (
      pending.sequenceIds.push(sequenceId),
      addToBatch(sequenceId, ...rest)
    ),
  });
  Object.defineProperty(ctx, 'decodeBatch', { value: () => (batches.push(pending), decodeBatch()) });
  return batches;
}

describe.skipIf(modelPath == null)('batch dispatcher (patched node-llama-cpp)', () => {
  let llama: Llama;
  let model: LlamaModel;

  beforeAll(async () => {
    llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath: modelPath ?? '' });
  });
  afterAll(async () => {
    await model?.dispose();
    await llama?.dispose();
  });

  async function generateConcurrently(
    streams: number,
    prompts: (i: number) => string,
  ): Promise<{ size: number; sequenceIds: number[] }[]> {
    const context = await model.createContext({ sequences: streams, contextSize: 256, threads: 1 });
    try {
      const batches = recordBatches(context);
      const noEnd = new TokenBias(model.tokenizer);
      if (model.tokens.eos != null) noEnd.set(model.tokens.eos, 'never');
      const results = await Promise.all(
        Array.from({ length: streams }, async (_, i) => {
          const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
          const response = await completion.generateCompletionWithMeta(prompts(i), {
            maxTokens: MAX_TOKENS,
            temperature: 0,
            tokenBias: noEnd,
          });
          completion.dispose();
          return response.metadata.stopReason;
        }),
      );
      expect(results).toEqual(Array.from({ length: streams }, () => 'maxTokens'));
      return batches;
    } finally {
      await context.dispose();
    }
  }

  it('fills all 4 sequences in every decode batch of the generation phase', async () => {
    const sizes = (await generateConcurrently(STREAMS, () => 'Once upon a time')).map((b) => b.size);
    // the first batch holds the 4 prompts; every later llama_decode must carry one token per sequence
    const [promptBatch, ...decodeBatches] = sizes;
    expect(promptBatch).toBeGreaterThanOrEqual(STREAMS);
    expect(decodeBatches).toEqual(Array.from({ length: MAX_TOKENS - 1 }, () => STREAMS));
  });

  it('still fills every batch when prompts differ in length', async () => {
    const sizes = (
      await generateConcurrently(STREAMS, (i) => `Once upon a time${' there was a cat'.repeat(i)}`)
    ).map((b) => b.size);
    expect(sizes.slice(1)).toEqual(Array.from({ length: MAX_TOKENS - 1 }, () => STREAMS));
  });

  // With a KV stream per sequence llama.cpp splits a batch at every place where the sequence id does not go up
  // by one (llama_batch_allocr::split_equal, sequential): 4 streams added as 2,3,0,1 decode as two ubatches of 2,
  // one matrix-vector pass per token instead of one matrix-matrix pass per step.
  it('adds the sequences of every batch in increasing id order', async () => {
    const batches = await generateConcurrently(STREAMS, (i) => `Once upon a time${' the end'.repeat(i)}`);
    const decodes = batches.slice(1);
    expect(decodes.length).toBe(MAX_TOKENS - 1);
    for (const { sequenceIds } of decodes)
      expect(sequenceIds).toEqual([...sequenceIds].sort((a, b) => a - b));
  });

  it('starts a reused sequence, which must erase its old tokens, while the other sequences generate', async () => {
    const context = await model.createContext({ sequences: STREAMS, contextSize: 512, threads: 1 });
    try {
      const noEnd = new TokenBias(model.tokenizer);
      if (model.tokens.eos != null) noEnd.set(model.tokens.eos, 'never');
      const options = { temperature: 0, tokenBias: noEnd };
      const reused = new LlamaCompletion({ contextSequence: context.getSequence() });
      await reused.generateCompletion('Once upon a time', { ...options, maxTokens: 8 });
      const longTokens = 300;
      let othersTokens = 0;
      let othersAtFirstToken: number | undefined;
      const others = Array.from({ length: STREAMS - 1 }, (_, i) => {
        const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
        return completion.generateCompletion(`The cat number ${i}`, {
          ...options,
          maxTokens: longTokens,
          onToken: () => void othersTokens++,
        });
      });
      // Once the others are well into their generation, the reused sequence gets a prompt unlike its history.
      while (othersTokens < 3 * 10) await new Promise((resolve) => setTimeout(resolve, 1));
      const late = reused.generateCompletion('A dog sat on the mat', {
        ...options,
        maxTokens: 4,
        onToken: () => void (othersAtFirstToken ??= othersTokens),
      });
      await Promise.all([...others, late]);
      const total = (STREAMS - 1) * longTokens;
      // Unpatched (lock held for as long as anything is queued) it starts only when the others have finished.
      expect(othersAtFirstToken).toBeDefined();
      expect(othersAtFirstToken).toBeLessThan(total / 2);
    } finally {
      await context.dispose();
    }
  });

  it('decodes a single stream once per token on a multi-sequence context', async () => {
    const sizes = (await generateConcurrently(1, () => 'Once upon a time')).map((b) => b.size);
    expect(sizes.slice(1)).toEqual(Array.from({ length: MAX_TOKENS - 1 }, () => 1));
  });
});
