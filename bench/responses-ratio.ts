// What the Responses dialect costs next to Chat Completions: one `lmx serve`, the same model and prompt,
// one streamed request through each in alternation (order swapped every round, so the shared machine's
// noise and the prompt cache hit both alike), greedy so both generate the same tokens.
// Figures: decode tok/s through /v1/responses ÷ through /v1/chat/completions, and TTFT chat ÷ responses
// (both ≥ 0.98 is the target: above 1 the Responses side is faster).
// Run: `npx tsx bench/responses-ratio.ts [--rounds 40] [--shape tiny|bench100m]` (stories260K when it is
// beside the repository and no shape is given). Writes bench/results/responses-ratio.json.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { machineInfo } from '../loadgen/machine.ts';
import { percentile } from '../loadgen/percentiles.ts';
import { ensureGeneratedModel, storiesModelPath } from '../test/fixtures/models.ts';
import { isShapeName } from '../test/fixtures/gguf-writer.ts';
import {
  makeDataDir,
  repoRoot,
  smallServerArgs,
  spawnServer,
  waitUntilReady,
} from '../test/helpers/server.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '40' }, shape: { type: 'string' } },
});
const rounds = Math.max(4, Math.min(200, Number(values.rounds)));
let modelFile = values.shape ? undefined : storiesModelPath();
if (!modelFile) {
  const shape = values.shape ?? 'tiny';
  if (!isShapeName(shape)) throw new Error(`unknown shape ${shape}`);
  modelFile = await ensureGeneratedModel(shape, { chatTemplate: true });
}
const TOKENS = 64;
const prompt = 'Once upon a time there was a little dog who';

interface Sample {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
}

/** First and last text delta times of one streamed request, and its output tokens from usage. */
async function timed(run: (onText: () => void) => Promise<number>): Promise<Sample> {
  const started = performance.now();
  let first: number | undefined;
  let last = started;
  const tokens = await run(() => {
    last = performance.now();
    first ??= last;
  });
  if (first === undefined || tokens < 2) throw new Error('a request produced fewer than 2 tokens');
  return { ttftMs: first - started, tokensPerSecond: (tokens - 1) / ((last - first) / 1000), tokens };
}

/** What the server logged of one request (its `inference` line): decode rate and time to first token. */
interface ServerFigure {
  tokensPerSecond: number;
  ttftMs: number;
}

/**
 * Each request's `inference` log line, by dialect: the requests ran one at a time, so the lines come in
 * the order they were sent (`sent`).
 */
function serverFigures(
  log: string,
  sent: readonly Dialect[],
): { chat: ServerFigure[]; responses: ServerFigure[] } {
  const figures = { chat: [] as ServerFigure[], responses: [] as ServerFigure[] };
  const lines = log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map(
      (line) => JSON.parse(line) as { msg?: string; tokensPerSecond?: number | null; ttftMs?: number | null },
    )
    .filter((entry) => entry.msg === 'inference');
  if (lines.length !== sent.length)
    throw new Error(`${lines.length} inference lines for ${sent.length} requests`);
  lines.forEach((entry, index) => {
    figures[sent[index]!].push({
      tokensPerSecond: entry.tokensPerSecond ?? NaN,
      ttftMs: entry.ttftMs ?? NaN,
    });
  });
  return figures;
}

type Dialect = 'chat' | 'responses';

function serverRatios(chat: ServerFigure[], responses: ServerFigure[]) {
  const p50 = (values: number[]) => percentile(values, 50);
  return {
    chatDecodeTokPerSecP50: p50(chat.map((f) => f.tokensPerSecond)),
    responsesDecodeTokPerSecP50: p50(responses.map((f) => f.tokensPerSecond)),
    chatTtftMsP50: p50(chat.map((f) => f.ttftMs)),
    responsesTtftMsP50: p50(responses.map((f) => f.ttftMs)),
    pairedDecodeRatioP50: p50(responses.map((f, i) => f.tokensPerSecond / chat[i]!.tokensPerSecond)),
    pairedTtftRatioP50: p50(responses.map((f, i) => chat[i]!.ttftMs / f.ttftMs)),
  };
}

const ADMIN_KEY = 'lmx-bench-admin-key-0123456789';
const machineBefore = machineInfo();
const dataDir = await makeDataDir();
const args = smallServerArgs(dataDir, ADMIN_KEY);
// info: the server's own `inference` log lines give its decode rate per request (engine, not transport).
args[args.indexOf('--log-level') + 1] = 'info';
const node = await spawnServer([...args, '--model', modelFile], {
  LMX_RATE_LIMIT_EXEMPT_LOOPBACK: 'true',
  LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0',
});
try {
  await waitUntilReady(node.url);
  const openai = new OpenAI({ baseURL: `${node.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
  const model = (await openai.models.list()).data[0]!.id;
  const sent: Dialect[] = [];
  const chat = () =>
    timed(async (onText) => {
      sent.push('chat');
      const stream = await openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: prompt }],
        max_tokens: TOKENS,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      });
      let tokens = 0;
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) onText();
        if (chunk.usage) tokens = chunk.usage.completion_tokens;
      }
      return tokens;
    });
  const responses = () =>
    timed(async (onText) => {
      sent.push('responses');
      const stream = await openai.responses.create({
        model,
        input: prompt,
        max_output_tokens: TOKENS,
        temperature: 0,
        stream: true,
        store: false,
      });
      let tokens = 0;
      for await (const event of stream) {
        if (event.type === 'response.output_text.delta') onText();
        if (event.type === 'response.completed' || event.type === 'response.incomplete')
          tokens = event.response.usage?.output_tokens ?? 0;
      }
      return tokens;
    });

  await chat(); // warm-up, unmeasured: the prompt is in the sequence from here on, for both
  await responses();
  const samples = { chat: [] as Sample[], responses: [] as Sample[] };
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      samples.chat.push(await chat());
      samples.responses.push(await responses());
    } else {
      samples.responses.push(await responses());
      samples.chat.push(await chat());
    }
  }
  const median = (list: Sample[], key: 'ttftMs' | 'tokensPerSecond') => {
    const value = percentile(
      list.map((sample) => sample[key]),
      50,
    );
    if (value === undefined) throw new Error('no samples');
    return value;
  };
  const figures = {
    chat: {
      ttftMsP50: median(samples.chat, 'ttftMs'),
      decodeTokPerSecP50: median(samples.chat, 'tokensPerSecond'),
    },
    responses: {
      ttftMsP50: median(samples.responses, 'ttftMs'),
      decodeTokPerSecP50: median(samples.responses, 'tokensPerSecond'),
    },
  };
  // Stopped first: its last log lines are flushed on exit.
  node.child.kill('SIGTERM');
  await node.exited;
  const server = serverFigures(node.stderr(), sent);
  const result = {
    bench: 'responses-ratio',
    model: path.basename(modelFile),
    rounds,
    maxTokens: TOKENS,
    tokens: { chat: samples.chat.map((s) => s.tokens), responses: samples.responses.map((s) => s.tokens) },
    ...figures,
    decodeRatio: figures.responses.decodeTokPerSecP50 / figures.chat.decodeTokPerSecP50,
    ttftRatio: figures.chat.ttftMsP50 / figures.responses.ttftMsP50,
    // The same ratios round by round (the two requests of a round ran back to back), then their median:
    // steadier than the ratio of medians when the machine's load moves during the run.
    pairedDecodeRatioP50: percentile(
      samples.responses.map((sample, i) => sample.tokensPerSecond / samples.chat[i]!.tokensPerSecond),
      50,
    ),
    pairedTtftRatioP50: percentile(
      samples.responses.map((sample, i) => samples.chat[i]!.ttftMs / sample.ttftMs),
      50,
    ),
    // The server's figures (its log line: decode after the first token, and TTFT), warm-ups left out,
    // paired round by round: the dialect's cost in the server, apart from transport and client.
    server: serverRatios(server.chat.slice(1), server.responses.slice(1)),
    machine: { before: machineBefore, after: machineInfo() },
  };
  console.log(JSON.stringify({ ...result, machine: undefined, tokens: undefined }, null, 2));
  await mkdir(path.join(repoRoot, 'bench/results'), { recursive: true });
  await writeFile(
    path.join(repoRoot, 'bench/results/responses-ratio.json'),
    `${JSON.stringify(result, null, 2)}\n`,
  );
} finally {
  node.child.kill('SIGTERM');
  await node.exited;
  await rm(dataDir, { recursive: true, force: true });
}
