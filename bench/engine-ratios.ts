// Issue 8's figures: decode tok/s and TTFT at 1 and 4 concurrent streams, fixed-length greedy generations, for
// LMX over HTTP next to node-llama-cpp's addon floor (bench/addon-floor.ts, in this process) and, when
// LMX_PEER_URL names an OpenAI-compatible server (llama.cpp's llama-server, say), next to that peer. The three
// are measured in interleaved rounds so machine noise hits them alike; ratios compare the medians.

import * as nodeLlamaCpp from 'node-llama-cpp';
import { runBench, type BenchResult } from '../loadgen/bench-run.ts';
import { percentile } from '../loadgen/percentiles.ts';
import { builtInPrompts } from '../loadgen/prompts.ts';
import { parseTargetUrl, type BenchTarget } from '../loadgen/target.ts';
import { AddonFloor } from './addon-floor.ts';

/** One side of a comparison at one stream count: medians over rounds. */
export interface EngineSide {
  /** All streams together, decode phase: tokens after each stream's first ÷ the wall span (see httpSample). */
  decodeTokensPerSecond?: number;
  ttftMs?: number;
  /** The slowest stream's TTFT (median over rounds): a stream that waits for the others shows here. */
  ttftWorstMs?: number;
  /** Decode tok/s per round, for the spread. */
  rounds: number[];
  /** TTFT per round (ms). */
  ttftRounds: number[];
  /** Every stream's TTFT per round, ascending (ms; HTTP sides). */
  ttftPerStreamRounds?: number[][];
  /** Requests that failed or stopped short of the fixed length (HTTP sides only). */
  failed?: number;
}

export interface EngineCase {
  streams: number;
  floor: EngineSide;
  lmx: EngineSide;
  /** Each peer's side, by its label. */
  peers: Record<string, EngineSide>;
  /** Floor only: tokens per llama_decode in the decode phase (every sequence in every batch: = streams). */
  floorTokensPerDecode?: number;
  /** LMX ÷ floor and LMX ÷ each peer: decode (below 1: LMX slower) and TTFT (above 1: LMX slower). */
  lmxToFloor: Comparison;
  lmxToPeers: Record<string, Comparison>;
  /** LMX ÷ the peer that decoded fastest, and TTFT ÷ the peer with the shortest TTFT (its best setting). */
  lmxToBestPeer?: { decode?: number; decodePeer: string; ttft?: number; ttftPeer: string };
}

export interface Comparison {
  decode?: number;
  ttft?: number;
}

/** Prompt evaluation of a long prompt no cache holds (a fresh prefix every request), one token generated. */
export interface PrefillFigures {
  /** The prompt's length in LMX's count (usage.prompt_tokens). */
  promptTokens: number;
  /** Prompt tokens ÷ request time, median over rounds, and each round's. */
  lmx: { tokensPerSecond?: number; rounds: number[] };
  peers: Record<string, { tokensPerSecond?: number; rounds: number[]; promptTokens: number }>;
  /** LMX ÷ the fastest peer (below 1: LMX slower). */
  lmxToBestPeer?: { ratio?: number; peer: string };
}

/**
 * Time to the first streamed token of a short prompt each side has cached, one request at a time with nothing else
 * running (max_tokens 1), sides alternating request by request: each side re-evaluates the prompt's last token.
 */
export interface TtftFigures {
  requests: number;
  /** Median over every request, in ms. */
  lmx: { ttftMs?: number };
  peers: Record<string, { ttftMs?: number }>;
  /** LMX ÷ the quickest peer (above 1: LMX slower). */
  lmxToBestPeer?: { ratio?: number; peer: string };
}

export interface EngineFigures {
  tokens: number;
  rounds: number;
  threads: number;
  uvThreadpoolSize: string;
  prompt: string;
  peers: { label: string; url: string; model: string }[];
  cases: EngineCase[];
  ttft?: TtftFigures;
  prefill?: PrefillFigures;
}

/** An OpenAI-compatible server to compare LMX with (llama.cpp's llama-server, say) and what to call it. */
export interface EnginePeer {
  label: string;
  /** Base URL, with or without /v1. */
  url: string;
  /** Its model id (default: its first). */
  model?: string;
}

export interface EngineOptions {
  lmxUrl: string;
  modelPath: string;
  /** The addon floor's decode threads (and batch threads: LMX's build only); vs-llama-server gives it the ones LMX chose. */
  threads: number;
  batchThreads?: number;
  gpu: 'auto' | 'off';
  /** The server's context shape, so the floor decodes in a context like the server's. */
  sequences: number;
  contextSize: number;
  tokens: number;
  rounds: number;
  streams: readonly number[];
  peers: readonly EnginePeer[];
  /** Requests per side and round of the TTFT phase (0 or absent: not measured). */
  ttftRequests?: number;
  /** Length in tokens of the uncached prompt whose evaluation rate is measured (0 or absent: not measured). */
  prefillTokens?: number;
  timeoutMs: number;
  log: (line: string) => void;
  /**
   * Resolves once no server is still busy with the previous measurement, called before each measured round and
   * request. llama-server's threadpool spins for ~130 ms after every graph (polling level 50): without this, the side
   * measured next shares the machine with a spinning peer.
   */
  settle?: () => Promise<void>;
}

export async function measureEngine(options: EngineOptions): Promise<EngineFigures> {
  const prompt = builtInPrompts('short')[0]!.text;
  const floor = await AddonFloor.open(nodeLlamaCpp, {
    modelPath: options.modelPath,
    threads: options.threads,
    batchThreads: options.batchThreads,
    gpu: options.gpu,
    sequences: options.sequences,
    contextSize: options.contextSize,
  });
  const lmx: BenchTarget = { label: 'LMX', baseUrl: options.lmxUrl };
  const peers = options.peers.map((peer) => ({
    label: peer.label,
    target: { label: peer.label, baseUrl: parseTargetUrl(openAiBase(peer.url), false) } as BenchTarget,
    model: peer.model,
  }));
  const samples = new Map<string, Sample[]>();
  const add = (key: string, sample: Sample) => samples.set(key, [...(samples.get(key) ?? []), sample]);
  const prefillRounds = new Map<string, { tokensPerSecond: number; promptTokens: number }[]>();
  const ttftRounds = new Map<string, number[]>();
  const settle = options.settle ?? (async () => {});
  const longPrompt = options.prefillTokens ? promptOfTokens(floor, options.prefillTokens) : undefined;
  try {
    const promptTokens = floor.tokenize(prompt);
    // Warm-up of every side, unmeasured.
    await floor.run({ streams: 1, promptTokens, tokens: 8, maxSeconds: 30 });
    for (let round = 0; round < options.rounds; round++) {
      for (const streams of options.streams) {
        await settle();
        const bare = await floor.run({ streams, promptTokens, tokens: options.tokens, maxSeconds: 120 });
        add(`floor/${streams}`, {
          decode: bare.tokPerSec,
          ttft: bare.ttftMs,
          failed: 0,
          perDecode: bare.tokensPerDecode,
        });
        await settle();
        add(`lmx/${streams}`, httpSample(await overHttp(lmx, undefined, streams, round === 0, options)));
        for (const peer of peers) {
          await settle();
          const result = await overHttp(peer.target, peer.model, streams, round === 0, options);
          peer.model ??= result.targets[0]?.models[0];
          add(`${peer.label}/${streams}`, httpSample(result));
        }
        const last = (key: string) => samples.get(key)?.at(-1);
        const described = (key: string, label: string) =>
          `${label} ${fmt(last(key)?.decode)} tok/s (TTFT ${fmtList(last(key)?.ttftPerStream)} ms)`;
        options.log(
          `   round ${round + 1}, ${streams} stream${streams > 1 ? 's' : ''}: floor ${fmt(last(`floor/${streams}`)?.decode)} tok/s, ` +
            [
              described(`lmx/${streams}`, 'LMX'),
              ...peers.map((p) => described(`${p.label}/${streams}`, p.label)),
            ].join(', '),
        );
      }
    }
    const sides = [{ label: 'lmx', target: lmx, model: undefined as string | undefined }, ...peers];
    for (const side of sides) side.model ??= await firstModel(side.target);
    for (let round = 0; round < options.rounds; round++)
      for (let request = 0; request < (options.ttftRequests ?? 0); request++)
        for (const side of sides) {
          await settle();
          ttftRounds.set(side.label, [
            ...(ttftRounds.get(side.label) ?? []),
            await ttftOnce(side.target, side.model!, prompt, options),
          ]);
        }
    if (options.ttftRequests)
      options.log(
        `   TTFT, ${options.rounds * options.ttftRequests} requests each: ` +
          sides.map((side) => `${side.label} ${fmt(median(ttftRounds.get(side.label) ?? []))} ms`).join(', '),
      );
    // Prefill after every decode round: a long prompt in a sequence (or a llama-server slot) would change what
    // the decode rounds' short prompt finds cached.
    const prefillSides = longPrompt ? sides : [];
    for (let round = 0; longPrompt && round < options.rounds; round++) {
      const line: string[] = [];
      for (const side of prefillSides) {
        await settle();
        const figure = await prefillOnce(
          side.target,
          side.model!,
          `${round}-${side.label}`,
          longPrompt,
          options,
        );
        prefillRounds.set(side.label, [...(prefillRounds.get(side.label) ?? []), figure]);
        line.push(`${side.label} ${fmt(figure.tokensPerSecond)} tok/s (${figure.promptTokens} tokens)`);
      }
      options.log(`   round ${round + 1}, prefill: ${line.join(', ')}`);
    }
  } finally {
    await floor.dispose();
  }
  const side = (key: string): EngineSide => {
    const list = samples.get(key) ?? [];
    return {
      decodeTokensPerSecond: median(list.map((s) => s.decode)),
      ttftMs: median(list.map((s) => s.ttft)),
      rounds: list.map((s) => Math.round(s.decode * 10) / 10),
      ttftRounds: list.map((s) => Math.round(s.ttft * 10) / 10),
      ...(key.startsWith('floor/')
        ? {}
        : {
            ttftWorstMs: median(list.map((s) => Math.max(...(s.ttftPerStream ?? [Number.NaN])))),
            ttftPerStreamRounds: list.map((s) => (s.ttftPerStream ?? []).map((t) => Math.round(t * 10) / 10)),
            failed: list.reduce((sum, s) => sum + s.failed, 0),
          }),
    };
  };
  const cases = options.streams.map((streams): EngineCase => {
    const floorSide = side(`floor/${streams}`);
    const lmxSide = side(`lmx/${streams}`);
    const peerSides = Object.fromEntries(peers.map((p) => [p.label, side(`${p.label}/${streams}`)]));
    return {
      streams,
      floor: floorSide,
      lmx: lmxSide,
      peers: peerSides,
      floorTokensPerDecode: median((samples.get(`floor/${streams}`) ?? []).flatMap((s) => s.perDecode ?? [])),
      lmxToFloor: compare(lmxSide, floorSide),
      lmxToPeers: Object.fromEntries(
        Object.entries(peerSides).map(([label, peerSide]) => [label, compare(lmxSide, peerSide)]),
      ),
      lmxToBestPeer: againstBest(lmxSide, peerSides),
    };
  });
  return {
    tokens: options.tokens,
    rounds: options.rounds,
    threads: options.threads,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? 'default (4)',
    prompt,
    peers: peers.map((p) => ({ label: p.label, url: p.target.baseUrl, model: p.model ?? '?' })),
    cases,
    ttft: options.ttftRequests
      ? ttftFigures(
          ttftRounds,
          peers.map((p) => p.label),
        )
      : undefined,
    prefill: longPrompt
      ? prefillFigures(
          prefillRounds,
          peers.map((p) => p.label),
        )
      : undefined,
  };
}

/** The first model a server lists. */
async function firstModel(target: BenchTarget): Promise<string> {
  const response = await fetch(`${target.baseUrl}/models`, { signal: AbortSignal.timeout(10_000) });
  const id = ((await response.json()) as { data?: { id?: string }[] }).data?.[0]?.id;
  if (!id) throw new Error(`${target.label} lists no model`);
  return id;
}

/** The entry whose value is best (`better`), skipping missing values; undefined when none has one. */
function bestOf<T>(
  entries: readonly [string, T][],
  value: (item: T) => number | undefined,
  better: (a: number, b: number) => boolean,
): [string, T] | undefined {
  let best: [string, T] | undefined;
  for (const entry of entries) {
    const candidate = value(entry[1]);
    if (candidate === undefined) continue;
    const current = best && value(best[1]);
    if (current === undefined || better(candidate, current)) best = entry;
  }
  return best;
}

/** LMX's decode ÷ the fastest peer's, and its TTFT ÷ the quickest peer's. */
export function againstBest(lmx: EngineSide, peers: Record<string, EngineSide>): EngineCase['lmxToBestPeer'] {
  const entries = Object.entries(peers);
  if (entries.length === 0) return undefined;
  const [decodePeer, fastest] =
    bestOf(
      entries,
      (s) => s.decodeTokensPerSecond,
      (a, b) => a > b,
    ) ?? entries[0]!;
  const [ttftPeer, quickest] =
    bestOf(
      entries,
      (s) => s.ttftMs,
      (a, b) => a < b,
    ) ?? entries[0]!;
  return {
    decode: ratio(lmx.decodeTokensPerSecond, fastest.decodeTokensPerSecond),
    decodePeer,
    ttft: ratio(lmx.ttftMs, quickest.ttftMs),
    ttftPeer,
  };
}

export function ttftFigures(samples: Map<string, number[]>, peerLabels: readonly string[]): TtftFigures {
  const lmx = { ttftMs: median(samples.get('lmx') ?? []) };
  const peers = Object.fromEntries(
    peerLabels.map((label) => [label, { ttftMs: median(samples.get(label) ?? []) }]),
  );
  const best = bestOf(
    Object.entries(peers),
    (p) => p.ttftMs,
    (a, b) => a < b,
  );
  return {
    requests: samples.get('lmx')?.length ?? 0,
    lmx,
    peers,
    lmxToBestPeer: best ? { ratio: ratio(lmx.ttftMs, best[1].ttftMs), peer: best[0] } : undefined,
  };
}

function prefillFigures(
  rounds: Map<string, { tokensPerSecond: number; promptTokens: number }[]>,
  peerLabels: readonly string[],
): PrefillFigures {
  const summary = (label: string) => {
    const list = rounds.get(label) ?? [];
    return {
      tokensPerSecond: median(list.map((r) => r.tokensPerSecond)),
      rounds: list.map((r) => Math.round(r.tokensPerSecond)),
      promptTokens: list[0]?.promptTokens ?? 0,
    };
  };
  const { promptTokens, ...lmx } = summary('lmx');
  const peers = Object.fromEntries(peerLabels.map((label) => [label, summary(label)]));
  const best = bestOf(
    Object.entries(peers),
    (p) => p.tokensPerSecond,
    (a, b) => a > b,
  );
  return {
    promptTokens,
    lmx,
    peers,
    lmxToBestPeer: best
      ? { ratio: ratio(lmx.tokensPerSecond, best[1].tokensPerSecond), peer: best[0] }
      : undefined,
  };
}

/** The long built-in prompts, repeated as needed and cut to `tokens` tokens of the model's own tokenizer. */
function promptOfTokens(floor: AddonFloor, tokens: number): string {
  const text = builtInPrompts('long')
    .map((p) => p.text)
    .join('\n\n');
  const once = floor.tokenize(text);
  const repeated = Array.from({ length: Math.ceil(tokens / Math.max(1, once.length)) }, () => once).flat();
  return floor.detokenize(repeated.slice(0, tokens));
}

/**
 * One non-streamed completion of the long prompt with one token to generate. The prompt starts with a tag
 * of its own (`fresh`), so neither LMX's prompt cache nor the peer's reuses an earlier request's prefix:
 * the whole prompt is evaluated. Rate: prompt tokens ÷ the request's time (one decoded token included).
 */
async function prefillOnce(
  target: BenchTarget,
  model: string,
  fresh: string,
  prompt: string,
  options: EngineOptions,
): Promise<{ tokensPerSecond: number; promptTokens: number }> {
  const started = performance.now();
  const response = await fetch(`${target.baseUrl}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      prompt: `Request ${fresh}.\n\n${prompt}`,
      max_tokens: 1,
      temperature: 0,
    }),
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const body = (await response.json()) as { usage?: { prompt_tokens?: number } };
  const seconds = (performance.now() - started) / 1000;
  const promptTokens = body.usage?.prompt_tokens;
  if (!response.ok || !promptTokens)
    throw new Error(
      `prefill on ${target.label}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 300)}`,
    );
  return { tokensPerSecond: promptTokens / seconds, promptTokens };
}

/** One streamed completion of `prompt` with one token to generate: ms until the first chunk with text. */
async function ttftOnce(
  target: BenchTarget,
  model: string,
  prompt: string,
  options: EngineOptions,
): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${target.baseUrl}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt, max_tokens: 1, temperature: 0, stream: true, ignore_eos: true }),
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  if (!response.ok || !response.body)
    throw new Error(`TTFT on ${target.label}: HTTP ${response.status} ${await response.text()}`);
  // The first chunk with text in it: LMX opens a stream with an empty one before any token.
  const decoder = new TextDecoder();
  let received = '';
  let firstTokenMs: number | undefined;
  for await (const chunk of response.body) {
    if (firstTokenMs !== undefined) continue;
    received += decoder.decode(chunk, { stream: true });
    if (/"text":"[^"]/.test(received)) firstTokenMs = performance.now() - started;
  }
  if (firstTokenMs === undefined) throw new Error(`TTFT on ${target.label}: no token streamed`);
  return firstTokenMs;
}

interface Sample {
  decode: number;
  ttft: number;
  ttftPerStream?: number[];
  failed: number;
  perDecode?: number;
}

/** `streams` concurrent fixed-length greedy completions on one target (one request per stream). */
function overHttp(
  target: BenchTarget,
  model: string | undefined,
  streams: number,
  warmup: boolean,
  options: EngineOptions,
): Promise<BenchResult> {
  return runBench({
    targets: [target],
    models: model ? [model] : [],
    scenario: 'burst',
    concurrency: streams,
    requests: streams,
    durationMs: options.timeoutMs,
    maxTokens: options.tokens,
    promptSet: 'short',
    prompts: builtInPrompts('short').slice(0, 1),
    endpoint: 'completions',
    ignoreEos: true,
    temperature: 0,
    includeUsage: true,
    timeoutMs: options.timeoutMs,
    warmup,
  });
}

/**
 * Aggregate decode rate of concurrent requests: every token after each stream's first, divided by the wall span
 * from the earliest first token to the last stream's end. Streams that do not overlap (one waits for the others
 * before its first token) therefore count at their real, serialized rate; adding per-stream rates would count them
 * as if they had run side by side. TTFT: the median request's, and each stream's (sorted), where a stall shows.
 */
export function httpSample(result: BenchResult): HttpSample {
  const ok = result.requests.filter(
    (r) => r.outcome.class === 'ok' && r.tpotMs !== undefined && r.ttftMs !== undefined,
  );
  const expected = result.settings.maxTokens;
  const short = ok.filter((r) => (r.outputTokens ?? 0) < expected).length;
  const ttfts = ok.map((r) => r.ttftMs as number).sort((a, b) => a - b);
  return {
    decode: decodeOverWallSpan(ok),
    ttft: median(ttfts) ?? Number.NaN,
    ttftPerStream: ttfts,
    failed: result.requests.length - ok.length + short,
  };
}

export interface HttpSample {
  decode: number;
  ttft: number;
  /** Every stream's TTFT, ascending (ms). */
  ttftPerStream: number[];
  failed: number;
}

/** Tokens after each request's first ÷ (last end − earliest first token), in tok/s; NaN when nothing decoded. */
export function decodeOverWallSpan(
  requests: readonly { startMs: number; latencyMs: number; ttftMs?: number; outputTokens: number }[],
): number {
  let tokens = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const r of requests) {
    if (r.ttftMs === undefined || r.outputTokens < 2) continue;
    tokens += r.outputTokens - 1;
    from = Math.min(from, r.startMs + r.ttftMs);
    to = Math.max(to, r.startMs + r.latencyMs);
  }
  return tokens > 0 && to > from ? (tokens * 1000) / (to - from) : Number.NaN;
}

function compare(a: EngineSide, b: EngineSide): Comparison {
  return {
    decode: ratio(a.decodeTokensPerSecond, b.decodeTokensPerSecond),
    ttft: ratio(a.ttftMs, b.ttftMs),
  };
}

/**
 * LMX_PEER_URL: one OpenAI-compatible base URL for every model, or per model as
 * `bench100m=http://127.0.0.1:8089,stories260K=http://127.0.0.1:8090` (a llama-server serves one model).
 */
export function peerFor(modelName: string, setting: string | undefined): string | undefined {
  if (!setting) return undefined;
  const entries = setting
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 1 && !/^[^=/:]+=/.test(entries[0]!)) return entries[0];
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at > 0 && entry.slice(0, at) === modelName) return entry.slice(at + 1);
  }
  return undefined;
}

/** Accepts `http://host:port` or `http://host:port/v1`. */
function openAiBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}

/** a ÷ b, undefined when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** The median of the finite values (undefined if none). */
function median(values: readonly number[]): number | undefined {
  return percentile(values, 50);
}

function fmt(value: number | undefined): string {
  return value === undefined ? '—' : Math.round(value).toString();
}

function fmtList(values: readonly number[] | undefined): string {
  return values?.length ? values.map((v) => Math.round(v)).join('/') : '—';
}
