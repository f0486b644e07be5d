// What each dialect costs next to Chat Completions: one `lmx serve`, the same model and prompt, one streamed
// request through each of Chat Completions, Responses and Anthropic Messages in turn (the order rotated every
// round, so the shared machine's noise and the prompt cache hit all alike), greedy so all generate the same
// tokens. Clients: the official `openai` SDK (chat, responses) and `@anthropic-ai/sdk` (messages).
// Figures, for responses and messages: decode tok/s through the dialect ÷ through /v1/chat/completions, and
// TTFT chat ÷ the dialect (≥ 0.98 is the target for both: above 1 the dialect is faster).
// Run: `npx tsx bench/dialect-ratio.ts [--rounds 40] [--shape tiny|bench100m]` (stories260K when it is
// beside the repository and no shape is given). Writes bench/results/dialect-ratio.json.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
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

/** Decode rate and time to first token of one request, as the client saw it or the server logged it. */
interface Figure {
  tokensPerSecond: number;
  ttftMs: number;
}

const DIALECTS = ['chat', 'responses', 'messages'] as const;
type Dialect = (typeof DIALECTS)[number];
type ByDialect<T> = Record<Dialect, T>;
const byDialect = <T>(make: (dialect: Dialect) => T): ByDialect<T> =>
  Object.fromEntries(DIALECTS.map((dialect) => [dialect, make(dialect)])) as ByDialect<T>;

/**
 * Each request's `inference` log line, by dialect: the requests ran one at a time, so the lines come in
 * the order they were sent (`sent`).
 */
function serverFigures(log: string, sent: readonly Dialect[]): ByDialect<Figure[]> {
  const figures = byDialect((): Figure[] => []);
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

const p50 = (values: number[]) => {
  const value = percentile(values, 50);
  if (value === undefined) throw new Error('no samples');
  return value;
};

/**
 * One dialect against Chat Completions: decode dialect ÷ chat and TTFT chat ÷ dialect, of the medians and
 * round by round (the requests of a round ran back to back), then the median of those: steadier than the
 * ratio of medians when the machine's load moves during the run.
 */
function ratios(chat: readonly Figure[], other: readonly Figure[]) {
  return {
    decodeRatio: p50(other.map((s) => s.tokensPerSecond)) / p50(chat.map((s) => s.tokensPerSecond)),
    ttftRatio: p50(chat.map((s) => s.ttftMs)) / p50(other.map((s) => s.ttftMs)),
    pairedDecodeRatioP50: p50(other.map((s, i) => s.tokensPerSecond / chat[i]!.tokensPerSecond)),
    pairedTtftRatioP50: p50(other.map((s, i) => chat[i]!.ttftMs / s.ttftMs)),
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
  const anthropic = new Anthropic({ baseURL: node.url, apiKey: 'not-needed', maxRetries: 0 });
  const model = (await openai.models.list()).data[0]!.id;
  const sent: Dialect[] = [];
  const requests: ByDialect<(onText: () => void) => Promise<number>> = {
    chat: async (onText) => {
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
    },
    responses: async (onText) => {
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
    },
    messages: async (onText) => {
      const stream = await anthropic.messages.create({
        model,
        messages: [{ role: 'user', content: prompt }],
        max_tokens: TOKENS,
        // Sent as Claude Code sends it; this SDK's types no longer list it, the Messages API still takes it.
        ...({ temperature: 0 } as object),
        stream: true,
      });
      let tokens = 0;
      for await (const event of stream) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') onText();
        if (event.type === 'message_delta') tokens = event.usage.output_tokens;
      }
      return tokens;
    },
  };
  const run = (dialect: Dialect) => {
    sent.push(dialect);
    return timed(requests[dialect]);
  };

  // Warm-up, unmeasured: the prompt is in the sequence from here on, for every dialect.
  for (const dialect of DIALECTS) await run(dialect);
  const samples = byDialect((): Sample[] => []);
  for (let round = 0; round < rounds; round++) {
    // Each dialect goes first, second and third equally often.
    for (let i = 0; i < DIALECTS.length; i++) {
      const dialect = DIALECTS[(round + i) % DIALECTS.length]!;
      samples[dialect].push(await run(dialect));
    }
  }
  const figures = byDialect((dialect) => ({
    ttftMsP50: p50(samples[dialect].map((s) => s.ttftMs)),
    decodeTokPerSecP50: p50(samples[dialect].map((s) => s.tokensPerSecond)),
  }));
  // Stopped first: its last log lines are flushed on exit.
  node.child.kill('SIGTERM');
  await node.exited;
  // The server's figures (its log line: decode after the first token, and TTFT), warm-ups left out: the
  // dialect's cost in the server, apart from transport and client.
  const logged = serverFigures(node.stderr(), sent);
  const server = byDialect((dialect) => logged[dialect].slice(1));
  const result = {
    bench: 'dialect-ratio',
    model: path.basename(modelFile),
    rounds,
    maxTokens: TOKENS,
    tokens: byDialect((dialect) => samples[dialect].map((s) => s.tokens)),
    ...figures,
    responsesVsChat: {
      client: ratios(samples.chat, samples.responses),
      server: ratios(server.chat, server.responses),
    },
    messagesVsChat: {
      client: ratios(samples.chat, samples.messages),
      server: ratios(server.chat, server.messages),
    },
    machine: { before: machineBefore, after: machineInfo() },
  };
  console.log(JSON.stringify({ ...result, machine: undefined, tokens: undefined }, null, 2));
  await mkdir(path.join(repoRoot, 'bench/results'), { recursive: true });
  await writeFile(
    path.join(repoRoot, 'bench/results/dialect-ratio.json'),
    `${JSON.stringify(result, null, 2)}\n`,
  );
} finally {
  node.child.kill('SIGTERM');
  await node.exited;
  await rm(dataDir, { recursive: true, force: true });
}
