import type { BenchResult } from './bench-run.ts';
import type { Figures } from './summarize.ts';
import { formatNumber } from './svg-charts.ts';
import { outcomeClasses, outcomeLabels, type Distribution } from './types.ts';

/** The figures of a run as terminal text: one column per target, ratios when two were compared. */
export function formatSummary(result: BenchResult): string {
  const columns = result.targets.map((target) => rows(target.figures));
  const ratios = result.comparison?.ratios;
  const ratioFor: Record<string, number | null | undefined> = ratios
    ? {
        'TTFT ms': ratios.ttftP50,
        'TPOT ms': ratios.tpotP50,
        'latency ms': ratios.latencyP50,
        'output tok/s': ratios.outputTokensPerSecond,
        'requests/s': ratios.requestsPerSecond,
      }
    : {};
  const head = ['', ...result.targets.map((t) => `${t.label} ${t.url}`), ...(ratios ? ['B÷A (p50)'] : [])];
  const table = (columns[0] ?? []).map(([name], index) => [
    name,
    ...columns.map((column) => column[index]?.[1] ?? ''),
    ...(ratios ? [ratioFor[name] == null ? '' : `${(ratioFor[name] as number).toFixed(2)}×`] : []),
  ]);
  const all = [head, ...table];
  const widths = head.map((_, col) => Math.max(...all.map((row) => (row[col] ?? '').length)));
  const lines = all.map((row) =>
    row
      .map((cell, col) => cell.padEnd(widths[col] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const s = result.settings;
  const intro =
    `${s.scenario}: concurrency ${s.concurrency}, ${s.requests} requests/target, max_tokens ${s.maxTokens}, ` +
    `prompts ${s.promptSet}, ${result.durationSeconds.toFixed(1)} s${result.truncated ? ' (stopped early by the time bound)' : ''}`;
  const steps = result.targets.flatMap((target) =>
    target.steps.length < 2
      ? []
      : target.steps.map(
          (step) =>
            `  ${target.label} ${step.step.padEnd(10)} tok/s ${formatNumber(step.figures.outputTokensPerSecond).padStart(7)}` +
            `  TTFT p95 ${dist(step.figures.ttftMs, 'p95').padStart(7)} ms  errors ${(step.figures.errorRate * 100).toFixed(1)} %`,
        ),
  );
  const probes = result.pressure.map(
    (probe) =>
      `  ${probe.target} /healthz p99 ${formatNumber(probe.healthz.latencyMs.p99)} ms (${probe.healthz.requests} req); ` +
      `excess requests p50 ${formatNumber(probe.excess.latencyMs.p50)} ms p99 ${formatNumber(probe.excess.latencyMs.p99)} ms, statuses ` +
      Object.entries(probe.excess.statusCounts)
        .map(([status, count]) => `${status}×${count}`)
        .join(' ') +
      (probe.queueFullSeen ? '' : ' (queue never seen full)'),
  );
  return [
    intro,
    ...lines,
    ...(steps.length ? ['per step:', ...steps] : []),
    ...(probes.length ? ['under pressure:', ...probes] : []),
  ].join('\n');
}

function dist(d: Distribution | undefined, key: keyof Distribution): string {
  return d ? formatNumber(d[key]) : '—';
}

function rows(f: Figures): [string, string][] {
  const triple = (d: Distribution | undefined) =>
    d ? `${dist(d, 'p50')} / ${dist(d, 'p95')} / ${dist(d, 'p99')} / ${dist(d, 'max')}` : '—';
  const errors = Object.entries(f.errorCodes)
    .map(([code, count]) => `${code}×${count}`)
    .join(' ');
  return [
    ['', 'p50 / p95 / p99 / max'],
    ['TTFT ms', triple(f.ttftMs)],
    ['TPOT ms', triple(f.tpotMs)],
    ['latency ms', triple(f.latencyMs)],
    ['output tok/s', formatNumber(f.outputTokensPerSecond)],
    ['requests/s', formatNumber(f.requestsPerSecond)],
    ['requests', String(f.requests)],
    ...outcomeClasses.map((name): [string, string] => [`  ${outcomeLabels[name]}`, String(f.outcomes[name])]),
    ['error codes', errors || 'none'],
  ];
}
