/**
 * Thread counts per backend and per phase (measurements in bench/engine-study.md).
 *
 * llama.cpp evaluates a batch of one token (a lone stream's decode) with `threads` and a batch of more (prompt
 * evaluation, several streams in one step) with `batchThreads`. Prompt evaluation is compute-bound and gains from
 * every core; a lone token's decode is small enough that the cost of waking and joining workers can exceed the gain.
 *
 * With LMX's build of the addon (engine-build.ts) each context has persistent ggml threadpools, one per phase, so
 * both counts apply as set and more than one thread pays. node-llama-cpp's prebuilt binary has neither: one count
 * for both phases, and every llama_decode with threads > 1 creates and joins its worker threads on whichever libuv
 * pool thread runs it, so consecutive decodes hop between threads and ggml's spin barriers wait for descheduled
 * workers — 3× slower than 1 thread on a 2-vCPU machine, reproduced in plain C (bench/native). That is why the
 * prebuilt keeps 1 thread on ≤ 2 cores. On GPU backends the GPU does the work and node-llama-cpp's default stands.
 *
 * - `chooseThreads` is the pure policy (no I/O): configured > GPU default > CPU heuristic, plus the candidates
 *   worth calibrating on this CPU.
 * - `calibrateThreads` decodes a few steps at each candidate (interleaved, median) and keeps the faster,
 *   preferring fewer threads unless more are clearly faster. Run it once per model at load.
 * - `createContextProbeFactory` is the probe for a loaded node-llama-cpp model (public API only).
 */
import os from 'node:os';
import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import type { Backend } from './llama.ts';

export interface ThreadChoice {
  /** Threads for single-token decodes. Undefined: leave node-llama-cpp's own default. */
  threads: number | undefined;
  /** For the startup log and deep health: which rule chose it. */
  reason: string;
  /** When set, calibrating among these at model load is worthwhile (CPU, chosen automatically, > 1 core). */
  calibrationCandidates?: readonly number[];
  /** Threads for batches of more than one token (prompt evaluation, streams decoded together); undefined: as threads. */
  batchThreads?: number;
  /** Which rule chose batchThreads. */
  batchReason: string;
}

export interface ThreadPolicyInput {
  backend: Backend;
  /** engine.threads: 0 = choose automatically. */
  configured: number;
  /** Cores this process may use; default os.availableParallelism(). */
  cpuCount?: number;
  /** Threads of libuv's pool, where the addon runs each decode; default libuvPoolSize(). */
  libuvPool?: number;
  /** The addon attaches persistent threadpools per context and takes batch threads (LMX's build). */
  persistentThreadpool?: boolean;
}

/**
 * Decode threads on a 2-core CPU with persistent threadpools, before calibration (which keeps 2 only when it is
 * ≥ 10 % faster at load). Measured on a shared 2-vCPU machine (bench/engine-study.md): 2 threads won on a quiet
 * machine in the run, lost (89 vs 127 tok/s) under load 7; 1 degrades gracefully, so it is the start.
 */
export const persistentPoolDecodeThreadsOnTwoCores = 1;

/** libuv's pool size as libuv reads it (uv_threadpool init): 4, or atoi(UV_THREADPOOL_SIZE) with 0 → 1, ≤ 1024. */
export function libuvPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.UV_THREADPOOL_SIZE;
  if (raw === undefined) return 4;
  const value = Number.parseInt(raw.trim(), 10);
  if (!Number.isFinite(value) || value === 0) return 1;
  // A negative value wraps around in libuv's unsigned count and is clamped to the maximum.
  return value < 0 ? 1024 : Math.min(value, 1024);
}

/** Pure policy; see the module comment and bench/engine-study.md for the figures behind it. */
export function chooseThreads({
  backend,
  configured,
  cpuCount = os.availableParallelism(),
  libuvPool = libuvPoolSize(),
  persistentThreadpool = false,
}: ThreadPolicyInput): ThreadChoice {
  const cores = Math.max(1, Math.floor(cpuCount));
  const batch = batchThreadsFor(backend, cores, persistentThreadpool);
  if (Number.isInteger(configured) && configured > 0)
    return { threads: configured, reason: 'configured (engine.threads)', ...batch };
  if (backend !== 'cpu')
    return {
      threads: undefined,
      reason: `${backend}: the GPU does the work; node-llama-cpp's default`,
      ...batch,
    };
  if (cores === 1) return { threads: 1, reason: 'cpu: 1 core', ...batch };
  const candidates = threadCandidates(cores);
  if (persistentThreadpool) {
    const threads =
      cores <= 2 ? Math.min(cores, persistentPoolDecodeThreadsOnTwoCores) : Math.floor(cores / 2);
    return {
      threads,
      reason: `cpu: ${cores} cores, persistent threadpool: ${threads} (calibrated at load among ${candidates.join(', ')})`,
      calibrationCandidates: candidates,
      ...batch,
    };
  }
  if (cores <= 2)
    return {
      threads: 1,
      reason:
        libuvPool === 1
          ? `cpu: ${cores} cores; decodes stay on libuv's one pool thread (UV_THREADPOOL_SIZE=1): 1 or ${cores} threads, calibrated`
          : `cpu: ${cores} cores, prebuilt addon (no persistent threadpool): decodes hop between libuv's ${libuvPool} pool threads, where more than 1 decode thread collapses (UV_THREADPOOL_SIZE=1 avoids it)`,
      calibrationCandidates: candidates,
      ...batch,
    };
  const half = Math.floor(cores / 2);
  return {
    threads: half,
    reason: `cpu: ${cores} cores; half of them (unmeasured above 2 cores: calibrate)`,
    calibrationCandidates: candidates,
    ...batch,
  };
}

/** Batch threads: every core with persistent threadpools on the CPU; otherwise the decode count. */
function batchThreadsFor(
  backend: Backend,
  cores: number,
  persistentThreadpool: boolean,
): Pick<ThreadChoice, 'batchThreads' | 'batchReason'> {
  if (backend !== 'cpu') return { batchThreads: undefined, batchReason: `${backend}: as threads` };
  if (!persistentThreadpool)
    return {
      batchThreads: undefined,
      batchReason: 'prebuilt addon: one thread count for every phase (it cannot set batch threads)',
    };
  return {
    batchThreads: cores,
    batchReason: `every core (${cores}): prompt evaluation is compute-bound, and the persistent threadpool keeps its workers between batches`,
  };
}

/** 1, half the cores and all but one (leaving one for the JS thread and I/O), deduplicated, ascending. */
export function threadCandidates(cores: number): number[] {
  const n = Math.max(1, Math.floor(cores));
  const set = new Set([1, Math.max(1, Math.floor(n / 2)), n <= 2 ? n : n - 1]);
  return [...set].sort((a, b) => a - b);
}

/** One decode step at a fixed thread count; created per candidate by the factory, disposed by the calibration. */
export interface ThreadProbe {
  step(): Promise<void>;
  dispose(): Promise<void> | void;
}
export type ThreadProbeFactory = (threads: number) => Promise<ThreadProbe>;

export interface CalibrationOptions {
  /** Untimed steps per candidate first (page faults, first-call costs). Default 1. */
  warmupSteps?: number;
  /** Timed steps per candidate per round (a step decodes a lone token and a full batch). Default 2. */
  steps?: number;
  /** Rounds; candidates interleave within a round so machine noise hits them alike. Default 3. */
  rounds?: number;
  /** More threads must be at least this much faster (fraction) to be chosen over fewer. Default 0.1. */
  minGain?: number;
  /** Clock in ms (tests inject one). */
  now?: () => number;
}

export interface CalibrationResult {
  reason: string;
  threads: number;
  /** Median ms per decode step per candidate that could be measured. */
  measurements: { threads: number; msPerStep: number }[];
}

/**
 * Decodes a few steps at each candidate and keeps the fastest (fewer threads unless more are ≥ minGain faster).
 * Bounded: candidates × (warmupSteps + rounds × steps) decode steps. A candidate whose probe fails is skipped;
 * if none can be measured the smallest candidate is returned with the error in the reason.
 */
export async function calibrateThreads(
  createProbe: ThreadProbeFactory,
  candidates: readonly number[],
  options: CalibrationOptions = {},
): Promise<CalibrationResult> {
  const { warmupSteps = 1, steps = 2, rounds = 3, minGain = 0.1, now = () => performance.now() } = options;
  const sorted = [...new Set(candidates.filter((c) => Number.isInteger(c) && c > 0))].sort((a, b) => a - b);
  const fallback = sorted[0] ?? 1;
  const probes = new Map<number, ThreadProbe>();
  const samples = new Map<number, number[]>();
  const failures: string[] = [];
  const drop = async (threads: number, error: unknown): Promise<void> => {
    failures.push(`${threads}: ${error instanceof Error ? error.message : String(error)}`);
    samples.delete(threads);
    const probe = probes.get(threads);
    probes.delete(threads);
    await probe?.dispose();
  };
  try {
    for (const threads of sorted) {
      try {
        const probe = await createProbe(threads);
        probes.set(threads, probe);
        for (let i = 0; i < warmupSteps; i++) await probe.step();
      } catch (error) {
        await drop(threads, error);
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const [threads, probe] of [...probes]) {
        try {
          const start = now();
          for (let i = 0; i < steps; i++) await probe.step();
          samples.set(threads, [...(samples.get(threads) ?? []), (now() - start) / Math.max(1, steps)]);
        } catch (error) {
          await drop(threads, error);
        }
      }
    }
  } finally {
    for (const probe of probes.values()) await probe.dispose();
  }
  const measurements = [...samples].map(([threads, ms]) => ({ threads, msPerStep: median(ms) }));
  if (measurements.length === 0)
    return {
      threads: fallback,
      reason: `calibration failed (${failures.join('; ') || 'no candidates'}); using ${fallback}`,
      measurements,
    };
  let best = measurements[0] as { threads: number; msPerStep: number };
  for (const m of measurements.slice(1)) if (m.msPerStep < best.msPerStep * (1 - minGain)) best = m;
  const table = measurements.map((m) => `${m.threads}t ${m.msPerStep.toFixed(2)} ms/step`).join(', ');
  return { threads: best.threads, reason: `calibrated: ${table} → ${best.threads}`, measurements };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/**
 * Probes for a loaded model: a small one-sequence context per candidate; a step is one decode of 1 token (a lone
 * stream) and, unless batches have threads of their own (`batchThreads`, LMX's build), one of `batchTokens`
 * tokens (the server's parallel sequences, all busy), without sampling: the phases the thread count changes.
 * History is cleared before it fills.
 */
export function createContextProbeFactory(
  model: LlamaModel,
  batchTokens = 1,
  batchThreads?: number,
  contextSize = 128,
): ThreadProbeFactory {
  const token: Token = model.tokens.bos ?? model.tokenize('a', false)[0] ?? (0 as Token);
  const batchLength = batchThreads === undefined ? Math.max(1, Math.min(batchTokens, 16)) : 1;
  const batch = Array.from({ length: batchLength }, () => token);
  return async (threads) => {
    const context: LlamaContext = await model.createContext({
      contextSize,
      sequences: 1,
      threads,
      batchThreads,
    });
    const sequence: LlamaContextSequence = context.getSequence();
    return {
      async step() {
        if (sequence.nextTokenIndex >= contextSize - 2 - batch.length) await sequence.clearHistory();
        await sequence.evaluateWithoutGeneratingNewTokens([token]);
        if (batch.length > 1) await sequence.evaluateWithoutGeneratingNewTokens(batch);
      },
      async dispose() {
        await context.dispose();
      },
    };
  };
}
