import type { MachineInfo } from '../loadgen/machine.ts';
import type { Distribution } from '../loadgen/types.ts';
import type { EngineFigures } from './engine-ratios.ts';
import type { InProcessResult } from './in-process.ts';

/** Headline figures of one suite case; the full `lmx bench` report of the case is at `report`. */
export interface CaseFigures {
  name: string;
  scenario: string;
  concurrency: number;
  maxTokens: number;
  requests: number;
  ok: number;
  refused: number;
  errors: number;
  errorCodes: Record<string, number>;
  ttftP50Ms?: number;
  ttftP95Ms?: number;
  tpotP50Ms?: number;
  latencyP95Ms?: number;
  /** Per stream: 1000 ÷ TPOT p50. */
  decodeTokensPerSecond?: number;
  /** All streams together, over the time the case ran. */
  outputTokensPerSecond: number;
  requestsPerSecond: number;
  refusalP50Ms?: number;
  refusalP99Ms?: number;
  /** Pressure only: GET /healthz (autocannon) while the admission queue was full. */
  healthz?: Pick<Distribution, 'mean' | 'p50' | 'p90' | 'p99' | 'max'> & { requests: number };
  /** Pressure only: extra inference requests (autocannon) while the queue was full. */
  excess?: Pick<Distribution, 'mean' | 'p50' | 'p90' | 'p99' | 'max'> & {
    requests: number;
    statusCounts: Record<string, number>;
  };
  queueFullSeen?: boolean;
  truncated: boolean;
  durationSeconds: number;
  /** Relative to the results directory. */
  report: string;
}

export interface ModelRun {
  model: { name: string; file: string; bytes: number; parameters: number; trainContextSize: number };
  cases: CaseFigures[];
  /** node-llama-cpp in-process, single stream, interleaved with `overHttp`. */
  inProcess?: InProcessResult;
  /** Single-stream HTTP requests made in the same rounds as `inProcess`. */
  overHttp?: { requests: number; ttftMs?: Distribution; decodeTokensPerSecond?: Distribution };
  /** HTTP ÷ in-process, single stream: decode tok/s (below 1: the server is slower) and TTFT p50 (above 1: slower). */
  overhead?: { decodeRatio?: number; ttftRatio?: number };
  /** Fixed-length greedy decode at 1 and 4 streams: LMX next to the addon floor and the peer (issue 8). */
  engine?: EngineFigures;
}

export interface SuiteResult {
  schema: 'lmx-bench-suite/1';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  settings: {
    threads: number;
    threadPolicy: string;
    gpu: string;
    parallel: number;
    maxQueued: number;
    contextSize: number;
    maxTokens: number;
    prompt: string;
    endpoint: string;
    caseSeconds: number;
    quick: boolean;
    rateLimit: string;
  };
  models: ModelRun[];
}
