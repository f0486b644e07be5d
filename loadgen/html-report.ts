import type { BenchResult, TargetResult } from './bench-run.ts';
import type { Figures } from './summarize.ts';
import { barChart, cdfPoints, escapeXml, formatNumber, lineChart, seriesColors } from './svg-charts.ts';
import { outcomeClasses, outcomeLabels, type Distribution } from './types.ts';

/**
 * The self-contained HTML report: inline CSS and server-drawn SVG, no scripts and no network, so it
 * can be mailed, archived and opened anywhere. The JSON result is embedded for anyone who wants it.
 */
export function renderHtmlReport(result: BenchResult, title = 'LMX bench report'): string {
  const series = result.targets.map((target) => seriesName(target));
  const sections = [
    header(result, title),
    summaryTable(result),
    `<section><h2>Percentiles side by side</h2><div class="charts">${percentileCharts(result, series)}</div></section>`,
    `<section><h2>Latency distributions</h2><div class="charts">${distributionCharts(result, series)}</div></section>`,
    `<section><h2>Throughput over time</h2><div class="charts">${throughputChart(result, series)}</div></section>`,
    stepsSection(result, series),
    modelsSection(result),
    pressureSection(result),
    errorsSection(result),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1340px;padding:0 16px;color:#111}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f5f5f5}.muted{color:#666}
.charts{display:flex;flex-wrap:wrap;gap:12px}svg.chart{border:1px solid #e5e7eb;border-radius:4px}
svg text{font:11px system-ui,sans-serif;fill:#333}svg text.title{font-size:14px;font-weight:600}svg text.value{font-size:10px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
</style></head><body>
${sections.join('\n')}
<script type="application/json" id="bench-result">${JSON.stringify(result).replaceAll('<', '\\u003c')}</script>
</body></html>
`;
}

function seriesName(target: TargetResult): string {
  return `${target.label}: ${new URL(target.url).host}`;
}

function header(result: BenchResult, title: string): string {
  const s = result.settings;
  const m = result.machine;
  const rows: [string, string][] = [
    [
      'Scenario',
      `${s.scenario}, concurrency ${s.concurrency}, ${s.requests} requests per target${s.scenario === 'ramp' ? ' and step' : ''}`,
    ],
    ['Targets', result.targets.map((t) => `${t.label} = ${t.url} (${t.models.join(', ')})`).join('; ')],
    [
      'Requests',
      `${s.endpoint} endpoint, max_tokens ${s.maxTokens}${s.ignoreEos ? ', ignore_eos' : ''}, prompts ${s.promptSet} (${s.promptCount})`,
    ],
    [
      'Bounds',
      `run ≤ ${s.durationMs / 1000} s, request timeout ${s.timeoutMs / 1000} s${result.truncated ? ' — stopped before all planned requests' : ''}`,
    ],
    [
      'Machine',
      `${m.cpuModel} × ${m.cpuCount}, ${(m.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB, ${m.platform} ${m.arch} ${m.release}, Node ${m.node}, load ${m.loadAverage.join(' ')}`,
    ],
    ['When', `${result.startedAt} (${result.durationSeconds.toFixed(1)} s)`],
  ];
  return `<header><h1>${escapeXml(title)}</h1><table>${rows
    .map(([key, value]) => `<tr><th>${key}</th><td style="text-align:left">${escapeXml(value)}</td></tr>`)
    .join('')}</table></header>`;
}

const ms = (d: Distribution | undefined, key: keyof Distribution) => (d ? formatNumber(d[key]) : '—');

function figureRows(f: Figures): [string, string][] {
  const rows: [string, string][] = [];
  for (const [name, d] of [
    ['TTFT ms', f.ttftMs],
    ['TPOT ms', f.tpotMs],
    ['Latency ms', f.latencyMs],
  ] as const) {
    for (const key of ['p50', 'p95', 'p99', 'max'] as const) rows.push([`${name} ${key}`, ms(d, key)]);
  }
  rows.push(['Output tokens/s (aggregate)', formatNumber(f.outputTokensPerSecond)]);
  rows.push(['Requests/s (ok)', formatNumber(f.requestsPerSecond)]);
  rows.push(['Requests', String(f.requests)]);
  for (const name of outcomeClasses) rows.push([`  ${outcomeLabels[name]}`, String(f.outcomes[name])]);
  rows.push(['Error rate', `${(f.errorRate * 100).toFixed(1)} %`]);
  if (f.refusalLatencyMs)
    rows.push([
      'Refusal latency ms p50 / p99',
      `${ms(f.refusalLatencyMs, 'p50')} / ${ms(f.refusalLatencyMs, 'p99')}`,
    ]);
  return rows;
}

function summaryTable(result: BenchResult): string {
  const perTarget = result.targets.map((target) => figureRows(target.figures));
  const ratioByRow: Record<string, number | null | undefined> = result.comparison
    ? {
        'TTFT ms p50': result.comparison.ratios.ttftP50,
        'TTFT ms p95': result.comparison.ratios.ttftP95,
        'TPOT ms p50': result.comparison.ratios.tpotP50,
        'TPOT ms p95': result.comparison.ratios.tpotP95,
        'Latency ms p50': result.comparison.ratios.latencyP50,
        'Latency ms p95': result.comparison.ratios.latencyP95,
        'Output tokens/s (aggregate)': result.comparison.ratios.outputTokensPerSecond,
        'Requests/s (ok)': result.comparison.ratios.requestsPerSecond,
      }
    : {};
  const head = result.targets
    .map(
      (target, index) =>
        `<th><span class="swatch" style="background:${seriesColors[index]}"></span>${escapeXml(seriesName(target))}</th>`,
    )
    .join('');
  const body = (perTarget[0] ?? [])
    .map(([name], row) => {
      const cells = perTarget.map((rows) => `<td>${escapeXml(rows[row]?.[1] ?? '')}</td>`).join('');
      const ratio = ratioByRow[name];
      const ratioCell = result.comparison ? `<td>${ratio == null ? '' : `${ratio.toFixed(2)}×`}</td>` : '';
      return `<tr><td>${escapeXml(name)}</td>${cells}${ratioCell}</tr>`;
    })
    .join('');
  const ratioHead = result.comparison
    ? `<th>${result.comparison.candidate} ÷ ${result.comparison.baseline}</th>`
    : '';
  return `<section><h2>Summary</h2><table id="summary"><thead><tr><th>Figure</th>${head}${ratioHead}</tr></thead><tbody>${body}</tbody></table>
<p class="muted">TTFT: time to the first content token. TPOT: (latency − TTFT) ÷ (output tokens − 1). Latency figures cover successful requests; tokens/s and requests/s are over the time each target was under load.</p></section>`;
}

function percentileCharts(result: BenchResult, series: string[]): string {
  const metrics = [
    ['ttft', 'TTFT', 'ms', (f: Figures) => f.ttftMs],
    ['tpot', 'TPOT', 'ms', (f: Figures) => f.tpotMs],
    ['latency', 'Latency', 'ms', (f: Figures) => f.latencyMs],
  ] as const;
  const charts = metrics.map(([id, name, unit, pick]) =>
    barChart({
      id: `bars-${id}`,
      title: `${name} percentiles (${unit})`,
      unit,
      series,
      groups: (['p50', 'p95', 'p99', 'max'] as const).map((key) => ({
        label: key,
        values: result.targets.map((target) => pick(target.figures)?.[key] ?? null),
      })),
    }),
  );
  charts.push(
    barChart({
      id: 'bars-throughput',
      title: 'Aggregate output tokens/s',
      unit: 'tok/s',
      series,
      groups: [
        { label: 'output tokens/s', values: result.targets.map((t) => t.figures.outputTokensPerSecond) },
      ],
    }),
  );
  return charts.join('');
}

function distributionCharts(result: BenchResult, series: string[]): string {
  const ok = result.requests.filter((request) => request.outcome.class === 'ok');
  const metrics = [
    ['ttft', 'TTFT', (r: (typeof ok)[number]) => r.ttftMs],
    ['tpot', 'TPOT', (r: (typeof ok)[number]) => r.tpotMs],
    ['latency', 'Latency', (r: (typeof ok)[number]) => r.latencyMs],
  ] as const;
  return metrics
    .map(([id, name, pick]) =>
      lineChart({
        id: `cdf-${id}`,
        title: `${name}: share of requests at or below (CDF)`,
        xLabel: `${name} (ms)`,
        yLabel: '% of requests',
        stepped: true,
        yMax: 100,
        series: result.targets.map((target, index) => ({
          name: series[index] ?? target.label,
          points: cdfPoints(
            ok
              .filter((r) => r.target === target.label)
              .flatMap((r) => (pick(r) === undefined ? [] : [pick(r) as number])),
          ),
        })),
      }),
    )
    .join('');
}

function throughputChart(result: BenchResult, series: string[]): string {
  const seconds = result.timeline.bucketMs / 1000;
  return lineChart({
    id: 'timeline-tokens',
    title: `Output tokens/s over time (${seconds} s buckets)`,
    xLabel: 'seconds since start',
    yLabel: 'tokens/s',
    series: result.targets.map((target, index) => ({
      name: series[index] ?? target.label,
      points: (result.timeline.series[target.label]?.tokensPerSecond ?? []).map(
        (value, bucket): [number, number] => [(bucket + 0.5) * seconds, value],
      ),
    })),
  });
}

function stepsSection(result: BenchResult, series: string[]): string {
  const steps = [...new Set(result.targets.flatMap((target) => target.steps.map((step) => step.step)))];
  if (steps.length < 2) return '';
  const stepFigures = (target: TargetResult, step: string) =>
    target.steps.find((s) => s.step === step)?.figures;
  const charts = [
    barChart({
      id: 'steps-throughput',
      title: 'Output tokens/s per step',
      unit: 'tok/s',
      series,
      groups: steps.map((step) => ({
        label: step,
        values: result.targets.map((t) => stepFigures(t, step)?.outputTokensPerSecond ?? null),
      })),
    }),
    barChart({
      id: 'steps-ttft',
      title: 'TTFT p95 per step (ms)',
      unit: 'ms',
      series,
      groups: steps.map((step) => ({
        label: step,
        values: result.targets.map((t) => stepFigures(t, step)?.ttftMs?.p95 ?? null),
      })),
    }),
  ];
  const rows = result.targets.flatMap((target) =>
    target.steps.map(
      (step) =>
        `<tr><td>${escapeXml(`${target.label} ${step.step}`)}</td><td>${step.figures.requests}</td><td>${ms(step.figures.ttftMs, 'p50')}</td><td>${ms(step.figures.ttftMs, 'p95')}</td><td>${ms(step.figures.tpotMs, 'p50')}</td><td>${ms(step.figures.latencyMs, 'p95')}</td><td>${formatNumber(step.figures.outputTokensPerSecond)}</td><td>${(step.figures.errorRate * 100).toFixed(1)} %</td></tr>`,
    ),
  );
  return `<section><h2>Per step</h2><div class="charts">${charts.join('')}</div>
<table><thead><tr><th>Step</th><th>Requests</th><th>TTFT p50</th><th>TTFT p95</th><th>TPOT p50</th><th>Latency p95</th><th>tok/s</th><th>Errors</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function modelsSection(result: BenchResult): string {
  if (result.targets.every((target) => target.byModel.length < 2)) return '';
  const rows = result.targets.flatMap((target) =>
    target.byModel.map(
      ({ model, figures: f }) =>
        `<tr><td>${escapeXml(`${target.label} ${model}`)}</td><td>${f.requests}</td><td>${ms(f.ttftMs, 'p50')}</td><td>${ms(f.ttftMs, 'p95')}</td><td>${ms(f.latencyMs, 'p95')}</td><td>${formatNumber(f.outputTokensPerSecond)}</td><td>${(f.errorRate * 100).toFixed(1)} %</td></tr>`,
    ),
  );
  return `<section><h2>Per model</h2><table><thead><tr><th>Model</th><th>Requests</th><th>TTFT p50</th><th>TTFT p95</th><th>Latency p95</th><th>tok/s (shared time)</th><th>Errors</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function pressureSection(result: BenchResult): string {
  if (result.pressure.length === 0) return '';
  const rows = result.pressure.map((probe) => {
    const statuses = Object.entries(probe.excess.statusCounts)
      .map(([status, count]) => `${status}×${count}`)
      .join(' ');
    return `<tr><td>${escapeXml(probe.target)}</td><td>${probe.healthz.requests}</td><td>${formatNumber(probe.healthz.latencyMs.p50)}</td><td>${formatNumber(probe.healthz.latencyMs.p99)}</td><td>${probe.excess.requests}</td><td>${escapeXml(statuses)}</td><td>${formatNumber(probe.excess.latencyMs.p50)}</td><td>${formatNumber(probe.excess.latencyMs.p99)}</td><td>${probe.queueFullSeen ? 'yes' : 'no'}</td><td>${probe.loadStillRunning ? 'yes' : 'no'}</td></tr>`;
  });
  return `<section><h2>Under pressure (autocannon)</h2><table><thead><tr><th>Target</th><th>/healthz requests</th><th>p50 ms</th><th>p99 ms</th><th>Excess requests</th><th>Statuses</th><th>p50 ms</th><th>p99 ms</th><th>Queue full seen</th><th>Load still running</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function errorsSection(result: BenchResult): string {
  const rows = result.targets.flatMap((target) =>
    Object.entries(target.figures.errorCodes).map(
      ([code, count]) =>
        `<tr><td>${escapeXml(target.label)}</td><td>${escapeXml(code)}</td><td>${count}</td></tr>`,
    ),
  );
  if (rows.length === 0) return '<section><h2>Errors</h2><p>None.</p></section>';
  return `<section><h2>Errors</h2><table><thead><tr><th>Target</th><th>Code</th><th>Count</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}
