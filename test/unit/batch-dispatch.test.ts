/**
 * node-llama-cpp's batch dispatcher must put every active sequence into every llama_decode.
 *
 * Unpatched 3.21.1 re-enters its dispatch loop as soon as *some* sequences have re-queued, so with 4
 * concurrent generations each batch carries ~3 tokens (≈1.34 decodes per step). Our patch
 * (patches/node-llama-cpp+3.21.1.patch, applied by patch-package on postinstall) makes the loop wait one
 * dispatch-schedule turn for the sequences it just served. This test fails without the patch.
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
  decodeBatch(): Promise<void>;
}

/** Records the token count of every llama_decode on this context. */
function recordBatchSizes(context: object): number[] {
  const ctx = (context as { _ctx: AddonBatchApi })._ctx;
  const sizes: number[] = [];
  let pending = 0;
  const initBatch = ctx.initBatch.bind(ctx);
  const decodeBatch = ctx.decodeBatch.bind(ctx);
  // N-API methods are read-only on the prototype; own properties shadow them.
  Object.defineProperty(ctx, 'initBatch', { value: (size: number) => ((pending = size), initBatch(size)) });
  Object.defineProperty(ctx, 'decodeBatch', { value: () => (sizes.push(pending), decodeBatch()) });
  return sizes;
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

  async function generateConcurrently(streams: number, prompts: (i: number) => string): Promise<number[]> {
    const context = await model.createContext({ sequences: streams, contextSize: 256, threads: 1 });
    try {
      const sizes = recordBatchSizes(context);
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
      return sizes;
    } finally {
      await context.dispose();
    }
  }

  it('fills all 4 sequences in every decode batch of the generation phase', async () => {
    const sizes = await generateConcurrently(STREAMS, () => 'Once upon a time');
    // the first batch holds the 4 prompts; every later llama_decode must carry one token per sequence
    const [promptBatch, ...decodeBatches] = sizes;
    expect(promptBatch).toBeGreaterThanOrEqual(STREAMS);
    expect(decodeBatches).toEqual(Array.from({ length: MAX_TOKENS - 1 }, () => STREAMS));
  });

  it('still fills every batch when prompts differ in length', async () => {
    const sizes = await generateConcurrently(
      STREAMS,
      (i) => `Once upon a time${' there was a cat'.repeat(i)}`,
    );
    expect(sizes.slice(1)).toEqual(Array.from({ length: MAX_TOKENS - 1 }, () => STREAMS));
  });

  it('decodes a single stream once per token on a multi-sequence context', async () => {
    const sizes = await generateConcurrently(1, () => 'Once upon a time');
    expect(sizes.slice(1)).toEqual(Array.from({ length: MAX_TOKENS - 1 }, () => 1));
  });
});
