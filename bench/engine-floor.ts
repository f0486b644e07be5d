/**
 * In-process decode floor of node-llama-cpp, next to its public API, in one process.
 *
 *   npx tsx bench/engine-floor.ts --model ../shared/models/stories260K.gguf --threads 1
 *   npx tsx bench/engine-floor.ts --model m.gguf --threads 2 --runs 5 --modes bare,completion --streams 1,4
 *   npx tsx bench/engine-floor.ts --model m.gguf --matrix "threads=1,2;uv=default,1" --runs 3
 *
 * Modes (each at 1 and at N streams; N streams decode in one context with `sequences: N`):
 *   bare        node-llama-cpp's addon calls only: initBatch/addToBatch/decodeBatch/sampleToken
 *   evaluate    LlamaContextSequence.evaluate() (lowest public API)
 *   completion  LlamaCompletion.generateCompletion() (what an OpenAI /v1/completions route uses)
 *   chat        LlamaChat.generateResponse() with the model's (or the general) chat wrapper
 *
 * Every mode runs once per round, rounds interleave modes, medians over rounds; ratios are against
 * `bare` at the same stream count in the same process. Decode tok/s counts tokens after the last
 * stream's first token, over the time from that moment to the last token (TTFT is reported apart).
 * It also counts tokens per llama_decode in the decode phase (by wrapping the addon context).
 *
 * --matrix spawns one child per setting and round (interleaved), setting UV_THREADPOOL_SIZE in the
 * child's environment before Node starts, and prints every setting against the first one.
 * --nlc <dir> loads node-llama-cpp from another copy (e.g. an unpatched one) for A/B runs.
 * Greedy sampling; end-of-generation tokens are ignored (bare/evaluate) or banned (completion/chat)
 * so every stream produces exactly --tokens tokens.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as NodeLlamaCpp from 'node-llama-cpp';
import { endOfGenerationBan } from '../server/engine/generation.ts';
import { percentile } from '../loadgen/percentiles.ts';
import {
  DecodeCounter,
  internalsOf,
  lmxsLlama,
  runBareOnContext,
  StreamClock,
  type RunResult,
} from './addon-floor.ts';

type Nlc = typeof NodeLlamaCpp;
type Mode = 'bare' | 'evaluate' | 'completion' | 'chat';
const allModes: readonly Mode[] = ['bare', 'evaluate', 'completion', 'chat'];

interface Args {
  model: string;
  threads: number;
  tokens: number;
  runs: number;
  streams: number[];
  modes: Mode[];
  prompt: string;
  nlc: string | undefined;
  matrix: string | undefined;
  batching: 'default' | 'eager';
  io: string | undefined;
  /** Wall-clock cap per mode run: a run stops early (tok/s stays a rate) so collapsed settings cannot stall a matrix. */
  maxSeconds: number;
  /** Context sequences; default = the stream count (a server context usually has more than it uses). */
  sequences: number | undefined;
}

interface Rig {
  nlc: Nlc;
  llama: NodeLlamaCpp.Llama;
  model: NodeLlamaCpp.LlamaModel;
  promptTokens: NodeLlamaCpp.Token[];
  args: Args;
}

async function withContext<T>(
  rig: Rig,
  streams: number,
  body: (context: NodeLlamaCpp.LlamaContext, counter: DecodeCounter) => Promise<T>,
): Promise<T> {
  const context = await rig.model.createContext({
    sequences: Math.max(streams, rig.args.sequences ?? streams),
    contextSize: rig.args.tokens + rig.promptTokens.length + 64,
    threads: rig.args.threads,
    ...(rig.args.batching === 'eager' ? { batching: { dispatchSchedule: eagerDispatch } } : {}),
  });
  try {
    const counter = new DecodeCounter(internalsOf(rig.llama, rig.model, context).ctx);
    return await body(context, counter);
  } finally {
    await context.dispose();
  }
}

/** A dispatch schedule that fires on the next microtask instead of the next macrotask. */
function eagerDispatch(dispatch: () => void): void {
  queueMicrotask(dispatch);
}

async function runBare(rig: Rig, streams: number): Promise<RunResult> {
  return withContext(rig, streams, (context, counter) =>
    runBareOnContext(internalsOf(rig.llama, rig.model, context), counter, {
      streams,
      promptTokens: rig.promptTokens,
      tokens: rig.args.tokens,
      maxSeconds: rig.args.maxSeconds,
    }),
  );
}

async function runEvaluate(rig: Rig, streams: number): Promise<RunResult> {
  return withContext(rig, streams, async (context, counter) => {
    const sequences = Array.from({ length: streams }, () => context.getSequence());
    const clock = new StreamClock(streams, counter);
    await Promise.all(
      sequences.map(async (sequence, s) => {
        let produced = 0;
        for await (const _token of sequence.evaluate(rig.promptTokens, {
          temperature: 0,
          yieldEogToken: true,
        })) {
          clock.token(s);
          if (++produced >= rig.args.tokens || performance.now() > clock.start + rig.args.maxSeconds * 1000)
            break;
        }
      }),
    );
    const result = clock.result();
    for (const sequence of sequences) sequence.dispose();
    return result;
  });
}

/** What runCompletion and runChat give node-llama-cpp: greedy, EOS banned, a bound, every token timed. */
interface GenerateOptions {
  signal: AbortSignal;
  stopOnAbortSignal: true;
  maxTokens: number;
  temperature: 0;
  tokenBias: NodeLlamaCpp.TokenBias;
  onToken: (tokens: NodeLlamaCpp.Token[]) => void;
}

/** N streams, each generating on its own sequence of one context with `generate`. */
async function runGenerating(
  rig: Rig,
  streams: number,
  generate: (contextSequence: NodeLlamaCpp.LlamaContextSequence, options: GenerateOptions) => Promise<void>,
): Promise<RunResult> {
  return withContext(rig, streams, async (context, counter) => {
    const sequences = Array.from({ length: streams }, () => context.getSequence());
    const tokenBias = endOfGenerationBan(rig.model, rig.nlc.TokenBias);
    const clock = new StreamClock(streams, counter);
    await Promise.all(
      sequences.map((contextSequence, s) =>
        generate(contextSequence, {
          signal: AbortSignal.timeout(rig.args.maxSeconds * 1000),
          stopOnAbortSignal: true,
          maxTokens: rig.args.tokens,
          temperature: 0,
          tokenBias,
          onToken: (tokens) => clock.token(s, tokens.length),
        }),
      ),
    );
    const result = clock.result();
    for (const sequence of sequences) sequence.dispose();
    return result;
  });
}

function runCompletion(rig: Rig, streams: number): Promise<RunResult> {
  return runGenerating(rig, streams, async (contextSequence, options) => {
    const completion = new rig.nlc.LlamaCompletion({ contextSequence });
    await completion.generateCompletion(rig.promptTokens, options);
    completion.dispose({ disposeSequence: false });
  });
}

function runChat(rig: Rig, streams: number): Promise<RunResult> {
  return runGenerating(rig, streams, async (contextSequence, options) => {
    const chat = new rig.nlc.LlamaChat({ contextSequence, chatWrapper: 'auto' });
    await chat.generateResponse([{ type: 'user', text: rig.args.prompt }], options);
    chat.dispose({ disposeSequence: false });
  });
}

const runners: Record<Mode, (rig: Rig, streams: number) => Promise<RunResult>> = {
  bare: runBare,
  evaluate: runEvaluate,
  completion: runCompletion,
  chat: runChat,
};

function median(values: number[]): number {
  return percentile(values, 50) ?? Number.NaN;
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

function nlcEntry(dir: string | undefined): string {
  if (dir == null) return 'node-llama-cpp';
  return pathToFileURL(path.resolve(dir, 'dist/index.js')).href;
}

function patchState(dir: string | undefined): string {
  const base =
    dir ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../node_modules/node-llama-cpp');
  try {
    const src = readFileSync(path.join(base, 'dist/evaluator/LlamaContext/LlamaContext.js'), 'utf8');
    return src.includes('_waitForSequencesToRequeue') ? 'patched' : 'unpatched';
  } catch {
    return 'unknown';
  }
}

interface ModeSummary {
  tokPerSec: number;
  ttftMs: number;
  tokensPerDecode: number;
  decodesPerStep: number;
  cpuMsPerToken: number;
  ratioToBare: number | null;
  runs: number[];
}

async function runInProcess(args: Args): Promise<Record<string, unknown>> {
  const nlc = (await import(nlcEntry(args.nlc))) as Nlc;
  const llama = await lmxsLlama(nlc, 'off');
  const model = await llama.loadModel({ modelPath: args.model });
  const rig: Rig = { nlc, llama, model, promptTokens: model.tokenize(args.prompt, false), args };
  if (rig.promptTokens.length === 0) throw new Error('empty prompt');
  const loadBefore = os.loadavg().map((x) => round(x));
  const samples = new Map<string, RunResult[]>();
  // warm-up: one short bare run so page faults and first-call costs stay out of the figures
  await runBare({ ...rig, args: { ...args, tokens: 8 } }, 1);
  for (let r = 0; r < args.runs; r++) {
    for (const streams of args.streams) {
      for (const mode of args.modes) {
        const key = `${mode}/${streams}`;
        const result = await runners[mode](rig, streams);
        samples.set(key, [...(samples.get(key) ?? []), result]);
      }
    }
  }
  const summary: Record<string, ModeSummary> = {};
  for (const [key, results] of samples) {
    summary[key] = {
      tokPerSec: round(median(results.map((x) => x.tokPerSec)), 1),
      ttftMs: round(median(results.map((x) => x.ttftMs))),
      tokensPerDecode: round(median(results.map((x) => x.tokensPerDecode))),
      decodesPerStep: round(median(results.map((x) => x.decodesPerStep))),
      cpuMsPerToken: round(median(results.map((x) => x.cpuMsPerToken)), 3),
      ratioToBare: null,
      runs: results.map((x) => round(x.tokPerSec, 1)),
    };
  }
  for (const [key, s] of Object.entries(summary)) {
    const bare = summary[`bare/${key.split('/')[1] ?? ''}`];
    s.ratioToBare = bare == null ? null : round(s.tokPerSec / bare.tokPerSec);
  }
  const out = {
    model: path.basename(args.model),
    modelBytes: model.size,
    backend: llama.gpu === false ? 'cpu' : llama.gpu,
    threads: args.threads,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? 'default',
    nodeLlamaCpp: args.nlc ?? 'node_modules',
    dispatcher: patchState(args.nlc),
    batching: args.batching,
    sequences: args.sequences ?? 'streams',
    tokens: args.tokens,
    promptTokens: rig.promptTokens.length,
    runs: args.runs,
    loadAverage: { before: loadBefore, after: os.loadavg().map((x) => round(x)) },
    results: summary,
  };
  await model.dispose();
  await llama.dispose();
  return out;
}

/**
 * File I/O beside decoding (--io <file>): reads the file with fs.promises.readFile and copies it with streams,
 * once alone and once while one stream decodes (bare addon loop), and reports how long each took.
 * Tells whether a small libuv pool (UV_THREADPOOL_SIZE) starves I/O when decodeBatch/sampleToken occupy it.
 */
async function runIoProbe(args: Args, file: string): Promise<Record<string, unknown>> {
  const { readFile } = await import('node:fs/promises');
  const { createReadStream, createWriteStream, statSync, writeFileSync, rmSync } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  const { randomBytes } = await import('node:crypto');
  const size = 100 * 1024 * 1024;
  if (!(statSync(file, { throwIfNoEntry: false })?.size === size)) {
    const chunk = randomBytes(1024 * 1024);
    writeFileSync(file, Buffer.concat(Array.from({ length: 100 }, () => chunk)));
  }
  const copyTarget = `${file}.copy`;
  const io = {
    readFile: async () => void (await readFile(file)).length,
    streamCopy: async () => {
      await pipeline(createReadStream(file), createWriteStream(copyTarget));
      rmSync(copyTarget, { force: true });
    },
  };
  const nlc = (await import(nlcEntry(args.nlc))) as Nlc;
  const llama = await lmxsLlama(nlc, 'off');
  const model = await llama.loadModel({ modelPath: args.model });
  const maxSteps = 4000;
  const context = await model.createContext({
    sequences: 1,
    contextSize: maxSteps + 32,
    threads: args.threads,
  });
  const { ctx, newSampler } = internalsOf(llama, model, context);
  const sampler = newSampler();
  sampler.applyConfig({ temperature: 0 });
  const time = async (fn: () => Promise<void>): Promise<number> => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  /** Decodes until `stop()` is true (or maxSteps), returns tok/s. */
  const decodeWhile = async (stop: () => boolean): Promise<number> => {
    ctx.disposeSequence(0);
    let token = model.tokens.bos ?? (1 as NodeLlamaCpp.Token);
    const t = performance.now();
    let steps = 0;
    for (; steps < maxSteps && !stop(); steps++) {
      ctx.initBatch(1);
      const [index] = ctx.addToBatch(0, steps, Uint32Array.of(token), Uint32Array.of(0));
      await ctx.decodeBatch();
      token = (await ctx.sampleToken(index ?? 0, sampler)) as NodeLlamaCpp.Token;
    }
    return steps / ((performance.now() - t) / 1000);
  };
  const rows: Record<
    string,
    { aloneMs: number[]; besideDecodeMs: number[]; decodeTokPerSecDuringIo: number[] }
  > = {};
  const decodeAlone: number[] = [];
  for (let r = 0; r < args.runs; r++) {
    const until = performance.now() + 1000;
    decodeAlone.push(await decodeWhile(() => performance.now() > until));
    for (const [name, fn] of Object.entries(io)) {
      const row = (rows[name] ??= { aloneMs: [], besideDecodeMs: [], decodeTokPerSecDuringIo: [] });
      row.aloneMs.push(await time(fn));
      let done = false;
      const decoding = decodeWhile(() => done);
      row.besideDecodeMs.push(await time(fn));
      done = true;
      row.decodeTokPerSecDuringIo.push(await decoding);
    }
  }
  sampler.dispose();
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  const summary = Object.fromEntries(
    Object.entries(rows).map(([name, row]) => [
      name,
      {
        aloneMs: round(median(row.aloneMs), 1),
        besideDecodeMs: round(median(row.besideDecodeMs), 1),
        slowdown: round(median(row.besideDecodeMs) / median(row.aloneMs)),
        decodeTokPerSecDuringIo: round(median(row.decodeTokPerSecDuringIo), 1),
      },
    ]),
  );
  return {
    model: path.basename(args.model),
    threads: args.threads,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? 'default',
    fileMB: 100,
    runs: args.runs,
    decodeTokPerSecAlone: round(median(decodeAlone), 1),
    loadAverage: os.loadavg().map((x) => round(x)),
    io: summary,
  };
}

interface Setting {
  label: string;
  env: Record<string, string>;
  argv: string[];
}

/** "threads=1,2;uv=default,1;nlc=node_modules,/tmp/x" → the cross product of settings. */
function parseMatrix(spec: string): Setting[] {
  let settings: Setting[] = [{ label: '', env: {}, argv: [] }];
  for (const part of spec.split(';').filter(Boolean)) {
    const [key, list] = part.split('=');
    if (key == null || list == null) throw new Error(`bad --matrix part: ${part}`);
    const values = list.split(',');
    settings = settings.flatMap((s) =>
      values.map((v) => {
        const label = `${s.label}${s.label ? ' ' : ''}${key}=${v}`;
        if (key === 'uv')
          return {
            label,
            env: v === 'default' ? { ...s.env } : { ...s.env, UV_THREADPOOL_SIZE: v },
            argv: s.argv,
          };
        if (key === 'nlc')
          return { label, env: s.env, argv: v === 'node_modules' ? s.argv : [...s.argv, '--nlc', v] };
        return { label, env: s.env, argv: [...s.argv, `--${key}`, v] };
      }),
    );
  }
  return settings;
}

function runChild(setting: Setting, baseArgv: string[]): Promise<Record<string, unknown>> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...setting.env };
  if (setting.env.UV_THREADPOOL_SIZE == null) delete env.UV_THREADPOOL_SIZE;
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...baseArgv, ...setting.argv], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`child ${setting.label} exited ${code}`));
      try {
        resolve(JSON.parse(stdout) as Record<string, unknown>);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

async function runMatrix(args: Args, argv: string[]): Promise<Record<string, unknown>> {
  const settings = parseMatrix(args.matrix ?? '');
  // children run one round each; rounds interleave settings so machine noise hits all of them alike
  const childArgv = stripOptions(argv, ['--matrix', '--runs']).concat(['--runs', '1']);
  const perSetting = new Map<string, Record<string, ModeSummary>[]>();
  for (let r = 0; r < args.runs; r++) {
    for (const setting of settings) {
      const out = await runChild(
        setting,
        stripOptions(
          childArgv,
          setting.argv.filter((a) => a.startsWith('--')),
        ),
      );
      perSetting.set(setting.label, [
        ...(perSetting.get(setting.label) ?? []),
        out.results as Record<string, ModeSummary>,
      ]);
      const brief = Object.entries(out.results as Record<string, ModeSummary>)
        .map(([k, v]) => `${k} ${v.tokPerSec}`)
        .join(', ');
      process.stderr.write(
        `[round ${r + 1}/${args.runs}] ${setting.label}: ${brief} (load ${os.loadavg()[0]?.toFixed(1)})\n`,
      );
    }
  }
  const table: Record<
    string,
    Record<
      string,
      {
        tokPerSec: number;
        ratio: number;
        ratioToBare: number;
        tokensPerDecode: number;
        ttftMs: number;
        cpuMsPerToken: number;
        runs: number[];
      }
    >
  > = {};
  const baseline = settings[0]?.label ?? '';
  const med = (
    label: string,
    key: string,
    field: 'tokPerSec' | 'tokensPerDecode' | 'ttftMs' | 'cpuMsPerToken',
  ): number => median((perSetting.get(label) ?? []).map((res) => res[key]?.[field] ?? Number.NaN));
  for (const setting of settings) {
    const rows: (typeof table)[string] = {};
    const keys = Object.keys(perSetting.get(setting.label)?.[0] ?? {});
    for (const key of keys) {
      const tps = med(setting.label, key, 'tokPerSec');
      const bareKey = `bare/${key.split('/')[1] ?? ''}`;
      rows[key] = {
        tokPerSec: round(tps, 1),
        ratio: round(tps / med(baseline, key, 'tokPerSec')),
        ratioToBare: round(tps / med(setting.label, bareKey, 'tokPerSec')),
        tokensPerDecode: round(med(setting.label, key, 'tokensPerDecode')),
        ttftMs: round(med(setting.label, key, 'ttftMs')),
        cpuMsPerToken: round(med(setting.label, key, 'cpuMsPerToken'), 3),
        runs: (perSetting.get(setting.label) ?? []).map((res) => res[key]?.tokPerSec ?? Number.NaN),
      };
    }
    table[setting.label] = rows;
  }
  return {
    model: path.basename(args.model),
    baseline,
    tokens: args.tokens,
    rounds: args.runs,
    loadAverage: os.loadavg().map((x) => round(x)),
    settings: table,
  };
}

function stripOptions(argv: string[], names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (names.includes(a)) {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const model = get('model');
  const threads = Number(get('threads'));
  if (model == null) throw new Error('--model <file.gguf> is required');
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error('--threads <n ≥ 1> is required (the default is wrong on small machines)');
  const modes = (get('modes') ?? 'bare,evaluate,completion').split(',') as Mode[];
  for (const m of modes) if (!allModes.includes(m)) throw new Error(`unknown mode ${m}`);
  const batching = get('batching') ?? 'default';
  if (batching !== 'default' && batching !== 'eager') throw new Error('--batching default|eager');
  return {
    model,
    threads,
    tokens: Number(get('tokens') ?? 128),
    runs: Number(get('runs') ?? 3),
    streams: (get('streams') ?? '1,4').split(',').map(Number),
    modes,
    prompt: get('prompt') ?? 'Once upon a time, there was a little girl named Lily.',
    nlc: get('nlc'),
    matrix: get('matrix'),
    batching,
    io: get('io'),
    maxSeconds: Number(get('max-seconds') ?? 30),
    sequences: get('sequences') == null ? undefined : Number(get('sequences')),
  };
}

const argv = process.argv.slice(2);
const args = parseArgs(argv);
const output =
  args.matrix != null
    ? await runMatrix(args, argv)
    : args.io != null
      ? await runIoProbe(args, args.io)
      : await runInProcess(args);
process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
