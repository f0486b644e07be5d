/** Shared shapes of the load generator: what one request measured, and what a run reports. */

/** How one request ended, in the classes the report counts. */
export type OutcomeClass = 'ok' | 'rate_limited' | 'unavailable' | 'error' | 'timeout';

export const outcomeClasses: readonly OutcomeClass[] = [
  'ok',
  'rate_limited',
  'unavailable',
  'error',
  'timeout',
];

/** Human labels of the classes: 429 and 503 are named by status, as people look for them. */
export const outcomeLabels: Record<OutcomeClass, string> = {
  ok: 'ok',
  rate_limited: '429',
  unavailable: '503',
  error: 'other error',
  timeout: 'client timeout',
};

export interface Outcome {
  class: OutcomeClass;
  /** HTTP status when a response arrived. */
  status?: number;
  /** The OpenAI error `code` (queue_full, queue_timeout, …) or a transport error name. */
  code?: string;
  message?: string;
}

/** Everything measured for one request; times in milliseconds. */
export interface RequestRecord {
  /** Which target answered: 'A' (the --url) or 'B' (the --compare url). */
  target: string;
  /** Scenario step (ramp step, churn, burst round…), so figures can be split per step. */
  step: string;
  model: string;
  /** Start, relative to the start of the run. */
  startMs: number;
  /** Until the response ended or failed. */
  latencyMs: number;
  /** Until the first content token (not the role-only opening chunk); undefined if none came. */
  ttftMs?: number;
  /** Gaps between consecutive content chunks. */
  interTokenMs: number[];
  /** (latency − TTFT) / (output tokens − 1); undefined below two tokens. */
  tpotMs?: number;
  outputTokens: number;
  /** Where outputTokens came from: the server's `usage`, or counted content chunks. */
  tokenSource: 'usage' | 'chunks';
  promptTokens?: number;
  /** Offsets (from startMs) of each content chunk: throughput over time is built from these. */
  chunkOffsetsMs: number[];
  outcome: Outcome;
}

/** p50 / p95 / p99 / max (and friends) of one quantity. */
export interface Distribution {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}
