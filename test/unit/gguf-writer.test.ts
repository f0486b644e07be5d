import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChatMLChatWrapper,
  getLlama,
  GgufInsights,
  JinjaTemplateChatWrapper,
  LlamaChatSession,
  LlamaCompletion,
  LlamaLogLevel,
  readGgufFileInfo,
  type GgufFileInfo,
  type Llama,
  type LlamaContext,
  type LlamaModel,
} from 'node-llama-cpp';
import {
  countParameters,
  encodeLlamaGgufHeader,
  shapes,
  writeLlamaGguf,
  type LlamaShape,
  type ShapeName,
} from '../fixtures/gguf-writer.ts';
import { alignUp } from '../fixtures/gguf/encoding.ts';
import {
  dequantizeQ8_0,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  Q8_0_BLOCK_BYTES,
  Q8_0_BLOCK_SIZE,
  quantizeQ8_0,
} from '../fixtures/gguf/q8_0.ts';
import { ensureGeneratedModel, storiesModelPath, TEST_MODEL_ENV, testModelPath } from '../fixtures/models.ts';

// Model loading and generation are slow on a shared 2-core machine; no test asserts on time.
const SLOW = 120_000;
const GGML_F32 = 0;
const GGML_Q8_0 = 8;
const TOKEN_TYPE_BYTE = 6;

let workDir: string;
let llama: Llama;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'lmx-gguf-writer-'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
}, SLOW);

afterAll(async () => {
  await llama?.dispose();
  await rm(workDir, { recursive: true, force: true });
});

async function writeAndRead(
  shape: LlamaShape,
  fileName: string,
  seed = 1,
): Promise<{ path: string; info: GgufFileInfo }> {
  const path = join(workDir, fileName);
  await writeLlamaGguf(path, shape, { seed });
  return { path, info: await readGgufFileInfo(path, { logWarnings: false }) };
}

function tensorsByName(
  info: GgufFileInfo,
): Map<string, { dimensions: readonly (number | bigint)[]; ggmlType: number }> {
  return new Map((info.tensorInfo ?? []).map((tensor) => [tensor.name, tensor]));
}

describe('f16 and Q8_0 encoding', () => {
  it('converts floats to f16 bits with round-to-nearest-even', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // halfway to the next step: rounds to infinity
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(1e-9)).toBe(0);
    expect(float16BitsToFloat32(0x3555)).toBeCloseTo(1 / 3, 3);
  });

  it('quantizes a known block like ggml and dequantizes within the scale', () => {
    const block = Float32Array.from({ length: Q8_0_BLOCK_SIZE }, (_, i) => (i - 16) / 8); // -2 .. 1.875
    const bytes = new DataView(new ArrayBuffer(Q8_0_BLOCK_BYTES));
    quantizeQ8_0(block, bytes, 0);

    expect(bytes.getUint16(0, true)).toBe(float32ToFloat16Bits(2 / 127));
    expect(bytes.getInt8(2)).toBe(-127); // the largest magnitude maps to ±127
    expect(bytes.getInt8(2 + 16)).toBe(0);
    expect(bytes.getInt8(2 + 20)).toBe(32); // 0.5 / (2/127) = 31.75

    const scale = float16BitsToFloat32(bytes.getUint16(0, true));
    const restored = dequantizeQ8_0(bytes, 0, Q8_0_BLOCK_SIZE);
    block.forEach((value, i) => expect(Math.abs((restored[i] ?? NaN) - value)).toBeLessThanOrEqual(scale));
  });

  it('rejects input that is not a whole number of blocks', () => {
    expect(() => quantizeQ8_0(new Float32Array(33), new DataView(new ArrayBuffer(68)), 0)).toThrow(
      /multiple of 32/,
    );
  });
});

describe('GGUF file layout', () => {
  it('writes a tiny model node-llama-cpp parses with the right hyperparameters, tensors and vocabulary', async () => {
    const shape = shapes.tiny;
    const { path, info } = await writeAndRead(shape, 'tiny.gguf');

    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe('llama');
    expect(info.metadata.general.alignment).toBe(32);
    expect(info.architectureMetadata).toMatchObject({
      context_length: 2048,
      embedding_length: 64,
      block_count: 2,
      feed_forward_length: 128,
      vocab_size: 512,
      attention: { head_count: 4, head_count_kv: 4 },
      rope: { dimension_count: 16 },
    });
    expect(info.architectureMetadata.attention?.layer_norm_rms_epsilon).toBeCloseTo(1e-5, 9);
    expect(Number(info.tensorCount)).toBe(3 + 9 * shape.blockCount);

    const tokenizer = info.metadata.tokenizer.ggml;
    expect(tokenizer.model).toBe('llama');
    expect(tokenizer.tokens).toHaveLength(512);
    expect(tokenizer.scores).toHaveLength(512);
    expect(tokenizer.tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(tokenizer.tokens[258]).toBe('<0xFF>');
    expect(tokenizer.token_type?.slice(3, 259).every((type) => type === TOKEN_TYPE_BYTE)).toBe(true);
    expect(tokenizer.tokens).toContain('\u2581the');
    expect(new Set(tokenizer.tokens).size).toBe(512);
    expect([tokenizer.unknown_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id]).toEqual([0, 1, 2]);
    expect(info.metadata.tokenizer.chat_template).toBeUndefined();

    const tensors = tensorsByName(info);
    expect(tensors.get('token_embd.weight')).toMatchObject({ dimensions: [64, 512], ggmlType: GGML_F32 });
    expect(tensors.get('output.weight')).toMatchObject({ dimensions: [64, 512], ggmlType: GGML_F32 });
    expect(tensors.get('output_norm.weight')?.dimensions).toEqual([64]);
    expect(tensors.get('blk.1.attn_k.weight')?.dimensions).toEqual([64, 64]);
    expect(tensors.get('blk.1.ffn_gate.weight')?.dimensions).toEqual([64, 128]);
    expect(tensors.get('blk.1.ffn_down.weight')?.dimensions).toEqual([128, 64]);

    // Every tensor starts on the alignment boundary and the file ends right after the last padded tensor.
    const dataSize = (info.tensorInfo ?? []).reduce((end, tensor) => {
      expect(Number(tensor.offset) % 32).toBe(0);
      const elements = tensor.dimensions.reduce((product: number, d) => product * Number(d), 1);
      return alignUp(Number(tensor.offset) + elements * 4);
    }, 0);
    expect((await stat(path)).size).toBe((info.infoEndOffset ?? NaN) + dataSize);
  });

  it('gives bench100m 109.5 M parameters as node-llama-cpp counts them, with Q8_0 matrices and F32 norms', async () => {
    const path = join(workDir, 'bench100m-header.gguf');
    await writeFile(path, encodeLlamaGgufHeader(shapes.bench100m)); // the header is all a parameter count needs
    const info = await readGgufFileInfo(path, { logWarnings: false });
    const insights = await GgufInsights.from(info, llama);

    expect(insights.totalParameters).toBe(109_529_856);
    expect(countParameters(shapes.bench100m)).toBe(109_529_856);
    expect(Number(info.tensorCount)).toBe(2 + 9 * 12); // tied embeddings: no output.weight
    expect(info.architectureMetadata).toMatchObject({
      embedding_length: 768,
      block_count: 12,
      feed_forward_length: 2048,
      vocab_size: 32000,
      attention: { head_count: 12, head_count_kv: 12 },
      rope: { dimension_count: 64 },
    });
    expect(info.metadata.tokenizer.ggml.tokens).toHaveLength(32000);
    const tensors = tensorsByName(info);
    expect(tensors.get('token_embd.weight')).toMatchObject({ dimensions: [768, 32000], ggmlType: GGML_Q8_0 });
    expect(tensors.get('blk.11.ffn_down.weight')).toMatchObject({
      dimensions: [2048, 768],
      ggmlType: GGML_Q8_0,
    });
    expect(tensors.get('blk.11.ffn_norm.weight')).toMatchObject({ dimensions: [768], ggmlType: GGML_F32 });
    expect(tensors.has('output.weight')).toBe(false);
  });

  it('produces byte-identical files for the same seed and different files for another seed', async () => {
    for (const shapeName of ['tiny', 'tinyQ8'] as const) {
      const [first, again, other] = await Promise.all(
        [7, 7, 8].map(async (seed, i) => {
          const path = join(workDir, `${shapeName}-seed-${seed}-${i}.gguf`);
          await writeLlamaGguf(path, shapes[shapeName], { seed });
          return readFile(path);
        }),
      );
      expect(first?.equals(again ?? Buffer.alloc(0))).toBe(true);
      expect(first?.equals(other ?? Buffer.alloc(0))).toBe(false);
    }
  });

  it('rejects shapes llama.cpp or Q8_0 cannot represent', async () => {
    const badHeads = { ...shapes.tiny, headCount: 3 };
    const badQ8 = { ...shapes.tinyQ8, feedForwardLength: 100 };
    await expect(writeLlamaGguf(join(workDir, 'bad.gguf'), badHeads)).rejects.toThrow(/headCount/);
    expect(() => encodeLlamaGgufHeader(badQ8)).toThrow(/multiples of 32/);
  });
});

describe.each(['tiny', 'tinyQ8'] as const satisfies readonly ShapeName[])(
  'the generated %s model in node-llama-cpp',
  (shapeName) => {
    let model: LlamaModel;
    let context: LlamaContext;

    beforeAll(async () => {
      model = await llama.loadModel({ modelPath: await ensureGeneratedModel(shapeName) });
      context = await model.createContext({ contextSize: 256, threads: 1 });
    }, SLOW);

    afterAll(async () => {
      await context?.dispose();
      await model?.dispose();
    });

    it('round-trips any text through tokenize and detokenize', () => {
      for (const text of [
        'Once upon a time',
        'héllo wörld — 日本語 🎉',
        '  two  spaces\nnew line\t tab',
        ' leading',
        'trailing ',
      ]) {
        const tokens = model.tokenize(text);
        expect(tokens.length).toBeGreaterThan(0);
        expect(model.detokenize(tokens)).toBe(text);
      }
    });

    it(
      'generates up to max tokens, greedy or sampled, never stopping at an end-of-generation token',
      async () => {
        const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
        try {
          for (const [temperature, seed] of [
            [0, 0],
            [1, 1],
            [1.5, 2],
            [1.5, 3],
          ] as const) {
            let generated = 0;
            const { response, metadata } = await completion.generateCompletionWithMeta('Once upon a time', {
              maxTokens: 32,
              temperature,
              seed,
              onToken: (tokens) => void (generated += tokens.length),
            });
            expect(typeof response).toBe('string');
            // The writer suppresses end-of-generation tokens. onToken's count is not compared with
            // maxTokens exactly: node-llama-cpp holds back byte tokens of unfinished UTF-8 characters.
            expect(metadata.stopReason).toBe('maxTokens');
            expect(generated).toBeGreaterThanOrEqual(8);
          }
        } finally {
          completion.dispose();
        }
      },
      SLOW,
    );
  },
);

describe('the chat-template variant', () => {
  it(
    'carries a ChatML template that node-llama-cpp resolves to a chat wrapper and chats with',
    async () => {
      const path = await ensureGeneratedModel('tiny', { chatTemplate: true });
      const info = await readGgufFileInfo(path, { logWarnings: false });
      expect(info.metadata.tokenizer.chat_template).toContain('<|im_start|>');

      const model = await llama.loadModel({ modelPath: path });
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      try {
        const session = new LlamaChatSession({ contextSequence: context.getSequence() });
        expect(
          session.chatWrapper instanceof ChatMLChatWrapper ||
            session.chatWrapper instanceof JinjaTemplateChatWrapper,
        ).toBe(true);
        const reply = await session.prompt('Hello!', { maxTokens: 8 });
        expect(typeof reply).toBe('string');
        session.dispose();
      } finally {
        await context.dispose();
        await model.dispose();
      }
    },
    SLOW,
  );
});

describe('test model paths', () => {
  it(
    'uses LMX_TEST_MODEL when set and the cached tiny model otherwise',
    async () => {
      const saved = process.env[TEST_MODEL_ENV];
      try {
        process.env[TEST_MODEL_ENV] = '/somewhere/model.gguf';
        expect(await testModelPath()).toBe('/somewhere/model.gguf');
        delete process.env[TEST_MODEL_ENV];
        const path = await testModelPath();
        expect(path).toBe(await ensureGeneratedModel('tiny'));
        expect((await stat(path)).isFile()).toBe(true);
      } finally {
        if (saved === undefined) delete process.env[TEST_MODEL_ENV];
        else process.env[TEST_MODEL_ENV] = saved;
      }
    },
    SLOW,
  );

  it('finds stories260K only where it exists', async () => {
    const path = storiesModelPath();
    if (path !== undefined) expect((await stat(path)).isFile()).toBe(true);
  });
});
