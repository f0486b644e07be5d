import { machineInfo, type MachineInfo } from './machine.ts';
import { probeUnderPressure, type PressureProbe } from './pressure.ts';
import type { BenchPrompt } from './prompts.ts';
import { runPhase, type Phase } from './run-phase.ts';
import { planPhases, type ScenarioName } from './scenarios.ts';
import { runStreamingRequest, type Endpoint, type RequestSpec } from './stream-request.ts';
import {
  figures,
  figuresBy,
  figuresByModel,
  ratios,
  timeline,
  type Figures,
  type PhaseResult,
  type Timeline,
} from './summarize.ts';
import { listModels, TargetError, type BenchTarget } from './target.ts';
import type { RequestRecord } from './types.ts';

export interface BenchOptions {
  /** 'A' first; 'B' is the --compare target. */
  targets: BenchTarget[];
  /** Model ids; empty: the first model each target lists (model-churn: every listed model). */
  models: string[];
  scenario: ScenarioName;
  concurrency: number;
  /** Requests per target (ramp: per step). */
  requests: number;
  /** Time bound of the whole run. */
  durationMs: number;
  maxTokens: number;
  /** How the prompts were chosen (short, medium, long or a file), recorded in the result. */
  promptSet: string;
  prompts: BenchPrompt[];
  endpoint: Endpoint;
  ignoreEos: boolean;
  /** Sampling temperature sent with every request; undefined: the server's default. */
  temperature?: number;
  includeUsage: boolean;
  timeoutMs: number;
  /** One unrecorded request per target first, so lazy start-up costs are not measured. */
  warmup: boolean;
  signal?: AbortSignal;
  /** Called after every measured request (progress display). */
  onRecord?: (record: RequestRecord) => void;
  /** Called once the plan is known, with the number of requests it may send at most. */
  onPlan?: (plannedRequests: number) => void;
}

export interface BenchSettings {
  scenario: ScenarioName;
  concurrency: number;
  requests: number;
  durationMs: number;
  maxTokens: number;
  promptSet: string;
  promptCount: number;
  endpoint: Endpoint;
  ignoreEos: boolean;
  temperature?: number;
  includeUsage: boolean;
  timeoutMs: number;
  warmup: boolean;
}

export interface TargetResult {
  label: string;
  url: string;
  models: string[];
  figures: Figures;
  steps: { step: string; concurrency: number; figures: Figures }[];
  byModel: { model: string; figures: Figures }[];
}

export interface BenchResult {
  schema: 'lmx-bench/1';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  settings: BenchSettings;
  machine: MachineInfo;
  targets: TargetResult[];
  /** With --compare: B ÷ A for the headline figures. */
  comparison?: { baseline: string; candidate: string; ratios: Record<string, number | null> };
  timeline: Timeline;
  pressure: PressureProbe[];
  /** Whether the run was stopped early (time bound or cancellation) before all planned requests. */
  truncated: boolean;
  /** Every measured request, without per-chunk offsets (the timeline holds those). */
  requests: Omit<RequestRecord, 'chunkOffsetsMs'>[];
}

/** Runs a scenario against one or two targets and computes every figure of the report. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  let startedAt = new Date();
  let runStartedAt = performance.now();
  let deadline = runStartedAt + options.durationMs;
  const models = await resolveModels(options);
  const phases = planPhases({
    scenario: options.scenario,
    concurrency: options.concurrency,
    requests: options.requests,
    targets: options.targets.map((target) => target.label),
  });
  options.onPlan?.(phases.reduce((sum, phase) => sum + phase.requests, 0));
  const byLabel = new Map(options.targets.map((target) => [target.label, target]));
  const counters = new Map<string, number>();

  const specFor = (phase: Phase, step: string, maxTokens = options.maxTokens): RequestSpec => {
    const target = byLabel.get(phase.target) as BenchTarget;
    const targetModels = models.get(phase.target) as string[];
    const index = counters.get(phase.target) ?? 0;
    counters.set(phase.target, index + 1);
    return {
      target,
      model: targetModels[index % targetModels.length] as string,
      prompt: options.prompts[index % options.prompts.length] as BenchPrompt,
      endpoint: options.endpoint,
      maxTokens,
      ignoreEos: options.ignoreEos,
      temperature: options.temperature,
      includeUsage: options.includeUsage,
      timeoutMs: options.timeoutMs,
      step,
      runStartedAt,
      signal: options.signal,
    };
  };

  if (options.warmup) {
    for (const phase of phases.filter((p, i) => phases.findIndex((q) => q.target === p.target) === i)) {
      await runStreamingRequest(specFor(phase, 'warmup', Math.min(8, options.maxTokens)));
    }
    counters.clear();
    // The clock of the measured run starts after the warm-up; its time still counts against the bound.
    startedAt = new Date();
    runStartedAt = performance.now();
    deadline = Math.max(runStartedAt, deadline);
  }

  const results: PhaseResult[] = [];
  const probes: PressureProbe[] = [];
  for (const phase of phases) {
    if (performance.now() >= deadline || options.signal?.aborted) break;
    const startedMs = performance.now() - runStartedAt;
    let refusalSeen = false;
    let running = true;
    const onRecord = (record: RequestRecord) => {
      if (record.outcome.class === 'rate_limited') refusalSeen = true;
      options.onRecord?.(record);
    };
    const work = runPhase(
      phase,
      (p) => runStreamingRequest(specFor(p, p.step)),
      { deadline, signal: options.signal },
      onRecord,
    ).finally(() => (running = false));
    if (options.scenario === 'pressure') {
      const target = byLabel.get(phase.target) as BenchTarget;
      await waitFor(() => refusalSeen || !running, 2_000);
      if (running) {
        probes.push(
          await probeUnderPressure(
            {
              target,
              model: (models.get(phase.target) as string[])[0] as string,
              endpoint: options.endpoint,
              prompt: options.prompts[0] as BenchPrompt,
              maxDurationMs: 3_000,
            },
            { queueFullSeen: () => refusalSeen, loadRunning: () => running },
          ),
        );
      }
    }
    const records = await work;
    results.push({ phase, startedMs, endedMs: performance.now() - runStartedAt, records });
  }

  return buildResult({
    options,
    phases,
    results,
    probes,
    models,
    startedAt,
    runMs: performance.now() - runStartedAt,
  });
}

export interface ResultParts {
  options: Omit<BenchOptions, 'signal' | 'onRecord' | 'onPlan'>;
  phases: readonly Phase[];
  results: readonly PhaseResult[];
  probes: PressureProbe[];
  models: Map<string, string[]>;
  startedAt: Date;
  runMs: number;
}

/** Every figure of the report, from what the phases measured. Pure: report tests build results with it. */
export function buildResult({
  options,
  phases,
  results,
  probes,
  models,
  startedAt,
  runMs,
}: ResultParts): BenchResult {
  const allRecords = results.flatMap((result) => result.records);
  const perTarget = figuresBy(results, (result) => result.phase.target);
  const targets: TargetResult[] = options.targets.map((target) => {
    const ofTarget = results.filter((result) => result.phase.target === target.label);
    const steps = figuresBy(ofTarget, (result) => result.phase.step);
    return {
      label: target.label,
      url: target.baseUrl,
      models: models.get(target.label) ?? [],
      figures: perTarget.get(target.label) ?? figures([], 0),
      steps: [...steps].map(([step, stepFigures]) => ({
        step,
        concurrency: ofTarget.find((result) => result.phase.step === step)?.phase.concurrency ?? 0,
        figures: stepFigures,
      })),
      byModel: [...figuresByModel(results, target.label)].map(([model, modelFigures]) => ({
        model,
        figures: modelFigures,
      })),
    };
  });
  const [baseline, candidate] = targets;
  const planned = phases.reduce((sum, phase) => sum + phase.requests, 0);
  return {
    schema: 'lmx-bench/1',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date(startedAt.getTime() + runMs).toISOString(),
    durationSeconds: runMs / 1000,
    settings: {
      scenario: options.scenario,
      concurrency: options.concurrency,
      requests: options.requests,
      durationMs: options.durationMs,
      maxTokens: options.maxTokens,
      promptSet: options.promptSet,
      promptCount: options.prompts.length,
      endpoint: options.endpoint,
      ignoreEos: options.ignoreEos,
      temperature: options.temperature,
      includeUsage: options.includeUsage,
      timeoutMs: options.timeoutMs,
      warmup: options.warmup,
    },
    machine: machineInfo(),
    targets,
    comparison:
      baseline && candidate
        ? {
            baseline: baseline.label,
            candidate: candidate.label,
            ratios: ratios(baseline.figures, candidate.figures),
          }
        : undefined,
    timeline: timeline(allRecords, runMs),
    pressure: probes,
    truncated: allRecords.length < planned,
    requests: allRecords.map(({ chunkOffsetsMs: _offsets, ...rest }) => rest),
  };
}

async function resolveModels(options: BenchOptions): Promise<Map<string, string[]>> {
  const models = new Map<string, string[]>();
  for (const target of options.targets) {
    let ids = options.models;
    if (ids.length === 0) {
      const listed = await listModels(target);
      if (listed.length === 0) throw new TargetError(`${target.baseUrl} lists no models; pass --model`);
      ids = options.scenario === 'model-churn' ? listed : listed.slice(0, 1);
    }
    if (options.scenario === 'model-churn' && ids.length < 2) {
      throw new TargetError('model-churn needs at least two models (repeat --model)');
    }
    models.set(target.label, ids);
  }
  return models;
}

/** Polls a condition every 10 ms until it holds or the bound passes. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!condition() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
}
