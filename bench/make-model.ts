// Writes a random-weight Llama GGUF for benchmarks: `tsx bench/make-model.ts --shape bench100m --out <file>`.
// Prints what node-llama-cpp reads back from the file (parameters, size), not just what we meant to write.

import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { GgufInsights, readGgufFileInfo } from 'node-llama-cpp';
import {
  DEFAULT_SEED,
  isShapeName,
  shapes,
  writeLlamaGguf,
  type ShapeName,
} from '../test/fixtures/gguf-writer.ts';

interface CliOptions {
  readonly shape: ShapeName;
  readonly out: string;
  readonly seed: number;
  readonly chatTemplate: boolean;
}

function parseShape(value: string): ShapeName {
  if (!isShapeName(value))
    throw new InvalidArgumentError(`expected one of: ${Object.keys(shapes).join(', ')}`);
  return value;
}

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new InvalidArgumentError('expected an integer in [0, 2^32)');
  return seed;
}

function parseCli(argv: readonly string[]): CliOptions {
  const program = new Command()
    .name('make-model')
    .description('Write a random-weight Llama-architecture GGUF model')
    .requiredOption('--shape <name>', `model shape (${Object.keys(shapes).join(', ')})`, parseShape)
    .requiredOption('--out <file>', 'output path')
    .option('--seed <n>', 'PRNG seed', parseSeed, DEFAULT_SEED)
    .option('--chat-template', 'embed a ChatML chat template', false)
    .parse(argv);
  return program.opts<CliOptions>();
}

async function main(): Promise<void> {
  const options = parseCli(process.argv);
  const out = resolve(options.out);
  // Written beside the target and renamed, so an interrupted run never leaves a truncated model.
  const temporary = `${out}.${process.pid}.tmp`;
  const started = performance.now();
  try {
    const result = await writeLlamaGguf(temporary, shapes[options.shape], {
      seed: options.seed,
      chatTemplate: options.chatTemplate,
      name: `lmx-random-${options.shape}`,
    });
    await rename(temporary, out);
    const seconds = (performance.now() - started) / 1000;
    const insights = await GgufInsights.from(await readGgufFileInfo(out, { logWarnings: false }));
    console.log(`${out}: shape ${options.shape}, seed ${options.seed}`);
    console.log(`  ${(result.bytes / 1e6).toFixed(1)} MB (${result.bytes} bytes) in ${seconds.toFixed(1)} s`);
    console.log(
      `  ${insights.totalParameters.toLocaleString('en-US')} parameters, ${result.tensorCount} tensors (as node-llama-cpp reads them)`,
    );
  } finally {
    await rm(temporary, { force: true });
  }
}

await main();
