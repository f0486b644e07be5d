// Grammar cost: tokens/s of a JSON-schema-constrained generation ÷ the same generation without a grammar,
// on one model and sequence, the two interleaved round by round (the machine is shared and noisy).
// `tsx bench/grammar-ratio.ts <model.gguf> [rounds]` (make bench100m with bench/make-model.ts).
import { getLlama, LlamaCompletion } from 'node-llama-cpp';

const [modelPath, roundsText = '4'] = process.argv.slice(2);
if (!modelPath) throw new Error('usage: tsx bench/grammar-ratio.ts <model.gguf> [rounds]');
const rounds = Number(roundsText);
const TOKENS = 64;

const llama = await getLlama({ gpu: false });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 1024, sequences: 1, threads: 1 });
const sequence = context.getSequence();
// A schema whose strings are long enough that the grammar, not the end of the object, ends the run.
const grammar = await llama.createGrammarForJsonSchema({
  type: 'object',
  properties: { story: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['story', 'tags'],
} as const);

async function tokensPerSecond(constrained: boolean): Promise<number> {
  await sequence.clearHistory();
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  let tokens = 0;
  const started = performance.now();
  await completion.generateCompletion('Once upon a time', {
    maxTokens: TOKENS,
    seed: 1,
    grammar: constrained ? grammar : undefined,
    onToken: (chunk) => (tokens += chunk.length),
  });
  const seconds = (performance.now() - started) / 1000;
  completion.dispose({ disposeSequence: false });
  return tokens / seconds;
}

await tokensPerSecond(false); // warm-up
const ratios: number[] = [];
for (let round = 0; round < rounds; round++) {
  const free = await tokensPerSecond(false);
  const constrained = await tokensPerSecond(true);
  ratios.push(constrained / free);
  console.log(
    `round ${round + 1}: free ${free.toFixed(1)} tok/s, grammar ${constrained.toFixed(1)} tok/s, ratio ${(constrained / free).toFixed(3)}`,
  );
}
ratios.sort((a, b) => a - b);
console.log(
  JSON.stringify({ rounds, tokens: TOKENS, medianRatio: ratios[Math.floor(ratios.length / 2)], ratios }),
);
await context.dispose();
await model.dispose();
