import { distribution } from './percentiles.ts';
import type { Phase } from './run-phase.ts';
import { outcomeClasses, type Distribution, type OutcomeClass, type RequestRecord } from './types.ts';

/** A phase as it ran: when, and what its requests measured. Times relative to the run start. */
export interface PhaseResult {
  phase: Phase;
  startedMs: number;
  endedMs: number;
  records: RequestRecord[];
}

/** The figures of a set of requests over the time they ran. */
export interface Figures {
  requests: number;
  outcomes: Record<OutcomeClass, number>;
  /** Share of requests that did not end ok. */
  errorRate: number;
  /** Error codes seen (queue_full, queue_timeout, ECONNREFUSED, client_timeout…) and their counts. */
  errorCodes: Record<string, number>;
  /** Over successful requests only. */
  ttftMs?: Distribution;
  tpotMs?: Distribution;
  interTokenMs?: Distribution;
  latencyMs?: Distribution;
  /** How long refused requests (429 / 503) waited for their refusal. */
  refusalLatencyMs?: Distribution;
  outputTokens: number;
  /** Seconds the phases of this set were running (interleaved targets do not share seconds). */
  activeSeconds: number;
  outputTokensPerSecond: number;
  requestsPerSecond: number;
}

export function figures(records: readonly RequestRecord[], activeSeconds: number): Figures {
  const outcomes = Object.fromEntries(outcomeClasses.map((name) => [name, 0])) as Record<
    OutcomeClass,
    number
  >;
  const errorCodes: Record<string, number> = {};
  for (const record of records) {
    outcomes[record.outcome.class]++;
    if (record.outcome.class !== 'ok') {
      const code = record.outcome.code ?? `http_${record.outcome.status ?? 'error'}`;
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    }
  }
  const ok = records.filter((record) => record.outcome.class === 'ok');
  const refused = records.filter(
    (record) => record.outcome.class === 'rate_limited' || record.outcome.class === 'unavailable',
  );
  const outputTokens = records.reduce((sum, record) => sum + record.outputTokens, 0);
  const pick = (values: (number | undefined)[]) => distribution(values.filter((v) => v !== undefined));
  return {
    requests: records.length,
    outcomes,
    errorRate: records.length === 0 ? 0 : (records.length - ok.length) / records.length,
    errorCodes,
    ttftMs: pick(ok.map((record) => record.ttftMs)),
    tpotMs: pick(ok.map((record) => record.tpotMs)),
    interTokenMs: distribution(ok.flatMap((record) => record.interTokenMs)),
    latencyMs: pick(ok.map((record) => record.latencyMs)),
    refusalLatencyMs: pick(refused.map((record) => record.latencyMs)),
    outputTokens,
    activeSeconds,
    outputTokensPerSecond: activeSeconds > 0 ? outputTokens / activeSeconds : 0,
    requestsPerSecond: activeSeconds > 0 ? ok.length / activeSeconds : 0,
  };
}

/** Figures per group of phases (by target, by step, …); seconds are the sum of the group's phases. */
export function figuresBy<K extends string>(
  results: readonly PhaseResult[],
  key: (result: PhaseResult) => K,
): Map<K, Figures> {
  const groups = new Map<K, PhaseResult[]>();
  for (const result of results) {
    const name = key(result);
    groups.set(name, [...(groups.get(name) ?? []), result]);
  }
  return new Map(
    [...groups].map(([name, group]) => [
      name,
      figures(
        group.flatMap((result) => result.records),
        group.reduce((sum, result) => sum + (result.endedMs - result.startedMs) / 1000, 0),
      ),
    ]),
  );
}

/**
 * Figures per model: models share their phases' time (requests to several models run side by side),
 * so each model's rate is over the whole time of the phases it appeared in.
 */
export function figuresByModel(results: readonly PhaseResult[], target: string): Map<string, Figures> {
  const ofTarget = results.filter((result) => result.phase.target === target);
  const seconds = ofTarget.reduce((sum, result) => sum + (result.endedMs - result.startedMs) / 1000, 0);
  const models = new Map<string, RequestRecord[]>();
  for (const record of ofTarget.flatMap((result) => result.records)) {
    models.set(record.model, [...(models.get(record.model) ?? []), record]);
  }
  return new Map([...models].map(([model, records]) => [model, figures(records, seconds)]));
}

export interface Timeline {
  bucketMs: number;
  /** Per target: output tokens/s and completed requests per bucket, from the run start. */
  series: Record<string, { tokensPerSecond: number[]; completed: number[] }>;
}

/** Throughput over time: content chunks placed in time buckets (weighted when usage says a chunk held more). */
export function timeline(records: readonly RequestRecord[], runMs: number, maxBuckets = 120): Timeline {
  // Quarter-second buckets for runs of seconds and more; a short run (a fast model) gets 10 ms steps, so
  // that it still has a curve rather than a single point.
  const step = runMs >= 2500 ? 250 : 10;
  const bucketMs = Math.max(step, Math.ceil(runMs / maxBuckets / step) * step);
  const count = Math.max(2, Math.ceil(runMs / bucketMs));
  const series: Timeline['series'] = {};
  for (const record of records) {
    const entry = (series[record.target] ??= {
      tokensPerSecond: new Array<number>(count).fill(0),
      completed: new Array<number>(count).fill(0),
    });
    const chunks = record.chunkOffsetsMs.length;
    const weight = chunks > 0 ? record.outputTokens / chunks : 0;
    for (const offset of record.chunkOffsetsMs) {
      const index = Math.min(count - 1, Math.floor((record.startMs + offset) / bucketMs));
      entry.tokensPerSecond[index] = (entry.tokensPerSecond[index] ?? 0) + weight / (bucketMs / 1000);
    }
    if (record.outcome.class === 'ok') {
      const index = Math.min(count - 1, Math.floor((record.startMs + record.latencyMs) / bucketMs));
      entry.completed[index] = (entry.completed[index] ?? 0) + 1;
    }
  }
  return { bucketMs, series };
}

/** Candidate ÷ baseline for the headline figures (B ÷ A): above 1 means B's figure is larger. */
export function ratios(baseline: Figures, candidate: Figures): Record<string, number | null> {
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || a === 0 ? null : b / a;
  return {
    ttftP50: ratio(baseline.ttftMs?.p50, candidate.ttftMs?.p50),
    ttftP95: ratio(baseline.ttftMs?.p95, candidate.ttftMs?.p95),
    tpotP50: ratio(baseline.tpotMs?.p50, candidate.tpotMs?.p50),
    tpotP95: ratio(baseline.tpotMs?.p95, candidate.tpotMs?.p95),
    latencyP50: ratio(baseline.latencyMs?.p50, candidate.latencyMs?.p50),
    latencyP95: ratio(baseline.latencyMs?.p95, candidate.latencyMs?.p95),
    outputTokensPerSecond: ratio(baseline.outputTokensPerSecond, candidate.outputTokensPerSecond),
    requestsPerSecond: ratio(baseline.requestsPerSecond, candidate.requestsPerSecond),
    errorRate: ratio(baseline.errorRate, candidate.errorRate),
  };
}
