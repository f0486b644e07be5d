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
  peer?: EngineSide;
  /** Floor only: tokens per llama_decode in the decode phase (every sequence in every batch: = streams). */
  floorTokensPerDecode?: number;
  /** LMX ÷ floor and LMX ÷ peer: decode (below 1: LMX slower) and TTFT (above 1: LMX slower). */
  lmxToFloor: { decode?: number; ttft?: number };
  lmxToPeer?: { decode?: number; ttft?: number };
}

export interface EngineFigures {
  tokens: number;
  rounds: number;
  threads: number;
  uvThreadpoolSize: string;
  prompt: string;
  peer?: { url: string; model: string };
  cases: EngineCase[];
}

export interface EngineOptions {
  lmxUrl: string;
  modelPath: string;
  threads: number;
  gpu: 'auto' | 'off';
  /** The server's context shape, so the floor decodes in a context like the server's. */
  sequences: number;
  contextSize: number;
  tokens: number;
  rounds: number;
  streams: readonly number[];
  /** Base URL of the peer (with or without /v1), and optionally its model id (default: its first). */
  peerUrl?: string;
  peerModel?: string;
  timeoutMs: number;
  log: (line: string) => void;
}

export async function measureEngine(options: EngineOptions): Promise<EngineFigures> {
  const prompt = builtInPrompts('short')[0]!.text;
  const floor = await AddonFloor.open(nodeLlamaCpp, {
    modelPath: options.modelPath,
    threads: options.threads,
    gpu: options.gpu,
    sequences: options.sequences,
    contextSize: options.contextSize,
  });
  const lmx: BenchTarget = { label: 'LMX', baseUrl: options.lmxUrl };
  const peer: BenchTarget | undefined = options.peerUrl
    ? { label: 'peer', baseUrl: parseTargetUrl(openAiBase(options.peerUrl), false) }
    : undefined;
  const samples = new Map<string, Sample[]>();
  const add = (key: string, sample: Sample) => samples.set(key, [...(samples.get(key) ?? []), sample]);
  let peerModel = options.peerModel;
  try {
    const promptTokens = floor.tokenize(prompt);
    // Warm-up of every side, unmeasured.
    await floor.run({ streams: 1, promptTokens, tokens: 8, maxSeconds: 30 });
    for (let round = 0; round < options.rounds; round++) {
      for (const streams of options.streams) {
        const bare = await floor.run({ streams, promptTokens, tokens: options.tokens, maxSeconds: 120 });
        add(`floor/${streams}`, {
          decode: bare.tokPerSec,
          ttft: bare.ttftMs,
          failed: 0,
          perDecode: bare.tokensPerDecode,
        });
        add(`lmx/${streams}`, httpSample(await overHttp(lmx, undefined, streams, round === 0, options)));
        if (peer) {
          const result = await overHttp(peer, peerModel, streams, round === 0, options);
          peerModel ??= result.targets[0]?.models[0];
          add(`peer/${streams}`, httpSample(result));
        }
        const last = (key: string) => samples.get(key)?.at(-1);
        options.log(
          `   round ${round + 1}, ${streams} stream${streams > 1 ? 's' : ''}: floor ${fmt(last(`floor/${streams}`)?.decode)} tok/s, ` +
            `LMX ${fmt(last(`lmx/${streams}`)?.decode)} tok/s (TTFT ${fmtList(last(`lmx/${streams}`)?.ttftPerStream)} ms)` +
            (peer
              ? `, peer ${fmt(last(`peer/${streams}`)?.decode)} tok/s (TTFT ${fmtList(last(`peer/${streams}`)?.ttftPerStream)} ms)`
              : ''),
        );
      }
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
    const peerSide = peer ? side(`peer/${streams}`) : undefined;
    return {
      streams,
      floor: floorSide,
      lmx: lmxSide,
      peer: peerSide,
      floorTokensPerDecode: median((samples.get(`floor/${streams}`) ?? []).flatMap((s) => s.perDecode ?? [])),
      lmxToFloor: compare(lmxSide, floorSide),
      lmxToPeer: peerSide ? compare(lmxSide, peerSide) : undefined,
    };
  });
  return {
    tokens: options.tokens,
    rounds: options.rounds,
    threads: options.threads,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? 'default (4)',
    prompt,
    peer: peer ? { url: peer.baseUrl, model: peerModel ?? '?' } : undefined,
    cases,
  };
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

function compare(a: EngineSide, b: EngineSide): { decode?: number; ttft?: number } {
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
